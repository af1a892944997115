"""Signed checkpoints: the daemon's signature over the chain head, now and then.

A hash chain shows an edit, but not a chain rebuilt with fresh hashes, nor a tail cut
off. So every ``[audit] checkpoint_every_events`` events or ``checkpoint_every_s``
seconds (when the head moved), on the first commit after the log is opened and when
it is closed (after ``daemon.stopped`` is durable), the writer thread signs the head
and stores the checkpoint in the ``checkpoints`` table of the same database
(ADR 0006). Signing happens after the batch's callers were answered, so a decision
never waits for it.

The signed statement is the RFC 8785 canonical JSON
(:func:`stockade.identity.canonical.canonical_json`) of::

    {"fingerprint": "SHA256:…", "hash": "<hex hash of event seq>", "seq": 123,
     "ts": "<RFC 3339 time of signing>", "type": "stockade.audit.checkpoint.v1"}

``type`` keeps a checkpoint signature from ever being taken for another statement
the same key signs. An **anchor** is one checkpoint as a self-contained JSON object
(the statement, ``public_key`` and ``signature``) to be kept outside the machine:
``tests/golden/identity_vectors.json`` pins the bytes and a signature.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from stockade.audit.events import ChainHead
from stockade.identity.canonical import canonical_json
from stockade.identity.keys import SIGNATURE_BYTES, PublicKey, b64decode, b64encode

CHECKPOINT_TYPE = "stockade.audit.checkpoint.v1"
SCHEMA = """
CREATE TABLE IF NOT EXISTS checkpoints (
    seq INTEGER PRIMARY KEY, hash TEXT NOT NULL, ts TEXT NOT NULL,
    fingerprint TEXT NOT NULL, signature TEXT NOT NULL
);
"""
_INSERT = "INSERT INTO checkpoints (seq, hash, ts, fingerprint, signature) VALUES (?, ?, ?, ?, ?)"
_SELECT = "SELECT seq, hash, ts, fingerprint, signature FROM checkpoints"


class Signer(Protocol):
    """What signs a checkpoint: :class:`stockade.identity.keys.SigningKey`."""

    @property
    def fingerprint(self) -> str: ...

    def sign(self, message: bytes) -> bytes: ...


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """One signed chain head; ``signature`` is base64."""

    seq: int
    hash: str
    ts: str
    fingerprint: str
    signature: str

    def statement(self) -> dict[str, Any]:
        return statement(self.seq, self.hash, self.ts, self.fingerprint)

    def verifies_with(self, public: PublicKey) -> bool:
        """True when ``public`` is the signing key and the signature covers this head."""
        if public.fingerprint != self.fingerprint:
            return False
        try:
            signature = b64decode(self.signature, SIGNATURE_BYTES, "signature")
            message = canonical_json(self.statement())
        except ValueError:
            return False
        return public.verify(signature, message)

    def to_json(self) -> dict[str, Any]:
        return {**self.statement(), "signature": self.signature}

    def anchor(self, public: PublicKey) -> dict[str, Any]:
        """The self-contained form to keep elsewhere (``stockade audit anchor``)."""
        return {**self.to_json(), "public_key": public.b64}


def statement(seq: int, digest: str, ts: str, fingerprint: str) -> dict[str, Any]:
    """The object whose canonical bytes are signed (see the module docstring)."""
    return {
        "type": CHECKPOINT_TYPE,
        "seq": seq,
        "hash": digest,
        "ts": ts,
        "fingerprint": fingerprint,
    }


def sign_head(head: ChainHead, signer: Signer, ts: str) -> Checkpoint:
    message = canonical_json(statement(head.seq, head.hash, ts, signer.fingerprint))
    return Checkpoint(head.seq, head.hash, ts, signer.fingerprint, b64encode(signer.sign(message)))


def parse_anchor(data: Any) -> tuple[Checkpoint, PublicKey]:
    """An anchor object back into its checkpoint and key; ``ValueError`` says what is wrong."""
    if not isinstance(data, dict):
        raise ValueError("an anchor is a JSON object")
    expected = {"type", "seq", "hash", "ts", "fingerprint", "signature", "public_key"}
    if set(data) != expected:
        raise ValueError(f"an anchor has exactly the fields {', '.join(sorted(expected))}")
    if data["type"] != CHECKPOINT_TYPE:
        raise ValueError(f"type must be {CHECKPOINT_TYPE!r}")
    seq = data["seq"]
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1:
        raise ValueError("seq must be a positive integer")
    texts = [data[key] for key in ("hash", "ts", "fingerprint", "signature", "public_key")]
    if not all(isinstance(text, str) for text in texts):
        raise ValueError("hash, ts, fingerprint, signature and public_key must be strings")
    public = PublicKey.from_b64(data["public_key"])
    checkpoint = Checkpoint(seq, data["hash"], data["ts"], data["fingerprint"], data["signature"])
    return checkpoint, public


def insert(conn: sqlite3.Connection, checkpoint: Checkpoint) -> None:
    conn.execute(
        _INSERT,
        (
            checkpoint.seq,
            checkpoint.hash,
            checkpoint.ts,
            checkpoint.fingerprint,
            checkpoint.signature,
        ),
    )


def read_all(conn: sqlite3.Connection) -> list[Checkpoint]:
    """Every checkpoint, oldest first; none in a log from before checkpoints existed."""
    try:
        rows = conn.execute(_SELECT + " ORDER BY seq").fetchall()
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):
            return []
        raise
    return [Checkpoint(*(_text(value) for value in row)) for row in rows]


def newest_seq(conn: sqlite3.Connection) -> int:
    (seq,) = conn.execute("SELECT coalesce(max(seq), 0) FROM checkpoints").fetchone()
    return int(seq)


def _text(value: Any) -> Any:
    """Rows read with ``text_factory = bytes`` (the verifier's) come back as text here."""
    return value.decode(errors="backslashreplace") if isinstance(value, bytes) else value


class Checkpointer:
    """When to sign, and with which key; used by the writer thread only.

    ``signer`` may be replaced at any time (key rotation): the next checkpoint is
    signed with the new key.
    """

    def __init__(
        self,
        signer: Signer,
        *,
        every_events: int,
        every_s: float,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if every_events < 1 or every_s <= 0:
            raise ValueError("checkpoints need every_events >= 1 and every_s > 0")
        self.signer = signer
        self.every_events = every_events
        self.every_s = every_s
        self._monotonic = monotonic
        self._seq = 0
        self._at: float | None = None  # none yet in this run: the first commit signs

    def resume(self, newest: int) -> None:
        """Continue after the newest checkpoint already stored."""
        self._seq = newest

    def moved(self, head: ChainHead) -> bool:
        return head.seq > self._seq

    def due(self, head: ChainHead) -> bool:
        """Every N events, every T seconds, and on the first commit of the run."""
        if not self.moved(head):
            return False
        return (
            self._at is None
            or head.seq - self._seq >= self.every_events
            or self._monotonic() - self._at >= self.every_s
        )

    def wait_s(self, head: ChainHead) -> float | None:
        """How long the writer may sleep before a checkpoint falls due (None: forever)."""
        if not self.moved(head):
            return None
        if self._at is None:
            return 0.0
        return max(0.0, self.every_s - (self._monotonic() - self._at))

    def sign(self, head: ChainHead, ts: str) -> Checkpoint:
        return sign_head(head, self.signer, ts)

    def signed(self, checkpoint: Checkpoint) -> None:
        """Record that ``checkpoint`` is durable."""
        self._seq = checkpoint.seq
        self._at = self._monotonic()

    def failed(self) -> None:
        """A checkpoint could not be stored: try again a period later, not at once."""
        self._at = self._monotonic()
