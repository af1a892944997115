"""The SQLite store for real: concurrency, durability, permissions, redaction, purge, crash."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import stat
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from stockade.audit import AuditEvent, SqliteAuditStore, StoredEvent, verify_database
from stockade.errors import AuditIntegrityError, StockadeError
from stockade.redact import Redactor

pytestmark = pytest.mark.integration

T0 = datetime(2025, 1, 1, tzinfo=UTC)


def event(i: int = 0, *, kind: str = "decision", session: str | None = "s1") -> AuditEvent:
    return AuditEvent(kind, "claude-code:s1", session, {"i": i})


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqliteAuditStore]:
    audit = SqliteAuditStore(tmp_path / "audit.db")
    audit.open()
    yield audit
    audit.close()


@pytest.mark.parametrize("max_batch", [512, 7])
def test_concurrent_appenders_get_a_contiguous_verified_chain(
    tmp_path: Path, max_batch: int
) -> None:
    path = tmp_path / "audit.db"
    audit = SqliteAuditStore(path, max_batch=max_batch)
    audit.open()

    async def appender(worker: int) -> list[StoredEvent]:
        return [
            await audit.append(AuditEvent("decision", f"w{worker}", f"s{worker}", {"n": n}))
            for n in range(200)
        ]

    async def main() -> list[list[StoredEvent]]:
        return await asyncio.gather(*(appender(w) for w in range(16)))

    results = [stored for batch in asyncio.run(main()) for stored in batch]
    assert sorted(s.seq for s in results) == list(range(1, 3201))
    for stored in results:
        assert audit.get(stored.seq) == stored
    assert audit.head().seq == 3200
    audit.close()
    report = verify_database(path)
    assert (report.ok, report.checked) == (True, 3200)


def test_one_commit_of_more_rows_than_one_insert_statement_takes(
    store: SqliteAuditStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The writer inserts at most 64 rows per statement: a held writer's backlog of 300
    becomes one commit of several statements, stored whole and in order."""
    real = store._transaction
    entered, held, sizes = threading.Event(), threading.Event(), []

    def counting(work: Any) -> Any:
        entered.set()
        held.wait(10)

        def counted(conn: sqlite3.Connection) -> Any:
            before = conn.total_changes
            result = work(conn)
            sizes.append(conn.total_changes - before)
            return result

        return real(counted)

    monkeypatch.setattr(store, "_transaction", counting)
    blocker = threading.Thread(target=store.append_blocking, args=(event(-1),))
    blocker.start()
    assert entered.wait(10)

    async def burst() -> list[StoredEvent]:
        appends = [asyncio.ensure_future(store.append(event(i))) for i in range(300)]
        await asyncio.sleep(0.2)  # every append queued behind the held commit
        held.set()
        return list(await asyncio.gather(*appends))

    stored = asyncio.run(burst())
    blocker.join()
    assert max(sizes) >= 200  # the backlog went in as one commit
    assert [s.seq for s in stored] == list(range(2, 302))
    assert all(one == store.get(one.seq) for one in stored)
    assert [one.payload for one in stored] == [{"i": i} for i in range(300)]
    assert verify_database(tmp_path / "audit.db").ok


@pytest.mark.parametrize("umask", [0o000, 0o277])
def test_files_are_private_whatever_the_umask(tmp_path: Path, umask: int) -> None:
    path = tmp_path / "audit.db"
    previous = os.umask(umask)
    try:
        audit = SqliteAuditStore(path)
        audit.open()
        audit.append_blocking(event())
        for name in ("audit.db", "audit.db-wal", "audit.db-shm"):
            assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600, name
        audit.close()
        verify_database(path)  # a read-only open re-creates -wal and -shm
        for name in ("audit.db-wal", "audit.db-shm"):
            assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600, name
    finally:
        os.umask(previous)


def test_symlinked_path_is_refused(tmp_path: Path) -> None:
    (tmp_path / "elsewhere.db").touch()
    (tmp_path / "audit.db").symlink_to(tmp_path / "elsewhere.db")
    with pytest.raises(OSError):
        SqliteAuditStore(tmp_path / "audit.db").open()


def test_append_outside_open_raises(tmp_path: Path) -> None:
    audit = SqliteAuditStore(tmp_path / "audit.db")
    with pytest.raises(StockadeError, match="not open"):
        audit.append_blocking(event())
    audit.open()
    audit.append_blocking(event())
    audit.close()
    audit.close()  # idempotent
    with pytest.raises(StockadeError, match="closed"):
        audit.append_blocking(event())
    with pytest.raises(StockadeError, match="closed"):
        asyncio.run(audit.append(event()))
    with pytest.raises(StockadeError):
        audit.query()


def test_close_drains_queued_appends(tmp_path: Path) -> None:
    path = tmp_path / "audit.db"
    audit = SqliteAuditStore(path)
    audit.open()
    results: list[StoredEvent] = []
    threads = [
        threading.Thread(target=lambda: results.append(audit.append_blocking(event())))
        for _ in range(20)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    audit.close()
    assert len(results) == 20 and verify_database(path).checked == 20


def test_secrets_never_reach_the_file(tmp_path: Path) -> None:
    path = tmp_path / "audit.db"
    token = "ghp_" + "Q7" * 18
    audit = SqliteAuditStore(path, redactor=Redactor().redact)
    audit.open()
    stored = audit.append_blocking(
        AuditEvent("decision", "cli", None, {"command": f"gh auth login --with-token {token}"})
    )
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir())  # db, -wal and -shm
    audit.close()
    raw += path.read_bytes()
    assert token.encode() not in raw
    assert b"[REDACTED:github-token:" in raw
    assert "[REDACTED:github-token:" in stored.payload["command"]


def test_a_bad_payload_fails_alone(store: SqliteAuditStore) -> None:
    async def main() -> list[StoredEvent | BaseException]:
        bad = AuditEvent("decision", "cli", None, {"x": float("nan")})
        calls = (store.append(event(1)), store.append(bad), store.append(event(2)))
        return list(await asyncio.gather(*calls, return_exceptions=True))

    first, failed, last = asyncio.run(main())
    assert isinstance(failed, ValueError)
    assert isinstance(first, StoredEvent) and isinstance(last, StoredEvent)
    assert (first.seq, last.seq) == (1, 2) and last.prev_hash == first.hash


def test_a_failed_commit_fails_its_callers_and_the_chain_goes_on(
    store: SqliteAuditStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = store.append_blocking(event())
    real = store._transaction  # the one way to fail a commit on demand

    def failing(work: object) -> object:
        monkeypatch.setattr(store, "_transaction", real)
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(store, "_transaction", failing)
    with pytest.raises(sqlite3.OperationalError):
        asyncio.run(store.append(event()))
    after = store.append_blocking(event())
    assert (after.seq, after.prev_hash) == (2, first.hash)
    with pytest.raises(AttributeError):
        store.append_blocking(AuditEvent(5, "cli", None, {}))  # type: ignore[arg-type]
    assert store.append_blocking(event()).seq == 3


def test_query_filters_and_pages(tmp_path: Path) -> None:
    ticks = iter(T0 + timedelta(hours=h) for h in range(100))
    audit = SqliteAuditStore(tmp_path / "audit.db", clock=lambda: next(ticks))
    audit.open()
    for i in range(10):
        audit.append_blocking(event(i, kind="decision" if i % 2 else "prompt.screened"))
    audit.append_blocking(event(10, session=None))
    assert [e.seq for e in audit.query(limit=3)] == [1, 2, 3]
    assert [e.seq for e in audit.query(after=3, limit=2)] == [4, 5]
    assert [e.seq for e in audit.query(descending=True, limit=2)] == [11, 10]
    assert [e.seq for e in audit.query(descending=True, after=10, limit=2)] == [9, 8]
    assert [e.seq for e in audit.query(kind="decision", limit=3)] == [2, 4, 6]
    assert len(audit.query(session="s1", limit=100)) == 10
    window = audit.query(since="2025-01-01T02:00:00Z", until="2025-01-01T04:00:00+00:00")
    assert [e.seq for e in window] == [3, 4]
    assert [e.seq for e in audit.iter_all(batch=4)] == list(range(1, 12))
    assert audit.get(99) is None
    assert audit.get(3) == window[0] and window[0].to_json()["seq"] == 3
    with pytest.raises(ValueError):
        audit.query(limit=0)
    audit.close()


def test_timestamps_never_go_backwards(tmp_path: Path) -> None:
    times = iter([T0 + timedelta(hours=1), T0, T0 + timedelta(hours=2)])
    audit = SqliteAuditStore(tmp_path / "audit.db", clock=lambda: next(times))
    audit.open()
    stamps = [audit.append_blocking(event(i)).ts for i in range(3)]
    audit.close()
    assert stamps == sorted(stamps) and stamps[0] == stamps[1]


def test_purge_keeps_the_newest_and_records_itself(tmp_path: Path) -> None:
    path = tmp_path / "audit.db"
    ticks = iter(T0 + timedelta(days=d) for d in range(100))
    audit = SqliteAuditStore(path, clock=lambda: next(ticks))
    audit.open()
    for i in range(5):
        audit.append_blocking(event(i))
    result = audit.purge_before("2025-01-03T00:00:00Z")  # events 1 and 2 are older
    assert (result.purged, result.base_seq) == (2, 3)
    record = audit.get(6)
    assert record is not None and record.kind == "audit.purged"
    assert record.payload == {"before": "2025-01-03T00:00:00.000000Z", "purged": 2, "base_seq": 3}
    everything = audit.purge_before("2999-01-01T00:00:00Z")
    assert (everything.purged, everything.base_seq) == (3, 6)  # 6 (the newest then) survives
    assert [e.seq for e in audit.iter_all()] == [6, 7]
    assert audit.purge_before("2000-01-01T00:00:00Z").purged == 0
    audit.close()
    assert verify_database(path).ok
    reopened = SqliteAuditStore(path)
    reopened.open()
    assert reopened.append_blocking(event()).seq == 9
    reopened.close()
    assert verify_database(path).ok


def test_purge_of_an_empty_log(store: SqliteAuditStore) -> None:
    assert store.purge_before("2999-01-01T00:00:00Z").purged == 0
    assert store.head().seq == 1


def test_reopen_continues_the_chain(tmp_path: Path) -> None:
    path = tmp_path / "audit.db"
    first = SqliteAuditStore(path)
    first.open()
    head = first.append_blocking(event())
    first.close()
    second = SqliteAuditStore(path)
    second.open()
    assert second.head().hash == head.hash
    assert second.append_blocking(event()).prev_hash == head.hash
    second.close()


def test_tampered_tail_is_refused_on_open(tmp_path: Path) -> None:
    path = tmp_path / "audit.db"
    audit = SqliteAuditStore(path)
    audit.open()
    audit.append_blocking(event())
    audit.append_blocking(event())
    audit.close()
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE events SET actor = 'someone' WHERE seq = 2")
    with pytest.raises(AuditIntegrityError, match="seq 2"):
        SqliteAuditStore(path).open()


def test_verify_runs_while_the_daemon_writes(tmp_path: Path) -> None:
    path = tmp_path / "audit.db"
    audit = SqliteAuditStore(path)
    audit.open()
    stop = threading.Event()

    def write() -> None:
        while not stop.is_set():
            audit.append_blocking(event())

    writer = threading.Thread(target=write)
    writer.start()
    try:
        reports = [verify_database(path) for _ in range(5)]
    finally:
        stop.set()
        writer.join()
        audit.close()
    assert all(r.ok for r in reports)


CRASHER = textwrap.dedent(
    """
    import asyncio, sys
    from pathlib import Path
    from stockade.audit import AuditEvent, SqliteAuditStore

    store = SqliteAuditStore(Path(sys.argv[1]))
    store.open()

    async def worker(w):
        while True:
            stored = await store.append(AuditEvent("decision", "crash", None, {"w": w}))
            print(stored.seq, flush=True)

    async def main():
        await asyncio.gather(*(worker(w) for w in range(8)))

    asyncio.run(main())
    """
)


@pytest.mark.slow
def test_every_acknowledged_event_survives_sigkill(tmp_path: Path) -> None:
    path = tmp_path / "audit.db"
    acknowledged: list[int] = []
    with subprocess.Popen(
        [sys.executable, "-c", CRASHER, str(path)], stdout=subprocess.PIPE, text=True
    ) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            acknowledged.append(int(line))
            if len(acknowledged) >= 300:
                break
        proc.send_signal(signal.SIGKILL)
        acknowledged += [int(line) for line in proc.stdout]  # printed before the kill landed
    assert proc.returncode == -signal.SIGKILL
    assert len(acknowledged) >= 300

    report = verify_database(path)
    assert report.ok, report.problem
    audit = SqliteAuditStore(path)
    audit.open()
    present = {e.seq for e in audit.iter_all()}
    audit.close()
    assert set(acknowledged) <= present
    assert verify_database(path).ok
