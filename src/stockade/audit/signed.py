"""The checks of a log's signed parts: checkpoints, key rotations, and a kept anchor.

The chain alone shows an edit but not a rebuilt chain or a cut tail. Here, with the
identity's public keys (current and retired):

- ``checkpoint.signature``: every checkpoint is signed by a known key;
- ``checkpoint.event``: the event at each checkpoint's seq still has the signed hash
  (a chain rebuilt with recomputed hashes no longer does);
- ``checkpoint.beyond_log``: no checkpoint covers a seq past the last event (a cut tail);
- ``checkpoint.stop``: every ``daemon.stopped`` since the first checkpoint is covered by
  one at its seq (the daemon signs right after it), so a tail cut back past a clean stop
  shows even when the newest checkpoints were deleted with it;
- ``checkpoint.missing``: a log with events and an identity has at least one;
- ``identity.rotation``: each ``identity.rotated`` event is signed by both its keys,
  and both are known;
- ``anchor.*``: a kept anchor's own signature, its key, and its event.

Each runs on the verifier's snapshot after the chain scan, with a handful of indexed
queries and one signature check per checkpoint, never per event.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass

from stockade.audit.checkpoints import Checkpoint, read_all
from stockade.audit.events import ChainHead
from stockade.identity.keys import PublicKey
from stockade.identity.rotation import ROTATED_KIND, rotation_keys
from stockade.identity.store import KeyRing

STOPPED_KIND = "daemon.stopped"


@dataclass(frozen=True, slots=True)
class Finding:
    """One failed check: the first seq that cannot be trusted, the check's id, and why."""

    seq: int
    check: str
    problem: str


@dataclass(frozen=True, slots=True)
class Coverage:
    """What the checkpoints cover: counted in the report."""

    checked: int
    newest_seq: int | None
    unsigned_tail: int

    def to_json(self) -> dict[str, int | None]:
        return {
            "checked": self.checked,
            "newest_seq": self.newest_seq,
            "unsigned_tail": self.unsigned_tail,
        }


@dataclass(frozen=True, slots=True)
class Chain:
    """The log's bounds in the verifier's snapshot."""

    base_seq: int
    base_hash: str
    head: ChainHead

    def event_hash(self, conn: sqlite3.Connection, seq: int) -> str | None:
        """The stored hash of event ``seq`` (the base hash for ``base_seq - 1``)."""
        if seq == self.base_seq - 1:
            return self.base_hash
        row = conn.execute("SELECT hash FROM events WHERE seq = ?", (seq,)).fetchone()
        return None if row is None else _text(row[0])


def check_checkpoints(
    conn: sqlite3.Connection, chain: Chain, keys: KeyRing
) -> tuple[Coverage, list[Finding]]:
    """Every check but the anchor's (see the module docstring)."""
    found: list[Finding] = []
    checkpoints = read_all(conn)
    proven = chain.base_seq - 1  # the newest seq a matching checkpoint vouches for
    for checkpoint in checkpoints:
        finding = _checkpoint_finding(conn, chain, keys, checkpoint, proven)
        if finding is None:
            proven = max(proven, checkpoint.seq)
        else:
            found.append(finding)
    has_events = chain.head.seq >= chain.base_seq
    if not checkpoints and has_events and keys.current is not None:
        problem = (
            "no signed checkpoint covers this log, though the daemon signs one whenever it "
            "starts: the checkpoints were deleted, or the log was replaced"
        )
        found.append(Finding(chain.base_seq, "checkpoint.missing", problem))
    if checkpoints:
        found.extend(_unsigned_stops(conn, {cp.seq for cp in checkpoints}, checkpoints[0].seq))
    found.extend(_rotation_findings(conn, chain, keys))
    newest = checkpoints[-1].seq if checkpoints else None
    tail = chain.head.seq - (newest or chain.base_seq - 1) if has_events else 0
    return Coverage(len(checkpoints), newest, max(tail, 0)), found


def check_anchor(
    conn: sqlite3.Connection,
    chain: Chain,
    keys: KeyRing | None,
    anchor: tuple[Checkpoint, PublicKey],
) -> list[Finding]:
    """A kept anchor: its signature, its key (still this identity's), and its event."""
    checkpoint, public = anchor
    seq = checkpoint.seq
    if not checkpoint.verifies_with(public):
        problem = "the anchor's signature does not verify with its own public key: it was edited"
        return [Finding(seq, "anchor.signature", problem)]
    if keys is not None and keys.find(checkpoint.fingerprint) is None:
        problem = (
            f"the anchor was signed by {checkpoint.fingerprint}, which is neither this home's "
            "identity nor a retired one: the identity was replaced"
        )
        return [Finding(seq, "anchor.key", problem)]
    return _event_findings(conn, chain, checkpoint, "anchor", "the anchor")


def _checkpoint_finding(
    conn: sqlite3.Connection, chain: Chain, keys: KeyRing, checkpoint: Checkpoint, proven: int
) -> Finding | None:
    seq = checkpoint.seq
    public = keys.find(checkpoint.fingerprint)
    if public is None:
        problem = (
            f"the checkpoint at seq {seq} is signed by {checkpoint.fingerprint}, which is "
            "neither this home's identity nor a retired one"
        )
        return Finding(seq, "checkpoint.signature", problem)
    if not checkpoint.verifies_with(public):
        problem = f"the signature of the checkpoint at seq {seq} does not verify: it was edited"
        return Finding(seq, "checkpoint.signature", problem)
    if seq < chain.base_seq - 1:
        return None  # its event was purged: nothing left to compare
    found = _event_findings(conn, chain, checkpoint, "checkpoint", f"the checkpoint at seq {seq}")
    if found and found[0].check == "checkpoint.event":
        problem = found[0].problem + f"; events after seq {proven} cannot be trusted"
        return Finding(proven + 1, "checkpoint.event", problem)
    return found[0] if found else None


def _event_findings(
    conn: sqlite3.Connection, chain: Chain, checkpoint: Checkpoint, prefix: str, name: str
) -> list[Finding]:
    """Does the log still hold the event ``checkpoint`` signed, with its hash?"""
    seq, head = checkpoint.seq, chain.head.seq
    if seq > head:
        problem = (
            f"the log ends at seq {head} but {name} (signed {checkpoint.ts}) covers seq {seq}: "
            f"events {head + 1}..{seq} were cut off"
        )
        return [Finding(head + 1, f"{prefix}.beyond_log", problem)]
    if seq < chain.base_seq - 1:
        problem = f"event {seq} of {name} was purged (the log starts at {chain.base_seq})"
        return [Finding(seq, f"{prefix}.purged", problem)]
    stored = chain.event_hash(conn, seq)
    if stored != checkpoint.hash:
        problem = (
            f"event {seq} no longer has the hash signed in {name} (signed {checkpoint.ts}): "
            "the chain was rebuilt or edited"
        )
        return [Finding(seq, f"{prefix}.event", problem)]
    return []


def _unsigned_stops(conn: sqlite3.Connection, signed: set[int], since: int) -> list[Finding]:
    rows = conn.execute(
        "SELECT seq FROM events WHERE kind = ? AND seq >= ? ORDER BY seq", (STOPPED_KIND, since)
    ).fetchall()
    return [
        Finding(
            seq,
            "checkpoint.stop",
            f"daemon.stopped at seq {seq} has no checkpoint, though the daemon signs one "
            "right after it: later events or checkpoints were cut off or deleted",
        )
        for (seq,) in rows
        if seq not in signed
    ]


def _rotation_findings(conn: sqlite3.Connection, chain: Chain, keys: KeyRing) -> list[Finding]:
    rows = conn.execute(
        "SELECT seq, payload FROM events WHERE kind = ? AND seq >= ? ORDER BY seq",
        (ROTATED_KIND, chain.base_seq),
    ).fetchall()
    found: list[Finding] = []
    for seq, payload in rows:
        try:
            old, new = rotation_keys(json.loads(payload))
        except ValueError as exc:
            found.append(Finding(seq, "identity.rotation", f"rotation at seq {seq}: {exc}"))
            continue
        unknown = [key.fingerprint for key in (old, new) if keys.find(key.fingerprint) is None]
        if unknown:
            problem = f"rotation at seq {seq} names keys this home does not know: {unknown}"
            found.append(Finding(seq, "identity.rotation", problem))
    return found


def _text(value: object) -> str:
    return value.decode(errors="backslashreplace") if isinstance(value, bytes) else str(value)
