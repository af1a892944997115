"""The audit log in SQLite: the file, its schema, the store's API, and reading.

:class:`SqliteAuditStore` creates the file private (0600), puts it in WAL mode with
``synchronous=FULL`` so that every commit is durable, refuses a tail that does not
hash, and hands every write to one :class:`~stockade.audit.writer.AuditWriter` thread,
which commits a batch of appends at once and answers a caller only once its row is on
disk. WAL lets readers (a second connection, ``verify``, ``stockade audit``) run without
ever blocking the writer.
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from stockade.audit.chain import GENESIS_HASH, event_hash
from stockade.audit.events import AuditEvent, ChainHead, StoredEvent, normalize_ts
from stockade.audit.sessions import SessionSummary, list_sessions
from stockade.audit.writer import Append, AuditWriter, OnStored, Purge, PurgeResult, Row
from stockade.errors import AuditIntegrityError, StockadeError

__all__ = ["SCHEMA_VERSION", "PurgeResult", "SqliteAuditStore"]

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

T = TypeVar("T")


class SqliteAuditStore:
    """Append-only, hash-chained audit log in one SQLite file (see the module docstring)."""

    def __init__(
        self,
        path: Path,
        *,
        redactor: Callable[[Any], Any] | None = None,
        clock: Callable[[], datetime] | None = None,
        max_batch: int = 512,
        on_stored: OnStored | None = None,
    ) -> None:
        """``on_stored`` is told of each committed batch, on the writer thread (see
        :mod:`stockade.audit.writer`)."""
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        self._path = path
        self._redactor = redactor
        self._clock = clock or (lambda: datetime.now(UTC))
        self._max_batch = max_batch
        self._on_stored = on_stored
        self._state_lock = threading.Lock()  # guards _open, _closed and submitting jobs
        self._read_lock = threading.Lock()
        self._open = False
        self._closed = False
        self._connection: sqlite3.Connection | None = None  # the writer's
        self._reader: sqlite3.Connection | None = None
        self._writer: AuditWriter | None = None

    # -- lifecycle -------------------------------------------------------------------

    def open(self) -> None:
        """Create (0600) or open the log, check its tail, and start the writer thread."""
        with self._state_lock:
            if self._open or self._closed:
                raise StockadeError("the audit store can be opened only once")
            _create_private(self._path)
            conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
            try:
                _prepare(conn)
                tail = _check_tail(conn, self._path)
            except BaseException:
                conn.close()
                raise
            self._connection = conn
            self._reader = sqlite3.connect(self._path, check_same_thread=False)
            self._reader.execute("PRAGMA query_only = ON")

            def transaction(work: Callable[[sqlite3.Connection], T]) -> T:
                # looked up at each commit, so that one can be made to fail on demand
                return self._transaction(work)

            self._writer = AuditWriter(
                transaction,
                *tail,
                redactor=self._redactor,
                clock=self._clock,
                max_batch=self._max_batch,
                on_stored=self._on_stored,
            )
            self._open = True

    def close(self) -> None:
        """Finish every queued append, stop the writer, close both connections."""
        with self._state_lock:
            if not self._open or self._closed:
                self._closed = True
                return
            self._closed = True  # from here on nothing is submitted
        assert self._writer is not None
        assert self._connection is not None and self._reader is not None
        self._writer.stop()
        self._connection.close()
        with self._read_lock:
            self._reader.close()

    # -- writing ---------------------------------------------------------------------

    async def append(self, event: AuditEvent) -> StoredEvent:
        """Append ``event``; returns once its row is committed and fsynced.

        A cancelled caller does not un-queue the event: it is still written.
        """
        loop = asyncio.get_running_loop()
        future: asyncio.Future[StoredEvent] = loop.create_future()
        self._submit(Append(event, future, loop))
        return await future

    def append_blocking(self, event: AuditEvent) -> StoredEvent:
        """:meth:`append` for threads without an event loop."""
        future: Future[StoredEvent] = Future()
        self._submit(Append(event, future))
        return future.result()

    def purge_before(self, before: str, *, actor: str = "daemon") -> PurgeResult:
        """Delete events older than ``before`` (RFC 3339), never the newest one.

        The chain base (first kept seq and its prev_hash) goes to ``meta`` and an
        ``audit.purged`` event records the purge, in the same transaction, so that
        ``verify`` can tell a purge from a deleted prefix.
        """
        future: Future[PurgeResult] = Future()
        self._submit(Purge(normalize_ts(before), actor, future))
        return future.result()

    def _submit(self, job: Append | Purge) -> None:
        with self._state_lock:
            if not self._open or self._closed:
                state = "closed" if self._closed else "not open"
                raise StockadeError(f"the audit log is {state}", "nothing was recorded")
            assert self._writer is not None
            self._writer.submit(job)

    def _transaction(self, work: Callable[[sqlite3.Connection], T]) -> T:
        conn = self._connection
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
            assert self._writer is not None
            return self._writer.head

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
        tool: str | None = None,
        verdict: str | None = None,
        harness: str | None = None,
        descending: bool = False,
    ) -> list[StoredEvent]:
        """A page of events; ``since`` is inclusive, ``until`` exclusive.

        Ascending pages continue with ``after`` = the last seq seen. Descending pages
        start at the newest event when ``after`` is 0, and otherwise return events
        with seq below ``after``, so the same cursor works in both directions.
        ``tool``, ``verdict`` and ``harness`` match the payload's fields of those names
        exactly, with ``json_extract`` and no index: the scan walks seq order from the
        cursor and stops once the page is full.
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
            ("json_extract(payload, '$.tool') = ?", tool),
            ("json_extract(payload, '$.verdict') = ?", verdict),
            ("json_extract(payload, '$.harness') = ?", harness),
        ):
            if value is not None:
                where.append(clause)
                args.append(value)
        sql = _SELECT  # only the fixed clauses above are joined; values are bound
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += f" ORDER BY seq {'DESC' if descending else 'ASC'} LIMIT ?"
        return [_stored(row) for row in self._read(sql, (*args, limit))]

    def sessions(self, *, limit: int = 50, offset: int = 0) -> list[SessionSummary]:
        """Sessions seen in the log, newest activity first (:mod:`stockade.audit.sessions`)."""
        return list_sessions(self._read, limit=limit, offset=offset)

    def iter_all(self, batch: int = 10_000) -> Iterator[StoredEvent]:
        """Every event in seq order, read in batches so the read lock is never held long."""
        after = 0
        while rows := self._read(
            _SELECT + " WHERE seq > ? ORDER BY seq LIMIT ?",
            (after, batch),
        ):
            yield from (_stored(row) for row in rows)
            after = rows[-1][0]

    def _read(self, sql: str, args: tuple[Any, ...]) -> list[Row]:
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


def _check_tail(conn: sqlite3.Connection, path: Path) -> tuple[ChainHead, str, int]:
    """The committed head, its time and the chain base; refuses a tail that does not hash."""
    meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
    base_seq = int(meta["base_seq"])
    rows = conn.execute(_SELECT + " ORDER BY seq DESC LIMIT 2").fetchall()
    if not rows:
        return ChainHead(0, GENESIS_HASH), "", base_seq
    last: Row = rows[0]
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


def _stored(row: Row) -> StoredEvent:
    seq, ts, kind, actor, session, payload, prev_hash, digest = row
    return StoredEvent(seq, ts, kind, actor, session, json.loads(payload), prev_hash, digest)
