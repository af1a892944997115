"""Claude Code hooks (``PreToolUse``, ``UserPromptSubmit``; every other event is a no-op).

Answers are always JSON on stdout with exit 0. A JSON ``deny`` blocks even under
``--dangerously-skip-permissions``; exit 2 also blocks but puts stderr, with the hook's
command line, into the text the model sees, so it is never used. ``ask`` is passed
through: interactive sessions prompt the user, ``-p`` runs turn it into a deny.
``allow`` runs the tool *and* skips Claude Code's own permission checks.

Project root: ``$CLAUDE_PROJECT_DIR`` (which Claude Code exports to hooks), else the cwd.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, ClassVar

from stockade.adapters.base import (
    NO_OUTPUT,
    EventKind,
    Rendered,
    dump,
    env_root,
    field_object,
    field_path,
    field_str,
    reason_of,
    verdict_of,
)
from stockade.request import PromptSubmission, ToolCall

PRE_TOOL_EVENTS = frozenset({"PreToolUse"})
PROMPT_EVENTS = frozenset({"UserPromptSubmit"})
MAX_PROMPT_CHARS = 256 * 1024


class ClaudeCodeAdapter:
    """``stockade hook claude-code``."""

    name: ClassVar[str] = "claude-code"
    project_env: ClassVar[str | None] = "CLAUDE_PROJECT_DIR"

    def event_kind(self, raw: Mapping[str, Any]) -> EventKind:
        event = raw.get("hook_event_name")
        if event in PRE_TOOL_EVENTS:
            return "pre_tool"
        if event in PROMPT_EVENTS:
            return "prompt"
        return "other"

    def parse_pre_tool(
        self, raw: Mapping[str, Any], env: Mapping[str, str] | None = None
    ) -> ToolCall:
        cwd = field_path(raw, "cwd")
        return ToolCall(
            harness=self.name,
            session_id=field_str(raw, "session_id"),
            tool_name=field_str(raw, "tool_name"),
            tool_input=field_object(raw, "tool_input"),
            cwd=cwd,
            project_root=self._root(cwd, env),
        )

    def parse_prompt(
        self, raw: Mapping[str, Any], env: Mapping[str, str] | None = None
    ) -> PromptSubmission:
        cwd = field_path(raw, "cwd")
        return PromptSubmission(
            harness=self.name,
            session_id=field_str(raw, "session_id"),
            prompt=field_str(raw, "prompt", max_len=MAX_PROMPT_CHARS),
            cwd=cwd,
            project_root=self._root(cwd, env),
        )

    def _root(self, cwd: str, env: Mapping[str, str] | None) -> str:
        if self.project_env is None:
            return cwd
        return env_root(os.environ if env is None else env, self.project_env) or cwd

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
