"""Sessions as the audit log saw them: one SQL aggregation, newest activity first.

Why a query and not state kept in memory: the log is already the record of every
session, a query over it is right after a restart or a purge without restoring
anything, and it costs nothing on the decision path. It groups the events that name a
session by their payload's ``harness`` and the session id (every such event carries
both), counts the decisions by final verdict, and takes the working directory and
agent from the newest ``session.started`` when there is one, else from the newest
decision. A session ``ended`` when a ``session.ended`` follows its last
``session.started`` (a resumed session starts again). Purged events are not counted.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

SESSIONS_SQL = """
WITH page AS (
    SELECT json_extract(payload, '$.harness') AS harness, session,
        min(ts) AS first_seen, max(ts) AS last_seen, max(seq) AS last_seq,
        sum(kind IN ('decision', 'decision.error')) AS decisions,
        sum(kind IN ('decision', 'decision.error')
            AND json_extract(payload, '$.verdict') = 'allow') AS allows,
        sum(kind IN ('decision', 'decision.error')
            AND json_extract(payload, '$.verdict') = 'ask') AS asks,
        sum(kind IN ('decision', 'decision.error')
            AND json_extract(payload, '$.verdict') = 'deny') AS denies,
        max(kind = 'session.tainted') AS tainted,
        max(CASE WHEN kind = 'session.started' THEN seq END) AS started_seq,
        max(CASE WHEN kind = 'session.ended' THEN seq END) AS ended_seq,
        max(CASE WHEN kind IN ('decision', 'decision.error') THEN seq END) AS decision_seq
    FROM events WHERE session IS NOT NULL
    GROUP BY 1, 2 ORDER BY last_seq DESC LIMIT ? OFFSET ?
)
SELECT harness, session, first_seen, last_seen, decisions, allows, asks, denies, tainted,
    coalesce(ended_seq > coalesce(started_seq, 0), 0) AS ended,
    (SELECT payload FROM events WHERE seq = coalesce(started_seq, decision_seq)) AS context
FROM page ORDER BY last_seq DESC
"""
"""Bound parameters: limit, offset."""


@dataclass(frozen=True, slots=True)
class SessionSummary:
    """One row of ``GET /api/v1/sessions`` (without the daemon's pending approvals)."""

    harness: str | None
    session: str
    agent: str | None
    cwd: str | None
    project_root: str | None
    first_seen: str
    last_seen: str
    decisions: int
    allows: int
    asks: int
    denies: int
    tainted: bool
    ended: bool

    @classmethod
    def from_row(cls, row: tuple[Any, ...]) -> SessionSummary:
        """A row of :data:`SESSIONS_SQL`."""
        harness, session, first, last, decisions, allows, asks, denies, tainted, ended, ctx = row
        context = json.loads(ctx) if ctx else {}
        return cls(
            harness=_text(harness),
            session=session,
            agent=_text(context.get("agent")),
            cwd=_text(context.get("cwd")),
            project_root=_text(context.get("project_root")),
            first_seen=first,
            last_seen=last,
            decisions=decisions,
            allows=allows,
            asks=asks,
            denies=denies,
            tainted=bool(tainted),
            ended=bool(ended),
        )

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None
