"""Key rotation, by the running daemon or (with none running) on disk under its lock.

Either way the same steps: a new key is made, the rotation statement is signed by the
old and the new key (:mod:`stockade.identity.rotation`), the files are switched (the
old public key kept as retired, so every checkpoint it signed still verifies), the
``identity.rotated`` event is appended, and the head is signed with the new key at
once. A running daemon switches its checkpoint signer in the same step, so nothing is
signed with the old key after the event.

Capability tokens signed by the old key grant nothing once it is retired (ADR 0007):
the answer lists them under ``grants.must_reissue``, and with ``reissue`` each is
signed again with the new key (``cap.reissued``, :mod:`stockade.caps.reissue`).
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from stockade.audit import AuditEvent, SqliteAuditStore
from stockade.audit.checkpoints import Checkpointer
from stockade.audit.events import format_ts
from stockade.caps.book import CapabilityBook
from stockade.caps.reissue import after_rotation
from stockade.config.model import AuditSettings
from stockade.errors import DaemonAlreadyRunning, StockadeError
from stockade.home import Home
from stockade.identity.keys import SigningKey
from stockade.identity.rotation import ROTATED_KIND, sign_rotation
from stockade.identity.store import IdentityFiles


@dataclass(frozen=True, slots=True)
class Rotation:
    """What a rotation did: the API answer of ``POST /identity/rotate``."""

    old_fingerprint: str
    new_fingerprint: str
    event_seq: int
    ts: str
    grants: dict[str, Any]  # {"must_reissue": [token ids], "reissued": [token ids]}

    def to_json(self) -> dict[str, Any]:
        return {
            "rotated": True,
            "old_fingerprint": self.old_fingerprint,
            "new_fingerprint": self.new_fingerprint,
            "event_seq": self.event_seq,
            "ts": self.ts,
            "grants": self.grants,
        }


def checkpointer(key: SigningKey, settings: AuditSettings) -> Checkpointer:
    """The daemon's checkpoint schedule (``[audit] checkpoint_every_*``) with ``key``."""
    return Checkpointer(
        key, every_events=settings.checkpoint_every_events, every_s=settings.checkpoint_every_s
    )


def now() -> str:
    return format_ts(datetime.now(UTC))


def _switch_keys(files: IdentityFiles, ts: str) -> tuple[SigningKey, dict[str, Any]]:
    """New key, statement signed by both, files switched; returns the key and the payload."""
    old = files.load_signing_key()
    new = SigningKey.generate()
    payload = sign_rotation(old, new, ts)
    files.replace(old, new, ts)
    return new, payload


_rotating = asyncio.Lock()  # one rotation at a time: each hands over from the key before it


async def rotate_in_daemon(
    home: Home,
    store: SqliteAuditStore,
    actor: str,
    *,
    book: CapabilityBook | None = None,
    reissue: bool = False,
) -> Rotation:
    """Rotate the running daemon's key (it holds ``daemon.lock``, so the files are its own).

    ``book`` (the daemon's live grants) is told of the new keyring in the same step.
    """
    signer = store.checkpointer
    if signer is None:
        raise StockadeError("this daemon signs no checkpoints, so it has no key to rotate")
    async with _rotating:
        ts = now()
        new, payload = await asyncio.to_thread(_switch_keys, IdentityFiles(home), ts)
        signer.signer = new  # from here on every checkpoint is signed with the new key
        event = await store.append(AuditEvent(ROTATED_KIND, actor, None, payload))
        await asyncio.to_thread(store.checkpoint)
        grants = await asyncio.to_thread(
            after_rotation, home, new, store.append_blocking, actor, reissue=reissue
        )
        if book is not None:
            await asyncio.to_thread(book.refresh)  # the new keyring and the reissued grants
    return _rotation(payload, event.seq, grants)


def rotate_offline(home: Home, actor: str, *, reissue: bool = False) -> Rotation:
    """Rotate with no daemon running, holding ``daemon.lock`` so that none starts meanwhile."""
    files = IdentityFiles(home)
    try:
        fd = home.lock_exclusive()
    except BlockingIOError:
        raise DaemonAlreadyRunning(
            "a Stockade daemon is starting on this home", "run the rotation again once it answers"
        ) from None
    try:
        signer = checkpointer(files.load_signing_key(), AuditSettings())
        store = SqliteAuditStore(home.audit_path, checkpointer=signer)
        store.open()  # before the switch: a log that cannot be written stops it
        try:
            new, payload = _switch_keys(files, now())
            signer.signer = new  # the first commit (the event) is checkpointed with the new key
            event = store.append_blocking(AuditEvent(ROTATED_KIND, actor, None, payload))
            grants = after_rotation(home, new, store.append_blocking, actor, reissue=reissue)
        finally:
            store.close()
    finally:
        os.close(fd)
    return _rotation(payload, event.seq, grants)


def _rotation(payload: dict[str, Any], seq: int, grants: dict[str, Any]) -> Rotation:
    statement = payload["statement"]
    return Rotation(
        statement["old_fingerprint"], statement["new_fingerprint"], seq, statement["ts"], grants
    )
