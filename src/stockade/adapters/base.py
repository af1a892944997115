"""The :class:`HarnessAdapter` seam and the registry of built-in adapters.

An adapter is pure: it turns the JSON a harness writes on a hook's stdin into a
normalized :class:`~stockade.request.ToolCall` (or prompt), and a daemon answer into
the bytes and exit code that harness understands. It never talks to the daemon;
the shim does that. Every adapter has a *blocking* failure form, because the
harnesses themselves fail open on a hook that crashes or prints garbage.

The registry maps the user-facing harness id to a lazily imported ``module:Class``
string, so the shim pays only for the adapter it uses.
"""

from __future__ import annotations

import importlib
import json
import os
from collections.abc import Mapping
from typing import Any, ClassVar, Literal, Protocol

from stockade.errors import AdapterError
from stockade.request import PromptSubmission, ToolCall

EventKind = Literal["pre_tool", "prompt", "other"]
"""What the shim does with a hook event: decide a tool call, screen a prompt, or no-op."""

Rendered = tuple[bytes, int]
"""What a hook process writes on stdout, and the exit code it ends with."""

MAX_NAME = 200
NO_OUTPUT: Rendered = (b"", 0)


class HarnessAdapter(Protocol):
    """One harness's hook protocol (see ``docs/integration-protocols.md``)."""

    name: ClassVar[str]

    def event_kind(self, raw: Mapping[str, Any]) -> EventKind:
        """Classify the event named in ``raw`` (``hook_event_name``)."""
        ...

    def parse_pre_tool(
        self, raw: Mapping[str, Any], env: Mapping[str, str] | None = None
    ) -> ToolCall:
        """The tool call a before-tool event describes; raises :class:`AdapterError`."""
        ...

    def parse_prompt(
        self, raw: Mapping[str, Any], env: Mapping[str, str] | None = None
    ) -> PromptSubmission:
        """The prompt a prompt-submit event carries; raises :class:`AdapterError`."""
        ...

    def render_decision(self, decision: Mapping[str, Any]) -> Rendered:
        """The harness's answer to a ``/decide`` answer (``verdict``, ``reason``, ...)."""
        ...

    def render_prompt(self, screening: Mapping[str, Any]) -> Rendered:
        """The harness's answer to a ``/prompts/screen`` answer."""
        ...

    def render_failure(self, message: str, event: EventKind = "pre_tool") -> Rendered:
        """The harness's *blocking* answer, for any error of the shim's own."""
        ...


ADAPTERS: dict[str, str] = {
    "claude-code": "stockade.adapters.claude_code:ClaudeCodeAdapter",
    "codex": "stockade.adapters.codex:CodexAdapter",
    "gemini": "stockade.adapters.gemini:GeminiAdapter",
}


def load_adapter(name: str) -> HarnessAdapter:
    """Instantiate the adapter registered as ``name``; unknown names list the valid ones."""
    target = ADAPTERS.get(name)
    if target is None:
        raise AdapterError(
            f"unknown harness {name!r}; valid: {', '.join(ADAPTERS)}",
            "the hook command must be `stockade hook <harness>`; rerun `stockade install`",
        )
    module_name, _, class_name = target.partition(":")
    adapter: HarnessAdapter = getattr(importlib.import_module(module_name), class_name)()
    return adapter


# --- helpers shared by the built-in adapters -------------------------------------------


def dump(data: Mapping[str, Any]) -> bytes:
    """Compact JSON, one line, newline-terminated."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


def field_str(raw: Mapping[str, Any], key: str, *, max_len: int = MAX_NAME) -> str:
    """A required, non-empty string field of at most ``max_len`` characters."""
    value = raw.get(key)
    if not isinstance(value, str) or not value:
        raise AdapterError(f"hook input has no {key!r} string", _HINT)
    if len(value) > max_len:
        raise AdapterError(f"hook input field {key!r} is longer than {max_len} characters", _HINT)
    return value


def field_object(raw: Mapping[str, Any], key: str) -> dict[str, Any]:
    """A required JSON-object field."""
    value = raw.get(key)
    if not isinstance(value, dict):
        raise AdapterError(f"hook input has no {key!r} object", _HINT)
    return value


def field_path(raw: Mapping[str, Any], key: str) -> str:
    """A required absolute path field."""
    value = raw.get(key)
    if not isinstance(value, str) or not absolute(value):
        raise AdapterError(f"hook input has no absolute {key!r} path", _HINT)
    return value


def absolute(value: str) -> bool:
    return value.startswith("/") and "\x00" not in value


def env_root(env: Mapping[str, str], key: str) -> str | None:
    """A project directory the harness exported, if it is an absolute path."""
    value = env.get(key)
    return value if value and absolute(value) else None


def verdict_of(answer: Mapping[str, Any]) -> str:
    """The verdict of a daemon answer; anything unexpected is an error (never an allow)."""
    verdict = answer.get("verdict")
    if verdict not in ("allow", "ask", "deny"):
        raise AdapterError(
            "the daemon answered without a valid verdict",
            "client and daemon versions may differ; restart it with `stockade serve`",
        )
    return str(verdict)


def reason_of(answer: Mapping[str, Any]) -> str:
    """``Stockade: <reason> (rule <id>)``: never empty (harnesses reject empty reasons)."""
    reason = answer.get("reason")
    text = reason if isinstance(reason, str) and reason.strip() else "no reason given"
    rule = answer.get("rule_id")
    if isinstance(rule, str) and rule:
        return f"Stockade: {text} (rule {rule})"
    return f"Stockade: {text}"


def ask_as_deny(answer: Mapping[str, Any]) -> str:
    """The reason for an ``ask`` turned into a deny where the harness cannot ask."""
    return (
        f"{reason_of(answer)}. This call needs a human's approval, and this harness cannot "
        "ask for it: allow it in the Stockade policy, or run it yourself"
    )


_HINT = "the harness sent a hook payload Stockade does not understand; report it with its version"


MAX_PROMPT_CHARS = 256 * 1024


class HookPayloadParser:
    """Parsing shared by harnesses whose hooks send ``session_id``, ``cwd``, ``tool_name``,
    ``tool_input`` and ``prompt`` (Claude Code, Codex, Gemini CLI).

    A harness names its events and the environment variable that carries the project
    root; without one (or when it is unset or relative) the cwd is the project.
    """

    name: ClassVar[str]
    project_env: ClassVar[str | None] = None
    pre_tool_events: ClassVar[frozenset[str]] = frozenset()
    prompt_events: ClassVar[frozenset[str]] = frozenset()

    def event_kind(self, raw: Mapping[str, Any]) -> EventKind:
        event = raw.get("hook_event_name")
        if event in self.pre_tool_events:
            return "pre_tool"
        if event in self.prompt_events:
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
