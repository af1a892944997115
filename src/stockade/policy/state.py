"""Per-session state the engine is handed and hands back.

The engine is pure: it never remembers anything itself. The daemon keeps one
:class:`SessionState` per session and passes it into every decision, so a data-flow
rule ("a credential was read, now a network call") is keyed to the session, not to
a window of time an agent could wait out.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from stockade.decision import Decision, Verdict


@dataclass(frozen=True, slots=True)
class SessionState:
    """What a session has done that later calls are judged against.

    ``credential_sources`` holds, for each credential the session may have read,
    the rule or pattern that flagged it and the path (never file contents).
    """

    credential_sources: tuple[str, ...] = ()

    @property
    def tainted(self) -> bool:
        return bool(self.credential_sources)

    def with_credential(self, source: str) -> SessionState:
        if source in self.credential_sources:
            return self
        return SessionState(self.credential_sources + (source,))


@dataclass(frozen=True, slots=True)
class Outcome:
    """A decision and the session state after it."""

    decision: Decision
    state: SessionState


@dataclass(frozen=True, slots=True)
class PromptScreening:
    """The result of screening a prompt. The prompt text itself is not kept."""

    verdict: Verdict
    reason: str
    pattern: str | None
    prompt_sha256: str


def prompt_digest(prompt: str) -> str:
    """The sha256 stored instead of a prompt's text (lone surrogates from JSON hash too)."""
    return hashlib.sha256(prompt.encode("utf-8", "surrogatepass")).hexdigest()
