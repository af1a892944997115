"""Signed checkpoints: what signing, storing and checking them costs.

    python -m bench.bench_checkpoints [--events N] [--dir PATH]

- signing: the canonical JSON and the ed25519 signature of one head (what the writer
  thread does once per checkpoint, after the batch's callers were answered);
- storing: ``store.checkpoint()`` end to end (queue hand-off, sign, insert, fsynced commit);
- appends/s with 16 appenders, checkpoints every 1000 events versus none;
- ``audit verify`` with the checkpoints checked versus the chain alone.

Prints a table, then one JSON line. Never asserts timings.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import time
from pathlib import Path

from bench.bench_audit import run_appenders, sample
from bench.common import median, write_result
from stockade.audit import SqliteAuditStore, verify_database
from stockade.audit.checkpoints import Checkpointer, sign_head
from stockade.audit.events import ChainHead
from stockade.identity import KeyRing, KnownKey, SigningKey

TS = "2026-01-01T00:00:00.000000Z"


def per_call_us(work: object, rounds: int) -> float:
    assert callable(work)
    start = time.perf_counter()
    for _ in range(rounds):
        work()
    return (time.perf_counter() - start) / rounds * 1e6


def store_rate(path: Path, key: SigningKey | None, total: int) -> float:
    signer = None if key is None else Checkpointer(key, every_events=1000, every_s=60)
    store = SqliteAuditStore(path, checkpointer=signer)
    store.open()
    try:
        return asyncio.run(run_appenders(store, total, 16))
    finally:
        store.close()


def bench(directory: Path, events: int) -> dict[str, float | int]:
    key = SigningKey.generate()
    head = ChainHead(123_456, "ab" * 32)
    sign_us = median([per_call_us(lambda: sign_head(head, key, TS), 500) for _ in range(5)])
    checkpoint = sign_head(head, key, TS)
    check_us = median(
        [per_call_us(lambda: checkpoint.verifies_with(key.public), 500) for _ in range(5)]
    )

    path = directory / "audit.db"
    store = SqliteAuditStore(path, checkpointer=Checkpointer(key, every_events=1000, every_s=60))
    store.open()
    try:
        stored: list[float] = []
        for n in range(200):
            store.append_blocking(sample(n))
            start = time.perf_counter()
            store.checkpoint()
            stored.append((time.perf_counter() - start) * 1e6)
        remaining = max(0, events - store.head().seq)
        asyncio.run(run_appenders(store, remaining, 256))
    finally:
        store.close()
    ring = KeyRing(KnownKey(key.public, TS))
    start = time.perf_counter()
    chain_only = verify_database(path)
    chain_s = time.perf_counter() - start
    start = time.perf_counter()
    full = verify_database(path, keys=ring)
    full_s = time.perf_counter() - start
    assert chain_only.ok and full.ok, full.problem
    assert full.checkpoints is not None

    plain = store_rate(directory / "plain.db", None, 8000)
    signed = store_rate(directory / "signed.db", key, 8000)
    return {
        "sign_us": round(sign_us, 1),
        "check_us": round(check_us, 1),
        "store_checkpoint_us_p50": round(median(stored), 1),
        "appends_per_s_16_plain": round(plain),
        "appends_per_s_16_signed": round(signed),
        "verify_events": full.checked,
        "verify_checkpoints": full.checkpoints.checked,
        "verify_events_per_s_chain_only": round(chain_only.checked / chain_s),
        "verify_events_per_s_with_checkpoints": round(full.checked / full_s),
    }


def main() -> dict[str, object]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000, help="log size for verify")
    parser.add_argument("--dir", type=Path, default=None, help="where to put the logs")
    args = parser.parse_args([] if __name__ != "__main__" else None)
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        result = bench(Path(tmp), args.events)
    for name, value in result.items():
        print(f"{name:<42} {value:>12,}")
    summary: dict[str, object] = {"bench": "checkpoints", "cpus": os.cpu_count(), **result}
    print(json.dumps(summary))
    write_result("checkpoints", summary)
    return summary


if __name__ == "__main__":
    main()
