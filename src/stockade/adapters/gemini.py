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

import os
from collections.abc import Mapping
from typing import Any, ClassVar

from stockade.adapters.base import (
    NO_OUTPUT,
    EventKind,
    Rendered,
    ask_as_deny,
    dump,
    env_root,
    field_object,
    field_path,
    field_str,
    reason_of,
    verdict_of,
)
from stockade.request import PromptSubmission, ToolCall

MAX_PROMPT_CHARS = 256 * 1024


class GeminiAdapter:
    """``stockade hook gemini``."""

    name: ClassVar[str] = "gemini"

    def event_kind(self, raw: Mapping[str, Any]) -> EventKind:
        event = raw.get("hook_event_name")
        if event == "BeforeTool":
            return "pre_tool"
        if event == "BeforeAgent":
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
            project_root=_root(cwd, env),
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
            project_root=_root(cwd, env),
        )

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


def _root(cwd: str, env: Mapping[str, str] | None) -> str:
    return env_root(os.environ if env is None else env, "GEMINI_PROJECT_DIR") or cwd
