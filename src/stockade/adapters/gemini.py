"""Gemini CLI hooks (``BeforeTool``, ``BeforeAgent``; every other event is a no-op).

``{"decision": "deny", "reason": R}`` on stdout blocks whatever the exit code, and the
model sees ``Tool execution blocked: R``. ``allow`` only lets Gemini's own checks run.
``ask`` would hang a non-interactive run (nobody can confirm), so it becomes a deny
that explains why; holding the call for approval is a later step. A bare ``exit 2``
without text fails *open*, so failures are JSON denies too.

Project root: ``$GEMINI_PROJECT_DIR`` when Gemini exports it (assumed, not yet seen
here), else the cwd.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from stockade.adapters.base import (
    NO_OUTPUT,
    EventKind,
    HookPayloadParser,
    Rendered,
    ask_as_deny,
    dump,
    reason_of,
    verdict_of,
)


class GeminiAdapter(HookPayloadParser):
    """``stockade hook gemini``."""

    name: ClassVar[str] = "gemini"
    project_env: ClassVar[str | None] = "GEMINI_PROJECT_DIR"
    pre_tool_events: ClassVar[frozenset[str]] = frozenset({"BeforeTool"})
    prompt_events: ClassVar[frozenset[str]] = frozenset({"BeforeAgent"})

    def render_decision(self, decision: Mapping[str, Any]) -> Rendered:
        verdict = verdict_of(decision)
        if verdict == "allow":
            return dump({"decision": "allow"}), 0
        if verdict == "ask":
            return _deny(ask_as_deny(decision))
        return _deny(reason_of(decision))

    def render_prompt(self, screening: Mapping[str, Any]) -> Rendered:
        if verdict_of(screening) == "allow":
            return NO_OUTPUT
        return _deny(reason_of(screening))

    def render_failure(self, message: str, event: EventKind = "pre_tool") -> Rendered:
        return _deny(message)


def _deny(reason: str) -> Rendered:
    return dump({"decision": "deny", "reason": reason}), 0
