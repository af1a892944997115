"""Gemini CLI hooks: a JSON ``{"decision": "deny", "reason": R}`` is the one safe answer.

It blocks whatever the exit code, while a bare ``exit 2`` without text fails *open*,
so every failure is a JSON deny too. Gemini CLI cannot ask a human from a hook (an
``ask`` hangs a non-interactive run), so tool calls are always held (``hold_s``).

- ``BeforeTool`` -> ``/decide``: deny -> deny (the model sees ``Tool execution
  blocked: R``); allow -> ``{"decision": "allow"}`` (only lets Gemini's own checks
  run); an ``ask`` the daemon did not hold -> a deny that says why. Failure: deny.
- ``BeforeAgent`` -> ``/prompts/screen``; deny drops the prompt. Failure: deny.
- ``AfterTool`` -> ``/tool-results``. ``tool_response`` is ``{llmContent,
  returnDisplay, error}``; the model reads ``llmContent``, so that is the output sent
  (a string as is, else compact JSON), and ``error`` makes the status ``failed``.
  A deny replaces what the model reads with ``Tool result blocked: R`` (the command
  already ran): the redacted text when something was redacted, the failure message
  when the daemon could not inspect it.
- ``SessionStart`` / ``SessionEnd`` -> ``/sessions`` (``source``, ``reason``). Print
  nothing; a failure only tells the user (``systemMessage``).

Project root: ``$GEMINI_PROJECT_DIR``, which Gemini CLI sets to its cwd for hooks.
"""

from __future__ import annotations

from stockade.adapters.base import (
    NO_OUTPUT,
    HookAdapter,
    as_text,
    ask_as_deny,
    dump,
    notice,
    reason_of,
    verdict_of,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any, ClassVar

    from stockade.adapters.base import EventKind, Rendered


class GeminiAdapter(HookAdapter):
    """``stockade hook gemini``."""

    name: ClassVar[str] = "gemini"
    project_env: ClassVar[str | None] = "GEMINI_PROJECT_DIR"
    events: ClassVar[dict[str, tuple[EventKind, str]]] = {
        "BeforeTool": ("pre_tool", ""),
        "BeforeAgent": ("prompt", ""),
        "AfterTool": ("tool_result", ""),
        "SessionStart": ("session", "start"),
        "SessionEnd": ("session", "end"),
    }

    def _detail(self, raw: Mapping[str, Any]) -> str:
        if raw.get("hook_event_name") == "AfterTool":
            response = raw.get("tool_response")
            failed = isinstance(response, dict) and bool(response.get("error"))
            return "failed" if failed else "succeeded"
        return super()._detail(raw)

    def tool_output(self, raw: Mapping[str, Any], status: str) -> str:
        response = raw.get("tool_response", "")
        if isinstance(response, dict) and "llmContent" in response:
            return as_text(response["llmContent"])
        return as_text(response)

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

    def render_redacted(self, raw: Mapping[str, Any], output: str) -> Rendered:
        return _deny(output)

    def render_failure(self, kind: EventKind, raw: Mapping[str, Any], message: str) -> Rendered:
        if kind == "session":
            return dump(notice(message)), 0
        return _deny(message)


def _deny(reason: str) -> Rendered:
    return dump({"decision": "deny", "reason": reason}), 0


Adapter = GeminiAdapter
