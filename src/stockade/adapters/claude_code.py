"""Claude Code hooks. Answers are JSON on stdout with exit 0; every other event is a no-op.

Exit 2 would also block, but it puts stderr, with the hook's command line, into the
text the model sees, so it is never used.

- ``PreToolUse`` -> ``/decide``. A JSON ``deny`` blocks even under
  ``--dangerously-skip-permissions``; ``allow`` runs the tool *and* skips Claude Code's
  own checks; ``ask`` is passed through. Claude Code can ask a human only in an
  attended session: it exports ``CLAUDE_CODE_SESSION_ATTENDED=0`` to hooks of a
  ``claude -p`` run, SDK runs included, and ``1`` to those of the interactive TUI,
  overriding whatever it inherited (seen with 2.1.330). Only that positive evidence
  makes the shim ask the daemon to *hold* the call for an approval (``hold_s``); an
  older CLI without the variable is treated as attended. Failure: deny.
- ``UserPromptSubmit`` -> ``/prompts/screen``; ``{"decision": "block"}`` drops the
  prompt. Failure: block.
- ``PostToolUse`` -> ``/tool-results`` (``succeeded``, the ``tool_response`` as text).
  When the daemon redacted something, ``updatedToolOutput`` replaces what the model
  reads. Claude Code validates it against the tool's *output schema* and silently
  keeps the original when it does not match (seen: a plain string for ``Bash`` is
  ignored), so the replacement keeps the shape of ``tool_response``: the redacted
  JSON parsed back. Failure (daemon down, garbage, or a redaction that no longer
  parses): the output is *withheld*: every free-text string of ``tool_response`` is
  replaced by a message saying Stockade could not inspect it, keeping short
  identifier-like strings (``"type": "text"``) that the schema needs. A failed report
  is audited nowhere, so an uninspected secret must not reach the model either.
- ``PostToolUseFailure`` (``failed``, the ``error`` text) and ``PermissionDenied``
  (``not_run``; 2.1.330 sends it only for denials of its auto-mode classifier, not for
  hook denies, rule denies or a user's "No") -> ``/tool-results``. Neither can replace
  anything; a failure tells the user (``systemMessage``).
- ``SessionStart`` / ``SessionEnd`` -> ``/sessions`` (``source``, ``model``, ``reason``
  when present). Their stdout would become model context, so they print nothing; a
  failure only tells the user.

Project root: ``$CLAUDE_PROJECT_DIR`` (which Claude Code exports to hooks), else the cwd.
"""

from __future__ import annotations

import json

from stockade.adapters.base import (
    NO_OUTPUT,
    HookAdapter,
    as_text,
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

WITHHELD = (
    "Stockade withheld this output: it held secrets, and the redacted text no longer fits "
    "the tool's output format"
)
MAX_LABEL = 32
MAX_DEPTH = 64


class ClaudeCodeAdapter(HookAdapter):
    """``stockade hook claude-code``."""

    name: ClassVar[str] = "claude-code"
    project_env: ClassVar[str | None] = "CLAUDE_PROJECT_DIR"
    events: ClassVar[dict[str, tuple[EventKind, str]]] = {
        "PreToolUse": ("pre_tool", ""),
        "UserPromptSubmit": ("prompt", ""),
        "PostToolUse": ("tool_result", "succeeded"),
        "PostToolUseFailure": ("tool_result", "failed"),
        "PermissionDenied": ("tool_result", "not_run"),
        "SessionStart": ("session", "start"),
        "SessionEnd": ("session", "end"),
    }

    def can_ask(self, env: Mapping[str, str]) -> bool:
        return env.get("CLAUDE_CODE_SESSION_ATTENDED") != "0"

    def tool_output(self, raw: Mapping[str, Any], status: str) -> str:
        if status == "failed":
            return as_text(raw.get("error", ""))
        return super().tool_output(raw, status)

    def render_decision(self, decision: Mapping[str, Any]) -> Rendered:
        return self._pre_tool(verdict_of(decision), reason_of(decision))

    def render_prompt(self, screening: Mapping[str, Any]) -> Rendered:
        if verdict_of(screening) == "allow":
            return NO_OUTPUT
        return self._block_prompt(reason_of(screening))

    def render_redacted(self, raw: Mapping[str, Any], output: str) -> Rendered:
        if raw.get("hook_event_name") != "PostToolUse":
            return NO_OUTPUT  # an error text or a refusal: nothing a hook may replace
        original = raw.get("tool_response", "")
        replacement = reshaped(original, output)
        if replacement is None:
            replacement = withheld(original, WITHHELD)
        return self._tool_output(replacement)

    def render_failure(self, kind: EventKind, raw: Mapping[str, Any], message: str) -> Rendered:
        if kind == "pre_tool":
            return self._pre_tool("deny", message)
        if kind == "prompt":
            return self._block_prompt(message)
        if kind == "tool_result" and raw.get("hook_event_name") == "PostToolUse":
            return self._tool_output(withheld(raw.get("tool_response", ""), message))
        return dump(notice(message)), 0

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

    @staticmethod
    def _tool_output(replacement: Any) -> Rendered:
        output = {"hookEventName": "PostToolUse", "updatedToolOutput": replacement}
        return dump({"hookSpecificOutput": output}), 0


def reshaped(original: Any, redacted: str) -> Any:
    """The redacted text in the shape of ``original``, or ``None`` when it does not fit.

    A string output is replaced by the text; a JSON output was sent as compact JSON,
    so its redaction is parsed back and must still be JSON of the same kind.
    """
    if isinstance(original, str):
        return redacted
    try:
        parsed = json.loads(redacted)
    except ValueError:
        return None
    return parsed if type(parsed) is type(original) else None


def withheld(original: Any, message: str, depth: int = 0) -> Any:
    """``original`` with every free-text string replaced by ``message``.

    Empty and short identifier-like strings (``"text"``, ``"files_with_matches"``) are
    kept: they are the enum fields an output schema checks, not content. Absurdly deep
    nesting becomes ``message`` as a whole rather than a recursion error.
    """
    if depth > MAX_DEPTH or not isinstance(original, dict | list):
        return message
    if isinstance(original, dict):
        return {key: _withhold(value, message, depth) for key, value in original.items()}
    return [_withhold(value, message, depth) for value in original]


def _withhold(value: Any, message: str, depth: int) -> Any:
    if isinstance(value, str):
        return value if not value or _is_label(value) else message
    if isinstance(value, dict | list):
        return withheld(value, message, depth + 1)
    return value


def _is_label(value: str) -> bool:
    return (
        0 < len(value) <= MAX_LABEL
        and value.isascii()
        and value[0].isalpha()
        and value.replace("_", "").replace("-", "").isalnum()
    )


Adapter = ClaudeCodeAdapter
