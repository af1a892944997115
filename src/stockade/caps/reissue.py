"""After a key rotation: which live grants the old key signed, and re-signing them.

Once the key is rotated, a token signed by the old key grants nothing (ADR 0007: the
old key may be why it was rotated, and whoever holds it must not be able to mint
grants). So a rotation reports every token that was live under the old key, and with
``--reissue`` signs each again with the new key: same id, agent, capability,
constraints, issue time and expiry; a ``cap.reissued`` event records the new token's
sha256 and the old one's, so the drift check can follow the file to its grant.

One synchronous function for both callers: the running daemon (in a thread) and the
offline rotation under ``daemon.lock``; ``append`` writes one audit event and returns
its seq (``SqliteAuditStore.append_blocking`` in both).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from stockade.audit import AuditEvent, StoredEvent
from stockade.caps.files import load_revoked, read_token, token_files, write_token
from stockade.caps.ledger import REISSUED, read_ledger, revoked_ids
from stockade.caps.token import Token, TokenError, resign
from stockade.home import Home
from stockade.identity import IdentityFiles, SigningKey

Append = Callable[[AuditEvent], StoredEvent]


def stale_tokens(home: Home, key: SigningKey) -> list[Token]:
    """Tokens live but for their key: signed by a retired key of ours, not revoked, not expired."""
    ring = IdentityFiles(home).keyring()
    revoked = load_revoked(home) | revoked_ids(read_ledger(home.audit_path))
    now = time.time()
    stale = []
    for path in token_files(home):
        try:
            token = read_token(path)
        except (TokenError, OSError):
            continue  # grants nothing either way; the drift check names it
        if token.key_fingerprint == key.fingerprint or token.id in revoked:
            continue
        if token.signature_problem(ring, allow_retired=True) is not None:
            continue
        expires = token.expires_epoch
        if expires is not None and expires <= now:
            continue
        stale.append(token)
    return stale


def after_rotation(
    home: Home, key: SigningKey, append: Append, by: str, *, reissue: bool
) -> dict[str, Any]:
    """The ``grants`` part of a rotation's answer; re-signs the stale tokens if ``reissue``."""
    stale = stale_tokens(home, key)
    reissued: list[str] = []
    if reissue:
        for token in stale:
            fresh = resign(token, key)
            payload = {
                "cap_id": fresh.id,
                "agent": fresh.agent,
                "sha256": fresh.sha256,
                "old_sha256": token.sha256,
                "key_fingerprint": key.fingerprint,
                "by": by,
            }
            append(AuditEvent(REISSUED, by, None, payload))
            write_token(home, fresh)
            reissued.append(fresh.id)
    return {
        "must_reissue": [token.id for token in stale if token.id not in reissued],
        "reissued": reissued,
    }
