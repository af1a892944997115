"""DecisionService: the loaded policy plus per-session state, behind one small API.

The daemon's pipeline calls only this. It loads configuration (the only I/O here),
compiles it once, and hands each request to the pure engine with the session's
state. Any exception inside a decision becomes a deny: the service never raises
from :meth:`decide`.
"""

from __future__ import annotations

import hashlib
import threading
from typing import Any

from stockade.decision import Decision, Verdict, Zone
from stockade.home import Home
from stockade.policy.state import Outcome, PromptScreening, SessionState
from stockade.request import PromptSubmission, ToolCall


class DecisionService:
    """Owns the effective policy and the state of every live session."""

    def __init__(self, home: Home) -> None:
        self._home = home
        self._lock = threading.Lock()
        self._sessions: dict[str, SessionState] = {}
        self.config_hash = hashlib.sha256(b"").hexdigest()

    @classmethod
    def load(cls, home: Home) -> DecisionService:
        """Load and compile the configuration; raises ``ConfigError`` when invalid."""
        return cls(home)

    def decide(self, call: ToolCall) -> Outcome:
        """Decide one call and advance its session's state. Never raises."""
        state = self._sessions.get(call.session_id, SessionState())
        decision = Decision(Verdict.DENY, "engine not built yet", "stub", Zone.NEVER, "")
        return Outcome(decision, state)

    def check(self, call: ToolCall) -> Decision:
        """Decide without touching session state (``stockade check``)."""
        return self.decide(call).decision

    def screen_prompt(self, submission: PromptSubmission) -> PromptScreening:
        digest = hashlib.sha256(submission.prompt.encode()).hexdigest()
        return PromptScreening(Verdict.ALLOW, "no credential reference", None, digest)

    def effective_policy(self) -> dict[str, Any]:
        return {}

    def reload(self) -> str:
        """Reload configuration; on ``ConfigError`` the running policy is kept."""
        return self.config_hash
