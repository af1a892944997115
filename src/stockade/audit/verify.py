"""Check a whole audit log, read-only, while the daemon keeps writing it.

The verifier opens the file with ``mode=ro`` (it can never repair or extend the
log) and reads one WAL snapshot. Rows come back as raw bytes: the hash covers the
stored text exactly, so nothing is decoded or parsed on the hot path, which keeps
it well above 200 000 events/s.

What it catches, naming the first bad seq:

- an edited field (ts, kind, actor, session, payload, hash): the hash does not recompute;
- an edited ``prev_hash``, a deleted, inserted or reordered event: a seq gap or a
  ``prev_hash`` that is not the previous event's hash;
- a prefix deleted outside :meth:`SqliteAuditStore.purge_before`: the first event is
  not the recorded base, or the base is not the one the last ``audit.purged`` event
  announced.

What no chain can catch on its own: events cut from the end, or the whole log
rewritten with fresh hashes. Given the identity's public keys (``keys``), the signed
checkpoints catch both (:mod:`stockade.audit.signed`), up to the newest checkpoint;
given a kept ``anchor``, nothing before it can change unnoticed, whoever holds the key.

The report names the first seq that cannot be trusted and the check that failed
(``chain`` for the hash chain itself).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from stockade.audit.chain import GENESIS_HASH, event_hash_raw
from stockade.audit.checkpoints import Checkpoint
from stockade.audit.events import PURGED_KIND, ChainHead
from stockade.audit.signed import Chain, Coverage, Finding, check_anchor, check_checkpoints
from stockade.errors import StockadeError
from stockade.identity.keys import PublicKey
from stockade.identity.store import KeyRing

PROGRESS_EVERY = 50_000
_FETCH = 10_000


@dataclass(frozen=True, slots=True)
class VerifyReport:
    """The outcome: ``ok``, how many events were checked, and the first problem."""

    ok: bool
    checked: int
    first_bad_seq: int | None
    problem: str | None
    head: ChainHead
    check: str | None = None
    checkpoints: Coverage | None = None  # None: no keys were given, signatures not checked
    anchor: Checkpoint | None = None

    def to_json(self) -> dict[str, Any]:
        """The API v1 ``VerifyReport`` object."""
        return {
            "ok": self.ok,
            "checked": self.checked,
            "first_bad_seq": self.first_bad_seq,
            "check": self.check,
            "problem": self.problem,
            "head": self.head.to_json(),
            "checkpoints": None if self.checkpoints is None else self.checkpoints.to_json(),
            "anchor": None if self.anchor is None else self.anchor.to_json(),
        }


class _Bad(Exception):
    """The first problem found, after ``checked`` good events."""

    def __init__(self, seq: int, problem: str, checked: int) -> None:
        super().__init__(problem)
        self.seq, self.problem, self.checked = seq, problem, checked


def open_readonly(path: Path) -> sqlite3.Connection:
    """The log opened read-only (``mode=ro``: nothing here can repair or extend it)."""
    if not path.is_file():
        raise StockadeError(f"no audit log at {path}", "the daemon creates it when it starts")
    conn = sqlite3.connect(f"file:{quote(str(path.resolve()))}?mode=ro", uri=True)
    conn.isolation_level = None
    return conn


def open_snapshot(path: Path) -> sqlite3.Connection:
    """The log read-only, in one snapshot (rows as raw bytes) until the connection closes."""
    conn = open_readonly(path)
    conn.text_factory = bytes
    try:
        conn.execute("BEGIN")  # one snapshot for meta, head and every row
    except BaseException:
        conn.close()
        raise
    return conn


def read_bounds(conn: sqlite3.Connection, path: Path) -> tuple[int, bytes, ChainHead]:
    """The chain's base (seq and hash, as stored) and its head, in ``conn``'s snapshot."""
    try:
        meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
        base_seq, base_hash = int(meta[b"base_seq"]), meta[b"base_hash"]
    except (sqlite3.DatabaseError, KeyError, ValueError) as exc:
        raise StockadeError(f"{path} is not a Stockade audit log ({exc})") from None
    top = conn.execute("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1").fetchone()
    if top is None:
        return base_seq, base_hash, ChainHead(0, GENESIS_HASH)
    return base_seq, base_hash, ChainHead(top[0], top[1].decode(errors="backslashreplace"))


def verify_database(
    path: Path,
    *,
    progress: Callable[[int, int], None] | None = None,
    keys: KeyRing | None = None,
    anchor: tuple[Checkpoint, PublicKey] | None = None,
) -> VerifyReport:
    """Verify the chain in ``path``; ``progress(checked, total)`` is called every ~50k events.

    With ``keys`` the checkpoints are checked too; with ``anchor`` (a parsed
    :func:`~stockade.audit.checkpoints.parse_anchor`) the log must still hold its event.
    """
    conn = open_snapshot(path)
    try:
        base_seq, base_hash, head = read_bounds(conn, path)
        total = conn.execute("SELECT count(*) FROM events").fetchone()[0]
        found: list[Finding] = []
        try:
            checked = _scan(conn, base_seq, base_hash, total, progress)
        except _Bad as bad:
            checked = bad.checked
            found.append(Finding(bad.seq, "chain", bad.problem))
        chain = Chain(base_seq, base_hash.decode(errors="backslashreplace"), head)
        coverage = None
        if keys is not None:
            coverage, signed = check_checkpoints(conn, chain, keys)
            found.extend(signed)
        if anchor is not None:
            found.extend(check_anchor(conn, chain, keys, anchor))
    finally:
        conn.close()
    kept = None if anchor is None else anchor[0]
    if not found:
        return VerifyReport(True, checked, None, None, head, None, coverage, kept)
    first = min(found, key=lambda finding: finding.seq)  # stable: the chain's wins a tie
    return VerifyReport(False, checked, first.seq, first.problem, head, first.check, coverage, kept)


def _scan(
    conn: sqlite3.Connection,
    base_seq: int,
    base_hash: bytes,
    total: int,
    progress: Callable[[int, int], None] | None,
) -> int:
    """Walk every row in seq order; raises :class:`_Bad` at the first broken link."""
    cursor = conn.execute(
        "SELECT seq, ts, kind, actor, session, payload, prev_hash, hash FROM events ORDER BY seq"
    )
    expected, prev, checked = base_seq, base_hash, 0
    purge_seq, purge_payload = 0, b""
    digest = event_hash_raw
    purged_kind = PURGED_KIND.encode()
    while rows := cursor.fetchmany(_FETCH):
        for seq, ts, kind, actor, session, payload, prev_hash, stored in rows:
            if seq != expected or prev_hash != prev:
                raise _link_problem(seq, expected, base_seq)
            try:
                recomputed = digest(prev_hash, seq, ts, kind, actor, session, payload).encode()
            except TypeError:  # a NULL where text belongs: the schema itself was altered
                recomputed = b""
            if recomputed != stored:
                problem = f"event {seq} was altered: its hash does not match its fields"
                raise _Bad(seq, problem, expected - base_seq)
            if kind == purged_kind:
                purge_seq, purge_payload = seq, payload
            prev = stored
            expected += 1
        checked_before, checked = checked, checked + len(rows)
        if progress is not None and checked // PROGRESS_EVERY > checked_before // PROGRESS_EVERY:
            progress(checked, total)
    if progress is not None and checked % PROGRESS_EVERY:
        progress(checked, total)
    if (base_seq, base_hash) != (1, GENESIS_HASH.encode()):
        _check_purge_record(base_seq, purge_seq, purge_payload, checked)
    return checked


def _link_problem(seq: int, expected: int, base_seq: int) -> _Bad:
    checked = expected - base_seq
    if seq > expected:
        missing = f"events {expected}..{seq - 1} are missing"
        if expected == base_seq:
            recorded = "no purge recorded" if base_seq == 1 else f"the log starts at {base_seq}"
            missing += f" ({recorded})"
        return _Bad(expected, missing, checked)
    if seq < expected:
        return _Bad(seq, f"event {seq} is before the recorded start ({base_seq})", checked)
    if seq == base_seq:
        return _Bad(seq, f"event {seq} does not continue from the recorded chain base", checked)
    problem = f"event {seq} does not link to event {seq - 1} (inserted, moved or edited)"
    return _Bad(seq, problem, checked)


def _check_purge_record(base_seq: int, purge_seq: int, purge_payload: bytes, checked: int) -> None:
    """A moved chain base must be vouched for by the last ``audit.purged`` event."""
    try:
        announced = json.loads(purge_payload).get("base_seq") if purge_seq else None
    except (ValueError, AttributeError):  # a forged record that is not a JSON object
        announced = None
    if announced != base_seq:
        problem = f"the log starts at {base_seq} but no audit.purged event records that base"
        raise _Bad(base_seq, problem, checked)
