"""The audit log in SQLite: one writer thread, group commit, durable before it answers.

A decision is only answered after its row is on disk, so the writer is on the
critical path. One thread owns the write connection (as in datasette's
``database.py``): appenders queue events, and the thread takes everything queued
(up to ``max_batch``), chains the hashes, inserts them in one transaction and
commits once, so 16 concurrent callers pay for about one fsync, not sixteen. WAL with
``synchronous=FULL`` makes every commit durable and lets readers (a second connection,
``verify``, ``stockade audit``) run without ever blocking the writer.

Timestamps never go backwards within a log (a clock step back reuses the last one):
time order is seq order, so a time range is a seq range and a purge is a prefix.
"""

from __future__ import annotations

import asyncio
import json
import os
import queue
import sqlite3
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from stockade.audit.chain import GENESIS_HASH, event_hash
from stockade.audit.events import (
    PURGED_KIND,
    AuditEvent,
    ChainHead,
    StoredEvent,
    canonical_payload,
    format_ts,
    normalize_ts,
)
from stockade.errors import AuditIntegrityError, StockadeError

SCHEMA_VERSION = "1"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY, ts TEXT NOT NULL, kind TEXT NOT NULL, actor TEXT NOT NULL,
    session TEXT, payload TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_session ON events (session, seq);
CREATE INDEX IF NOT EXISTS events_kind ON events (kind, seq);
CREATE INDEX IF NOT EXISTS events_ts ON events (ts);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
INSERT OR IGNORE INTO meta VALUES ('base_seq', '1'), ('base_hash', '{genesis}'),
    ('schema_version', '{version}');
"""
_SELECT = "SELECT seq, ts, kind, actor, session, payload, prev_hash, hash FROM events"
_INSERT = "INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?)"

T = TypeVar("T")
_Row = tuple[int, str, str, str, str | None, str, str, str]


@dataclass(frozen=True, slots=True)
class PurgeResult:
    """How many events a purge deleted, and the seq the log now starts at."""

    purged: int
    base_seq: int


@dataclass(slots=True)
class _Append:
    event: AuditEvent
    future: asyncio.Future[StoredEvent] | Future[StoredEvent]
    loop: asyncio.AbstractEventLoop | None = None  # set when ``future`` is an asyncio one


@dataclass(slots=True)
class _Purge:
    before: str
    actor: str
    future: Future[PurgeResult]


@dataclass(frozen=True, slots=True)
class _Chained:
    rows: list[_Row]
    done: list[tuple[_Append, StoredEvent]]
    failed: list[tuple[_Append, Exception]]
    head: ChainHead


_STOP = object()


class SqliteAuditStore:
    """Append-only, hash-chained audit log in one SQLite file (see the module docstring)."""

    def __init__(
        self,
        path: Path,
        *,
        redactor: Callable[[Any], Any] | None = None,
        clock: Callable[[], datetime] | None = None,
        max_batch: int = 512,
    ) -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        self._path = path
        self._redactor = redactor
        self._clock = clock or (lambda: datetime.now(UTC))
        self._max_batch = max_batch
        self._jobs: queue.SimpleQueue[_Append | _Purge | object] = queue.SimpleQueue()
        self._state_lock = threading.Lock()  # guards _open, _closed and the committed head
        self._read_lock = threading.Lock()
        self._open = False
        self._closed = False
        self._head = ChainHead(0, GENESIS_HASH)
        self._last_ts = ""
        self._base_seq = 1
        self._writer: sqlite3.Connection | None = None
        self._reader: sqlite3.Connection | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------

    def open(self) -> None:
        """Create (0600) or open the log, check its tail, and start the writer thread."""
        with self._state_lock:
            if self._open or self._closed:
                raise StockadeError("the audit store can be opened only once")
            _create_private(self._path)
            writer = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
            try:
                _prepare(writer)
                self._head, self._last_ts, self._base_seq = _check_tail(writer, self._path)
            except BaseException:
                writer.close()
                raise
            self._writer = writer
            self._reader = sqlite3.connect(self._path, check_same_thread=False)
            self._reader.execute("PRAGMA query_only = ON")
            self._thread = threading.Thread(target=self._run, name="stockade-audit", daemon=True)
            self._thread.start()
            self._open = True

    def close(self) -> None:
        """Finish every queued append, stop the writer, close both connections."""
        with self._state_lock:
            if not self._open or self._closed:
                self._closed = True
                return
            self._closed = True
            self._jobs.put(_STOP)
        assert self._thread is not None and self._writer is not None and self._reader is not None
        self._thread.join()
        self._writer.close()
        with self._read_lock:
            self._reader.close()

    # -- writing ---------------------------------------------------------------------

    async def append(self, event: AuditEvent) -> StoredEvent:
        """Append ``event``; returns once its row is committed and fsynced.

        A cancelled caller does not un-queue the event: it is still written.
        """
        loop = asyncio.get_running_loop()
        future: asyncio.Future[StoredEvent] = loop.create_future()
        self._submit(_Append(event, future, loop))
        return await future

    def append_blocking(self, event: AuditEvent) -> StoredEvent:
        """:meth:`append` for threads without an event loop."""
        future: Future[StoredEvent] = Future()
        self._submit(_Append(event, future))
        return future.result()

    def purge_before(self, before: str, *, actor: str = "daemon") -> PurgeResult:
        """Delete events older than ``before`` (RFC 3339), never the newest one.

        The chain base (first kept seq and its prev_hash) goes to ``meta`` and an
        ``audit.purged`` event records the purge, in the same transaction, so that
        ``verify`` can tell a purge from a deleted prefix.
        """
        future: Future[PurgeResult] = Future()
        self._submit(_Purge(normalize_ts(before), actor, future))
        return future.result()

    def _submit(self, job: _Append | _Purge) -> None:
        with self._state_lock:
            if not self._open or self._closed:
                state = "closed" if self._closed else "not open"
                raise StockadeError(f"the audit log is {state}", "nothing was recorded")
            self._jobs.put(job)

    def _run(self) -> None:
        """The writer thread: drain the queue in batches until the stop marker."""
        while True:
            batch = [self._jobs.get()]
            while len(batch) < self._max_batch:
                try:
                    batch.append(self._jobs.get_nowait())
                except queue.Empty:
                    break
            try:
                if not self._process(batch):
                    return
            except Exception as exc:  # a bug: fail every caller rather than leave one hanging
                _settle([(job, exc) for job in batch if isinstance(job, _Append)])
                for job in batch:
                    if isinstance(job, _Purge) and not job.future.done():
                        job.future.set_exception(exc)
                if any(job is _STOP for job in batch):
                    return

    def _process(self, batch: list[_Append | _Purge | object]) -> bool:
        """Commit runs of appends, purges in between; False once the stop marker is seen."""
        appends: list[_Append] = []
        for job in batch:
            if isinstance(job, _Append):
                appends.append(job)
                continue
            self._commit_appends(appends)
            appends = []
            if not isinstance(job, _Purge):
                return False
            self._purge(job)
        self._commit_appends(appends)
        return True

    def _chain(self, jobs: list[_Append], head: ChainHead) -> _Chained:
        """Seq, time and hashes for each event; a payload that cannot be stored fails alone."""
        rows: list[_Row] = []
        done: list[tuple[_Append, StoredEvent]] = []
        failed: list[tuple[_Append, Exception]] = []
        for job in jobs:
            event = job.event
            seq = head.seq + 1
            try:
                payload = self._redactor(event.payload) if self._redactor else event.payload
                text = canonical_payload(payload)
                ts = max(format_ts(self._clock()), self._last_ts)
                digest = event_hash(
                    head.hash, seq, ts, event.kind, event.actor, event.session, text
                )
                payload = json.loads(text)  # what get() will return: lists, not tuples
            except Exception as exc:  # the caller gets it; the batch goes on
                failed.append((job, exc))
                continue
            stored = StoredEvent(
                seq, ts, event.kind, event.actor, event.session, payload, head.hash, digest
            )
            rows.append((seq, ts, event.kind, event.actor, event.session, text, head.hash, digest))
            done.append((job, stored))
            head = ChainHead(seq, digest)
            self._last_ts = ts
        return _Chained(rows, done, failed, head)

    def _commit_appends(self, jobs: list[_Append]) -> None:
        if not jobs:
            return
        last_ts = self._last_ts
        chained = self._chain(jobs, self._head)
        outcomes: list[tuple[_Append, StoredEvent | Exception]] = list(chained.failed)
        try:
            if chained.rows:
                self._transaction(lambda conn: conn.executemany(_INSERT, chained.rows))
        except Exception as exc:
            self._last_ts = last_ts
            outcomes += [(job, exc) for job, _ in chained.done]
        else:
            with self._state_lock:
                self._head = chained.head
            outcomes += chained.done
        _settle(outcomes)

    def _purge(self, job: _Purge) -> None:
        last_ts, base_seq = self._last_ts, self._base_seq

        def run(conn: sqlite3.Connection) -> tuple[PurgeResult, ChainHead]:
            older = conn.execute("SELECT max(seq) FROM events WHERE ts < ?", (job.before,))
            cutoff = min(older.fetchone()[0] or 0, self._head.seq - 1)
            purged = 0
            if cutoff >= self._base_seq:
                purged = conn.execute("DELETE FROM events WHERE seq <= ?", (cutoff,)).rowcount
                first = conn.execute("SELECT prev_hash FROM events WHERE seq = ?", (cutoff + 1,))
                _set_meta(conn, base_seq=str(cutoff + 1), base_hash=first.fetchone()[0])
                self._base_seq = cutoff + 1
            payload = {"before": job.before, "purged": purged, "base_seq": self._base_seq}
            record = AuditEvent(PURGED_KIND, job.actor, None, payload)
            chained = self._chain([_Append(record, Future())], self._head)
            for _, exc in chained.failed:
                raise exc
            conn.executemany(_INSERT, chained.rows)
            return PurgeResult(purged, self._base_seq), chained.head

        try:
            result, head = self._transaction(run)
        except Exception as exc:
            self._last_ts, self._base_seq = last_ts, base_seq
            job.future.set_exception(exc)
            return
        with self._state_lock:
            self._head = head
        job.future.set_result(result)

    def _transaction(self, work: Callable[[sqlite3.Connection], T]) -> T:
        conn = self._writer
        assert conn is not None
        conn.execute("BEGIN IMMEDIATE")
        try:
            result = work(conn)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        return result

    # -- reading ---------------------------------------------------------------------

    def head(self) -> ChainHead:
        """The newest committed event (``seq`` 0 and the genesis hash when empty)."""
        with self._state_lock:
            if not self._open:
                raise StockadeError("the audit log is not open")
            return self._head

    def get(self, seq: int) -> StoredEvent | None:
        rows = self._read(_SELECT + " WHERE seq = ?", (seq,))
        return _stored(rows[0]) if rows else None

    def query(
        self,
        *,
        after: int = 0,
        limit: int = 100,
        kind: str | None = None,
        session: str | None = None,
        since: str | None = None,
        until: str | None = None,
        descending: bool = False,
    ) -> list[StoredEvent]:
        """A page of events; ``since`` is inclusive, ``until`` exclusive.

        Ascending pages continue with ``after`` = the last seq seen. Descending pages
        start at the newest event when ``after`` is 0, and otherwise return events
        with seq below ``after``, so the same cursor works in both directions.
        """
        if limit < 1:
            raise ValueError("limit must be at least 1")
        where: list[str] = []
        args: list[Any] = []
        if descending and after > 0:
            where.append("seq < ?")
            args.append(after)
        elif not descending:
            where.append("seq > ?")
            args.append(after)
        for clause, value in (
            ("kind = ?", kind),
            ("session = ?", session),
            ("ts >= ?", None if since is None else normalize_ts(since)),
            ("ts < ?", None if until is None else normalize_ts(until)),
        ):
            if value is not None:
                where.append(clause)
                args.append(value)
        sql = _SELECT  # only the fixed clauses above are joined; values are bound
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += f" ORDER BY seq {'DESC' if descending else 'ASC'} LIMIT ?"
        return [_stored(row) for row in self._read(sql, (*args, limit))]

    def iter_all(self, batch: int = 10_000) -> Iterator[StoredEvent]:
        """Every event in seq order, read in batches so the read lock is never held long."""
        after = 0
        while rows := self._read(
            _SELECT + " WHERE seq > ? ORDER BY seq LIMIT ?",
            (after, batch),
        ):
            yield from (_stored(row) for row in rows)
            after = rows[-1][0]

    def _read(self, sql: str, args: tuple[Any, ...]) -> list[_Row]:
        with self._read_lock:
            if self._reader is None or self._closed:
                raise StockadeError("the audit log is not open")
            return self._reader.execute(sql, args).fetchall()


def _create_private(path: Path) -> None:
    """Create the file 0600 before SQLite does (SQLite would honour the umask).

    ``O_NOFOLLOW`` refuses a planted symlink; the ``fchmod`` also repairs the mode of
    a file created under a restrictive umask. SQLite gives -wal and -shm this mode.
    """
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    try:
        os.fchmod(fd, 0o600)
    finally:
        os.close(fd)


def _prepare(conn: sqlite3.Connection) -> None:
    mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
    if mode != "wal":
        raise StockadeError(f"cannot put the audit log in WAL mode (got {mode!r})")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("PRAGMA secure_delete = ON")  # purged rows are overwritten, not left in free pages
    conn.executescript(_SCHEMA.format(genesis=GENESIS_HASH, version=SCHEMA_VERSION))
    (version,) = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    if version != SCHEMA_VERSION:
        raise StockadeError(
            f"audit log schema version {version} is not supported (expected {SCHEMA_VERSION})",
            "upgrade stockade, or move the log aside",
        )


def _set_meta(conn: sqlite3.Connection, **values: str) -> None:
    conn.executemany("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", values.items())


def _check_tail(conn: sqlite3.Connection, path: Path) -> tuple[ChainHead, str, int]:
    """The committed head, its time and the chain base; refuses a tail that does not hash."""
    meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
    base_seq = int(meta["base_seq"])
    rows = conn.execute(_SELECT + " ORDER BY seq DESC LIMIT 2").fetchall()
    if not rows:
        return ChainHead(0, GENESIS_HASH), "", base_seq
    last: _Row = rows[0]
    seq, ts, kind, actor, session, payload, prev_hash, digest = last
    expected_prev = rows[1][7] if len(rows) > 1 else meta["base_hash"]
    if (
        prev_hash != expected_prev
        or event_hash(prev_hash, seq, ts, kind, actor, session, payload) != digest
    ):
        raise AuditIntegrityError(
            f"the newest audit event (seq {seq}) in {path} does not verify",
            "run `stockade audit verify` to find the first bad event; the log was not written",
        )
    return ChainHead(seq, digest), ts, base_seq


def _stored(row: _Row) -> StoredEvent:
    seq, ts, kind, actor, session, payload, prev_hash, digest = row
    return StoredEvent(seq, ts, kind, actor, session, json.loads(payload), prev_hash, digest)


def _settle(outcomes: list[tuple[_Append, StoredEvent | Exception]]) -> None:
    """Resolve each caller: one wake-up per event loop per batch, not one per event."""
    by_loop: dict[asyncio.AbstractEventLoop, list[tuple[_Append, StoredEvent | Exception]]] = {}
    for job, outcome in outcomes:
        if job.loop is None:
            _resolve([(job, outcome)])
        else:
            by_loop.setdefault(job.loop, []).append((job, outcome))
    for loop, batch in by_loop.items():
        try:
            loop.call_soon_threadsafe(_resolve, batch)
        except RuntimeError:  # that loop is closed: nobody is waiting any more
            pass


def _resolve(outcomes: list[tuple[_Append, StoredEvent | Exception]]) -> None:
    for job, outcome in outcomes:
        if job.future.done():  # an asyncio caller that was cancelled
            continue
        if isinstance(outcome, Exception):
            job.future.set_exception(outcome)
        else:
            job.future.set_result(outcome)
