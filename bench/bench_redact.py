"""Redaction throughput on realistic tool output, and what known values add to a decision.

    python -m bench.bench_redact

A 1 MB build log (compiler lines, pip and npm output, test results, a token every few
hundred lines) is redacted with the full pattern set, with and without 100 known
values (the vault's); and one decision's audit payload is redacted with and without
them, interleaved in one run (the audit writer redacts every payload before it hashes
it). Never asserts timings.
"""

from __future__ import annotations

import json
import os
import platform
import random
import secrets
import statistics
import time
from collections.abc import Callable

from bench.bench_audit import sample
from bench.common import write_result
from stockade.redact import Redactor

ROUNDS = 5
PAYLOADS = 20_000


def build_log(size: int = 1_000_000) -> str:
    """``size`` characters of a CI log; 1 line in 300 carries a secret."""
    rng = random.Random(5)
    leaks = [
        "export NPM_TOKEN=npm_" + "x" * 36,
        "remote: https://ci:hunter2hunter2@git.example.com/org/repo.git",
        "curl -H 'Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln' $URL",
        "AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE",
    ]
    shapes: list[Callable[[int], str]] = [
        lambda n: f"gcc -O2 -Wall -Iinclude -c src/mod_{n % 311}.c -o build/mod_{n % 311}.o",
        lambda n: f"src/mod_{n % 311}.c:{n % 900}:12: warning: unused variable 'tmp{n % 7}'",
        lambda n: f"   Compiling crate-{n % 500} v1.{n % 40}.{n % 9} (/src/crate-{n % 500})",
        lambda n: (
            f"Collecting package-{n % 800}>=2.{n % 30} (from -r requirements.txt (line {n % 60}))"
        ),
        lambda n: (
            f"  Downloading https://files.pythonhosted.org/packages/{rng.getrandbits(64):016x}/"
            f"package_{n % 800}-2.{n % 30}.0-py3-none-any.whl ({n % 900} kB)"
        ),
        lambda n: f"npm WARN deprecated inflight@1.0.{n % 9}: This module is not supported",
        lambda n: f"added {n % 1000} packages, audited {n % 1500} packages in {n % 60}s",
        lambda n: f"tests/test_mod_{n % 97}.py::test_case_{n} PASSED [{n % 100:3d}%]",
        lambda n: f"commit {rng.getrandbits(160):040x} sha256:{rng.getrandbits(256):064x}",
    ]
    lines: list[str] = []
    length = 0
    while length < size:
        n = len(lines)
        line = leaks[n // 300 % len(leaks)] if n % 300 == 299 else rng.choice(shapes)(n)
        lines.append(line)
        length += len(line) + 1
    return "\n".join(lines)[:size]


def mb_per_s(redactor: Redactor, text: str) -> float:
    start = time.perf_counter()
    for _ in range(ROUNDS):
        redactor.redact_text(text)
    return len(text) * ROUNDS / (time.perf_counter() - start) / 1e6


def payload_us(redactors: dict[str, Redactor]) -> dict[str, float]:
    """Median µs to redact one decision payload, each redactor in turn, interleaved."""
    payloads = [sample(i).payload for i in range(1000)]
    samples: dict[str, list[float]] = {name: [] for name in redactors}
    for i in range(PAYLOADS):
        for name, redactor in redactors.items():
            start = time.perf_counter()
            redactor.redact(payloads[i % len(payloads)])
            samples[name].append((time.perf_counter() - start) * 1e6)
    return {name: round(statistics.median(found), 2) for name, found in samples.items()}


def main() -> dict[str, object]:
    text = build_log()
    plain = Redactor()
    known = Redactor()
    start = time.perf_counter()
    known.set_known(
        {f"VALUE_{i}": secrets.token_urlsafe(random.randint(12, 40)) for i in range(100)}
    )
    build_ms = (time.perf_counter() - start) * 1e3
    speeds: dict[str, list[float]] = {"patterns": [], "patterns + 100 known": []}
    for _ in range(3):  # interleaved: the host's noise hits both alike
        speeds["patterns"].append(mb_per_s(plain, text))
        speeds["patterns + 100 known"].append(mb_per_s(known, text))
    per_payload = payload_us({"patterns": plain, "patterns + 100 known": known})
    result: dict[str, object] = {
        "bench": "redact",
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "log_bytes": len(text),
        "mb_per_s": round(statistics.median(speeds["patterns"]), 1),
        "mb_per_s_known": round(statistics.median(speeds["patterns + 100 known"]), 1),
        "set_known_ms": round(build_ms, 1),
        "payload_us": per_payload["patterns"],
        "payload_us_known": per_payload["patterns + 100 known"],
    }
    print(f"{'redact MB/s, 1 MB build log, patterns':<52} {result['mb_per_s']:>8}")
    print(f"{'redact MB/s, ... + 100 known values':<52} {result['mb_per_s_known']:>8}")
    print(f"{'set_known(100 values) ms':<52} {result['set_known_ms']:>8}")
    print(f"{'one decision payload µs, patterns':<52} {result['payload_us']:>8}")
    print(f"{'one decision payload µs, + 100 known values':<52} {result['payload_us_known']:>8}")
    print(json.dumps(result))
    write_result("redact", result)
    return result


if __name__ == "__main__":
    main()
