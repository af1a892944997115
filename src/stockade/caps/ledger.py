"""The capability events of the audit log, read-only: the record tokens are checked against.

Event kinds (payloads; ``by`` is who asked: ``cli``, ``ui`` or ``api``, also the actor):

==================  ===================================================================
``agent.added``     ``agent``, ``note``, ``by``
``agent.removed``   ``agent``, ``revoked`` (ids of its grants revoked with it), ``by``
``cap.granted``     ``cap_id``, ``agent``, ``capability``, ``constraints``,
                    ``issued_at``, ``expires_at``, ``key_fingerprint``, ``sha256`` (of
                    the canonical token), ``by``
``cap.reissued``    ``cap_id``, ``agent``, ``sha256`` (the new token), ``old_sha256``,
                    ``key_fingerprint`` (the new key), ``by``
``cap.revoked``     ``cap_id``, ``agent``, ``by``
``cap.rejected``    ``cap_id`` (or the file name), ``agent`` (if known), ``problem``,
                    ``file_sha256``: a token the daemon will not honour (edited, forged,
                    expired, revoked, retired key), reported once per file content
==================  ===================================================================

The id is ``cap_id``, not ``token_id``: the audit store redacts the value of any key
named like a secret (``*_token_*``), and an id must stay readable to be matched.

Read with SQLite's ``mode=ro`` through the ``events_kind`` index, so the running
daemon keeps writing and a large log costs only the capability events it holds.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

AGENT_ADDED = "agent.added"
AGENT_REMOVED = "agent.removed"
GRANTED = "cap.granted"
REISSUED = "cap.reissued"
REVOKED = "cap.revoked"
REJECTED = "cap.rejected"
KINDS = (AGENT_ADDED, AGENT_REMOVED, GRANTED, REISSUED, REVOKED)


@dataclass(frozen=True, slots=True)
class LedgerEvent:
    seq: int
    kind: str
    payload: dict[str, Any]

    @property
    def token_id(self) -> str:
        return str(self.payload.get("cap_id", ""))


def read_ledger(audit_path: Path) -> list[LedgerEvent]:
    """The agent and capability events, in seq order (none when there is no log yet)."""
    if not audit_path.exists():
        return []
    uri = f"file:{quote(str(audit_path))}?mode=ro"
    marks = ",".join("?" * len(KINDS))
    with sqlite3.connect(uri, uri=True) as conn:
        rows = conn.execute(
            f"SELECT seq, kind, payload FROM events WHERE kind IN ({marks}) ORDER BY seq",  # noqa: S608
            KINDS,
        ).fetchall()
    conn.close()
    events = []
    for seq, kind, payload in rows:
        try:
            data = json.loads(payload)
        except ValueError:
            continue  # the chain check reports an unreadable event; here it records nothing
        if isinstance(data, dict):
            events.append(LedgerEvent(int(seq), str(kind), data))
    return events


def granted_sha256s(events: list[LedgerEvent]) -> set[str]:
    """The sha256 of every token a ``cap.granted`` or ``cap.reissued`` event names."""
    return {
        str(event.payload.get("sha256")) for event in events if event.kind in (GRANTED, REISSUED)
    }


def revoked_ids(events: list[LedgerEvent]) -> set[str]:
    """Every token id a ``cap.revoked`` or ``agent.removed`` event took back."""
    found = {event.token_id for event in events if event.kind == REVOKED}
    for event in events:
        if event.kind == AGENT_REMOVED and isinstance(event.payload.get("revoked"), list):
            found.update(str(token_id) for token_id in event.payload["revoked"])
    return found
