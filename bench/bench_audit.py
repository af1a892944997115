"""Audit log throughput: durable appends (1 and 16 appenders), verify, and redaction speed.

    python bench/bench_audit.py [--events N] [--appends M] [--dir PATH]

Prints a table, then one JSON line. Never asserts timings: compare runs on one machine.
The log lives in ``--dir`` (default: a temporary directory), so that the fsync cost is
the one of the disk you care about.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import tempfile
import time
from pathlib import Path

from bench.common import write_result
from stockade.audit import AuditEvent, SqliteAuditStore, verify_database
from stockade.redact import Redactor


def sample(i: int) -> AuditEvent:
    """A decision row of a realistic size (~400 bytes of payload)."""
    return AuditEvent(
        "decision",
        "claude-code:5f1c",
        "5f1c",
        {
            "request": {
                "harness": "claude-code",
                "tool_name": "Bash",
                "tool_input": {"command": f"pytest -q tests/unit/test_{i % 97}.py -k case_{i}"},
                "cwd": "/home/dev/project",
            },
            "decision": {
                "verdict": "allow",
                "reason": "build command inside the project",
                "rule_id": "zone:build",
                "zone": "build",
                "action": "shell.exec",
            },
        },
    )


async def run_appenders(store: SqliteAuditStore, total: int, concurrency: int) -> float:
    """Events per second with ``concurrency`` appenders each awaiting its own rows."""

    async def worker(w: int) -> None:
        for n in range(w, total, concurrency):
            await store.append(sample(n))

    start = time.perf_counter()
    await asyncio.gather(*(worker(w) for w in range(concurrency)))
    return total / (time.perf_counter() - start)


def build_log(size: int) -> str:
    """A synthetic build log of ``size`` characters with a secret every ~100 lines."""
    rng = random.Random(7)
    secrets = [
        "export NPM_TOKEN=npm_" + "x" * 36,
        "curl -H 'Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl' $URL",
        "Cloning https://ci:hunter2@git.example.com/org/repo.git",
        "AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE",
    ]
    lines: list[str] = []
    length = 0
    while length < size:
        n = len(lines)
        if n % 100 == 99:
            line = secrets[n // 100 % len(secrets)]
        else:
            line = (
                f"[{n:06d}] Compiling crate-{rng.randrange(500)} v1.{n % 40}.0 "
                f"(/src/crate-{n % 500}) sha {rng.getrandbits(160):040x} in {rng.random():.2f}s"
            )
        lines.append(line)
        length += len(line) + 1
    return "\n".join(lines)[:size]


def redact_mb_per_s(size: int = 1_000_000, rounds: int = 5) -> float:
    text = build_log(size)
    redactor = Redactor()
    start = time.perf_counter()
    for _ in range(rounds):
        redactor.redact_text(text)
    return size * rounds / (time.perf_counter() - start) / 1e6


def bench(directory: Path, events: int, appends: int) -> dict[str, float | int | str]:
    path = directory / "audit.db"
    store = SqliteAuditStore(path, redactor=Redactor().redact)
    store.open()
    try:
        one = asyncio.run(run_appenders(store, appends, 1))
        sixteen = asyncio.run(run_appenders(store, appends * 4, 16))
        remaining = max(0, events - store.head().seq)
        bulk = asyncio.run(run_appenders(store, remaining, 256)) if remaining else 0.0
    finally:
        store.close()
    start = time.perf_counter()
    report = verify_database(path)
    verify_seconds = time.perf_counter() - start
    assert report.ok, report.problem
    return {
        "appends_per_s_1": round(one),
        "appends_per_s_16": round(sixteen),
        "appends_per_s_256": round(bulk),
        "verify_events": report.checked,
        "verify_events_per_s": round(report.checked / verify_seconds),
        "db_bytes": path.stat().st_size,
        "redact_mb_per_s": round(redact_mb_per_s(), 1),
        "python": platform.python_version(),
    }


def main() -> dict[str, object]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000, help="log size for verify")
    parser.add_argument("--appends", type=int, default=500, help="events for the 1-appender run")
    parser.add_argument("--dir", type=Path, default=None, help="where to put the log")
    args = parser.parse_args([] if __name__ != "__main__" else None)
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        result = bench(Path(tmp), args.events, args.appends)
    rows = [
        ("durable appends/s, 1 appender", result["appends_per_s_1"]),
        ("durable appends/s, 16 appenders", result["appends_per_s_16"]),
        ("durable appends/s, 256 appenders", result["appends_per_s_256"]),
        (f"verify events/s ({result['verify_events']} events)", result["verify_events_per_s"]),
        ("redact MB/s (1 MB build log)", result["redact_mb_per_s"]),
    ]
    for name, value in rows:
        print(f"{name:<42} {value:>12,}")
    summary: dict[str, object] = {"bench": "audit", "cpus": os.cpu_count(), **result}
    print(json.dumps(summary))
    write_result("audit", summary)
    return summary


if __name__ == "__main__":
    main()
