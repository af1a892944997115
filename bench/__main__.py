"""Run every benchmark in one run and print the figures the README quotes.

    .venv/bin/python -m bench        (or: make bench)

Each benchmark runs in a process of its own (a load generator sharing a heap with the
engine benchmark's 10 000-rule policies measures the garbage collector, not the
daemon) and writes ``bench/results/<name>.json``, which this summary reads. Ratios
are computed from figures measured in this same run, because these machines are noisy.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from typing import Any

from bench.common import RESULTS, write_result

BENCHMARKS = (
    "engine",
    "socket",
    "audit",
    "hook",
    "checkpoints",
    "gateway",
    "verify",
    "redact",
    "caps",
)


def run(name: str) -> Any:
    """Run ``bench/bench_<name>.py`` in a fresh interpreter; its JSON result."""
    subprocess.run([sys.executable, "-m", f"bench.bench_{name}"], check=True)
    return json.loads((RESULTS / f"{name}.json").read_text())


def main() -> None:
    result = {name: run(name) for name in BENCHMARKS}
    engine, socket, audit, hook = (result[name] for name in ("engine", "socket", "audit", "hook"))
    signed, gateway = result["checkpoints"], result["gateway"]
    drift, redact, caps = result["verify"], result["redact"], result["caps"]
    rows = engine["rows"]
    assert isinstance(rows, list)
    results = socket["results"]
    assert isinstance(results, dict)
    decide = results["decide"]
    loaded = results["decide x16 conns (loadgen)"]
    summary = [
        (
            "decision p99 in-process, 1 000 rules (median of rounds; worst round)",
            f"{engine['p99_us_at_1000']:.1f} µs ({engine['p99_worst_round_us_at_1000']:.1f})",
            "≤ 50 µs",
        ),
        (
            "decision p50 in-process, 10 000 vs 10 rules",
            f"{engine['p50_ratio_10k_vs_10']:.2f}×",
            "≤ 2×",
        ),
        (
            "decide over the socket, p50 / p99",
            f"{decide['p50_us']:.0f} / {decide['p99_us']:.0f} µs",
            "p50 ≤ 1 ms",
        ),
        (
            "durable decisions/s, 16 connections (median run; slowest–fastest)",
            f"{loaded['rps']:,.0f} ({loaded['rps_min']:,.0f}–{loaded['rps_max']:,.0f})",
            "≥ 5 000",
        ),
        (
            "daemon CPU per durable decision in that run (one core: 10⁶ / it per s)",
            f"{loaded['cpu_us']:,.0f} µs",
            "≤ 200 µs",
        ),
        ("audit verify", f"{audit['verify_events_per_s']:,} events/s", "≥ 200 000"),
        ("durable audit appends/s, 16 appenders", f"{audit['appends_per_s_16']:,}", "—"),
        ("redaction throughput", f"{audit['redact_mb_per_s']} MB/s", "—"),
        (
            "redaction, 1 MB CI log: patterns vs + 100 known values",
            f"{redact['mb_per_s']} vs {redact['mb_per_s_known']} MB/s",
            "—",
        ),
        (
            "redaction of one decision's audit payload: patterns vs + 100 known values",
            f"{redact['payload_us']} vs {redact['payload_us_known']} µs",
            "—",
        ),
        (
            "checkpoint: sign (canonical JSON + ed25519) / store (+ insert, fsync)",
            f"{signed['sign_us']} / {signed['store_checkpoint_us_p50']:,} µs",
            "—",
        ),
        (
            "durable appends/s, 16 appenders: checkpoint every 1000 vs none",
            f"{signed['appends_per_s_16_signed']:,} vs {signed['appends_per_s_16_plain']:,}",
            "—",
        ),
        (
            "audit verify with checkpoints vs chain only",
            f"{signed['verify_events_per_s_with_checkpoints']:,} vs "
            f"{signed['verify_events_per_s_chain_only']:,} events/s",
            "≥ 200 000",
        ),
        (
            f"`stockade verify` (every check, whole process) on {drift['events']:,} events",
            f"{drift['verify_s']} s ({drift['verify_events_per_s']:,} events/s)",
            "—",
        ),
        (
            "durable decisions/s, 16 connections: gateway (HTTP, token) vs socket, medians",
            f"{gateway['throughput']['gateway_rps']:,} vs {gateway['throughput']['socket_rps']:,} "
            f"({gateway['throughput']['gateway_vs_socket']}×)",
            "—",
        ),
        (
            "held call → shown in the open control UI, p50 / max",
            _held_to_ui(gateway["held_to_ui"]),
            "—",
        ),
        (
            "decision in-process: restricted agent with 20 grants vs no agent (median of rounds)",
            f"{caps['restricted_us_p50_of_rounds']} vs {caps['unrestricted_us_p50_of_rounds']} µs "
            f"({caps['ratio']}×)",
            "—",
        ),
        (
            "hook shim vs do-nothing Python hook, p50",
            f"{hook['shim_ms']['p50']} vs {hook['do_nothing_ms']['p50']} ms ({hook['ratio_p50']}×)",
            "≤ 1.5×",
        ),
    ]
    print()
    print("| measure | this run | target |")
    print("|---|---|---|")
    for name, value, target in summary:
        print(f"| {name} | {value} | {target} |")
    print()
    print("| rules | p50 µs | p99 µs (median of rounds) | p99 µs (worst round) |")
    print("|---|---|---|---|")
    for row in rows:
        print(
            f"| {row['rules']:,} | {row['p50_us']:.1f} | {row['p99_us']:.1f} "
            f"| {row['p99_worst_round_us']:.1f} |"
        )
    write_result(
        "summary",
        {
            "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
            "summary": [{"measure": n, "value": v, "target": t} for n, v, t in summary],
        },
    )
    print(json.dumps({"bench": "summary", "written": "bench/results/"}))


def _held_to_ui(measured: Any) -> str:
    if isinstance(measured, str):
        return measured  # why it was skipped
    return f"{measured['p50_ms']} / {measured['max_ms']} ms"


if __name__ == "__main__":
    main()
