"""Per-session state the engine is handed, and what a decision tells its caller.

The engine is pure: it never remembers anything itself. The daemon keeps one
:class:`SessionState` per session and passes it into every decision, so a data-flow
rule ("a credential was read, now a network call") is keyed to the session, not to
a window of time an agent could wait out. When a call's credential reads join that
state is the caller's choice: a call may run once it is not denied, but a denied call
may still run (a harness that ignored the deny, a policy changed in between), and
then its reported result taints the session.
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
    """A decision, and the credentials the call reads whatever the verdict.

    ``credential_reads`` are sources as in :class:`SessionState`, without duplicates.
    """

    decision: Decision
    credential_reads: tuple[str, ...] = ()

    @property
    def admitted_reads(self) -> tuple[str, ...]:
        """The reads that taint the session once this decision is answered. None for a
        deny: a denied call taints it only when a tool result says it ran anyway."""
        return () if self.decision.verdict is Verdict.DENY else self.credential_reads


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
