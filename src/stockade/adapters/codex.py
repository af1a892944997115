"""Codex CLI hooks: Claude-compatible input, but Codex can never ask a human from a hook.

- ``PreToolUse`` -> ``/decide`` with ``hold_s`` always: Codex treats
  ``permissionDecision: "allow"`` and ``"ask"`` as hook failures and runs the tool
  anyway, so the daemon holds an ``ask`` until ``stockade approvals`` resolves it.
  ``deny`` -> ``permissionDecision: "deny"``; ``allow`` -> no output (Codex proceeds
  with its own checks); an ``ask`` the daemon did not hold -> a deny that says why.
  Failure: deny.
- ``UserPromptSubmit`` -> ``/prompts/screen``; blocks with ``{"decision": "block",
  "reason": …}``. Codex rejects an empty reason (and then fails open), so reasons are
  never empty. Failure: block.
- ``PostToolUse`` -> ``/tool-results``. ``tool_response`` is the command's combined
  stdout and stderr as one string, with no exit code (seen with 0.169.0), so the
  status is always ``succeeded``. Codex 0.169 ignores ``updatedMCPToolOutput`` for
  the shell tool and has no ``updatedToolOutput``; ``{"decision": "block", "reason":
  R}`` makes Codex hand the model ``R`` instead of the real output (seen), so a
  redaction answers that with the redacted text. Failure: block with the message, so
  an uninspected output never reaches the model.
- ``SessionStart`` / ``SessionEnd`` -> ``/sessions`` (``source``, ``model``, ``reason``).
  Print nothing; a failure only tells the user (``systemMessage``).

Codex exports no project directory to hooks: the project root is the cwd.
"""

from __future__ import annotations

from stockade.adapters.base import NO_OUTPUT, ask_as_deny, dump, reason_of, verdict_of
from stockade.adapters.claude_code import ClaudeCodeAdapter

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any, ClassVar

    from stockade.adapters.base import EventKind, Rendered


class CodexAdapter(ClaudeCodeAdapter):
    """``stockade hook codex``."""

    name: ClassVar[str] = "codex"
    project_env: ClassVar[str | None] = None
    events: ClassVar[dict[str, tuple[EventKind, str]]] = {
        "PreToolUse": ("pre_tool", ""),
        "UserPromptSubmit": ("prompt", ""),
        "PostToolUse": ("tool_result", "succeeded"),
        "SessionStart": ("session", "start"),
        "SessionEnd": ("session", "end"),
    }

    def can_ask(self, env: Mapping[str, str]) -> bool:
        return False

    def render_decision(self, decision: Mapping[str, Any]) -> Rendered:
        verdict = verdict_of(decision)
        if verdict == "allow":
            return NO_OUTPUT
        if verdict == "ask":
            return self._pre_tool("deny", ask_as_deny(decision))
        return self._pre_tool("deny", reason_of(decision))

    def render_redacted(self, raw: Mapping[str, Any], output: str) -> Rendered:
        return _block(output)

    def render_failure(self, kind: EventKind, raw: Mapping[str, Any], message: str) -> Rendered:
        if kind == "tool_result":
            return _block(message)
        return super().render_failure(kind, raw, message)


def _block(reason: str) -> Rendered:
    return dump({"decision": "block", "reason": reason}), 0


Adapter = CodexAdapter
