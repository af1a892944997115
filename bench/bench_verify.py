"""``stockade verify`` on a big home: the whole command, every check, on a 1M-event log.

    python -m bench.bench_verify [--events N] [--rounds R] [--dir PATH]

The home is built as a daemon leaves it: an identity, ``daemon.started`` (with the
config hash) and ``daemon.stopped`` appended by the real store, and between them
realistic decision rows (``bench_audit.sample``) chained with the writer's own code
(:func:`~stockade.audit.chain.event_hash`, ``canonical_payload``) and a checkpoint
signed every 1000 events, as ``[audit] checkpoint_every_events`` does by default. Rows
are written directly, in large transactions, because a million durable appends would
take minutes and measure the disk, not verify.

Reports the wall time of the real ``stockade verify --json`` process (interpreter
start included; the median of ``--rounds`` runs) and events/s, plus each check's own
seconds from an in-process run.
Never asserts timings.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.bench_audit import sample
from bench.common import median, write_result
from stockade.audit import AuditEvent, SqliteAuditStore
from stockade.audit.chain import event_hash
from stockade.audit.checkpoints import Checkpointer, insert, sign_head
from stockade.audit.events import ChainHead, canonical_payload, format_ts
from stockade.home import Home
from stockade.identity import IdentityFiles, SigningKey
from stockade.verify.runner import CHECKS, run_one

STOCKADE = str(Path(sys.executable).with_name("stockade"))
EVERY = 1000  # the default [audit] checkpoint_every_events
BATCH = 50_000


def build_home(home: Home, events: int) -> None:
    """A home whose log holds ``events`` events, signed every ``EVERY`` (see the docstring)."""
    home.ensure()
    start = datetime(2026, 1, 1, tzinfo=UTC)
    key = IdentityFiles(home).load_or_create(format_ts(start))
    started = {"pid": 1, "version": "bench", "config_hash": hashlib.sha256(b"").hexdigest()}
    head = _append(home, key, AuditEvent("daemon.started", "daemon", None, started))
    conn = sqlite3.connect(home.audit_path, isolation_level=None)
    try:
        while head.seq < events - 1:
            conn.execute("BEGIN")
            head = _write_batch(conn, key, head, min(BATCH, events - 1 - head.seq), start)
            conn.execute("COMMIT")
    finally:
        conn.close()
    _append(home, key, AuditEvent("daemon.stopped", "daemon", None, {"pid": 1, "reason": "bench"}))


def _append(home: Home, key: SigningKey, event: AuditEvent) -> ChainHead:
    """One event through the real store, which signs its head when it closes."""
    store = SqliteAuditStore(
        home.audit_path, checkpointer=Checkpointer(key, every_events=EVERY, every_s=3600)
    )
    store.open()
    try:
        stored = store.append_blocking(event)
    finally:
        store.close()
    return ChainHead(stored.seq, stored.hash)


def _write_batch(
    conn: sqlite3.Connection, key: SigningKey, head: ChainHead, count: int, start: datetime
) -> ChainHead:
    rows = []
    for seq in range(head.seq + 1, head.seq + 1 + count):
        event = sample(seq)
        text = canonical_payload(event.payload)
        ts = format_ts(start + timedelta(milliseconds=seq))
        digest = event_hash(head.hash, seq, ts, event.kind, event.actor, event.session, text)
        rows.append((seq, ts, event.kind, event.actor, event.session, text, head.hash, digest))
        head = ChainHead(seq, digest)
        if seq % EVERY == 0:
            insert(conn, sign_head(head, key, ts))
    conn.executemany("INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
    return head


def verify_cli(home: Home) -> float:
    """Seconds of one real ``stockade verify --json`` process, which must find no drift."""
    env = {**os.environ, "STOCKADE_HOME": str(home.root)}
    began = time.perf_counter()
    done = subprocess.run(
        [STOCKADE, "verify", "--json"], env=env, capture_output=True, text=True, check=False
    )
    seconds = time.perf_counter() - began
    report = json.loads(done.stdout)
    assert done.returncode == 0 and report["ok"], report
    return seconds


def bench(directory: Path, events: int, rounds: int) -> dict[str, object]:
    home = Home(directory / "home")
    began = time.perf_counter()
    build_home(home, events)
    build_s = time.perf_counter() - began

    runs = [verify_cli(home) for _ in range(rounds)]
    verify_s = median(runs)

    seconds: dict[str, float] = {}
    for check in CHECKS:
        began = time.perf_counter()
        result = run_one(check, home)
        seconds[result.name] = round(time.perf_counter() - began, 3)
        assert result.ok, result
    return {
        "events": events,
        "build_s": round(build_s, 1),
        "verify_s": round(verify_s, 2),
        "verify_s_runs": [round(run_s, 2) for run_s in runs],
        "verify_events_per_s": round(events / verify_s),
        "check_s": seconds,
        "db_bytes": home.audit_path.stat().st_size,
    }


def main() -> dict[str, object]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000, help="log size")
    parser.add_argument("--rounds", type=int, default=3, help="verify runs (median)")
    parser.add_argument("--dir", type=Path, default=None, help="where to put the home")
    args = parser.parse_args([] if __name__ != "__main__" else None)
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        result = bench(Path(tmp), args.events, args.rounds)
    for name, value in result.items():
        print(f"{name:<24} {value}")
    summary: dict[str, object] = {"bench": "verify", "cpus": os.cpu_count(), **result}
    print(json.dumps(summary))
    write_result("verify", summary)
    return summary


if __name__ == "__main__":
    main()
