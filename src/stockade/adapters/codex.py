"""Codex CLI hooks: Claude-compatible input, but in ``PreToolUse`` **only deny works**.

Codex treats ``permissionDecision: "allow"`` and ``"ask"`` as hook failures and runs
the tool anyway, so:

- ``deny``  -> ``permissionDecision: "deny"`` (exit 0);
- ``allow`` -> no output at all (exit 0): Codex proceeds with its own checks;
- ``ask``   -> a deny whose reason says the call needs approval. Holding the call in
  the daemon until a human approves it is a later step (issue 3).

``UserPromptSubmit`` blocks with ``{"decision": "block", "reason": …}``; Codex rejects
an empty reason (and then fails open), so reasons are never empty. Codex exports no
project directory to hooks: the project root is the cwd.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from stockade.adapters.base import NO_OUTPUT, Rendered, ask_as_deny, reason_of, verdict_of
from stockade.adapters.claude_code import ClaudeCodeAdapter


class CodexAdapter(ClaudeCodeAdapter):
    """``stockade hook codex``."""

    name: ClassVar[str] = "codex"
    project_env: ClassVar[str | None] = None

    def render_decision(self, decision: Mapping[str, Any]) -> Rendered:
        verdict = verdict_of(decision)
        if verdict == "allow":
            return NO_OUTPUT
        if verdict == "ask":
            return self._pre_tool("deny", ask_as_deny(decision))
        return self._pre_tool("deny", reason_of(decision))
