"""Claude Code hooks (``PreToolUse``, ``UserPromptSubmit``; every other event is a no-op).

Answers are always JSON on stdout with exit 0. A JSON ``deny`` blocks even under
``--dangerously-skip-permissions``; exit 2 also blocks but puts stderr, with the hook's
command line, into the text the model sees, so it is never used. ``ask`` is passed
through: interactive sessions prompt the user, ``-p`` runs turn it into a deny.
``allow`` runs the tool *and* skips Claude Code's own permission checks.

Project root: ``$CLAUDE_PROJECT_DIR`` (which Claude Code exports to hooks), else the cwd.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from stockade.adapters.base import (
    NO_OUTPUT,
    EventKind,
    HookPayloadParser,
    Rendered,
    dump,
    reason_of,
    verdict_of,
)


class ClaudeCodeAdapter(HookPayloadParser):
    """``stockade hook claude-code``."""

    name: ClassVar[str] = "claude-code"
    project_env: ClassVar[str | None] = "CLAUDE_PROJECT_DIR"
    pre_tool_events: ClassVar[frozenset[str]] = frozenset({"PreToolUse"})
    prompt_events: ClassVar[frozenset[str]] = frozenset({"UserPromptSubmit"})

    def render_decision(self, decision: Mapping[str, Any]) -> Rendered:
        return self._pre_tool(verdict_of(decision), reason_of(decision))

    def render_prompt(self, screening: Mapping[str, Any]) -> Rendered:
        if verdict_of(screening) == "allow":
            return NO_OUTPUT
        return self._block_prompt(reason_of(screening))

    def render_failure(self, message: str, event: EventKind = "pre_tool") -> Rendered:
        if event == "prompt":
            return self._block_prompt(message)
        return self._pre_tool("deny", message)

    @staticmethod
    def _pre_tool(verdict: str, reason: str) -> Rendered:
        output = {
            "hookEventName": "PreToolUse",
            "permissionDecision": verdict,
            "permissionDecisionReason": reason,
        }
        return dump({"hookSpecificOutput": output}), 0

    @staticmethod
    def _block_prompt(reason: str) -> Rendered:
        return dump({"decision": "block", "reason": reason}), 0
