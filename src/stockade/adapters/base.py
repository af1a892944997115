"""The :class:`HarnessAdapter` seam, the shared hook parsing, and the registry of adapters.

An adapter is pure: it classifies the JSON a harness writes on a hook's stdin, turns
it into the plain JSON body of one daemon request, and turns the daemon's answer (or
the shim's own failure) into the bytes and exit code that harness understands. It
never talks to the daemon; the shim does that. Every adapter has a *safe* failure form
per event, because the harnesses themselves fail open on a hook that crashes.

Event kinds and the daemon route each one goes to (``docs/adr/0004``):

- ``pre_tool``    -> ``/decide``          allow / ask / deny before a tool runs;
- ``prompt``      -> ``/prompts/screen``  a submitted prompt;
- ``tool_result`` -> ``/tool-results``    what a tool did (``succeeded``/``failed``/``not_run``)
  and its output, which the daemon redacts (an output too long to inspect is a failure,
  so the adapter's failure form withholds it);
- ``session``     -> ``/sessions``        a session started or ended.

**Import weight.** The shim imports this module on every tool call, so it loads
nothing but :mod:`json` (which a do-nothing Python hook loads too) and
:mod:`stockade.errors`: bodies are plain dicts, and ``typing`` appears only under
``TYPE_CHECKING`` (spelled as a local constant, which mypy honours, so that not even
``typing`` is imported at run time).
"""

from __future__ import annotations

import json

from stockade.errors import AdapterError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any, ClassVar, Literal, Protocol, TypeAlias

    EventKind: TypeAlias = Literal["pre_tool", "prompt", "tool_result", "session"]
    Rendered: TypeAlias = tuple[bytes, int]
    """What a hook process writes on stdout, and the exit code it ends with."""
    Body: TypeAlias = dict[str, Any]

    class HarnessAdapter(Protocol):
        """One harness's hook protocol (see ``docs/integration-protocols.md``)."""

        name: ClassVar[str]

        def event_kind(self, raw: Mapping[str, Any]) -> EventKind | None:
            """What the shim does with the event named in ``raw``; ``None``: nothing."""
            ...

        def request(self, kind: EventKind, raw: Mapping[str, Any], env: Mapping[str, str]) -> Body:
            """The daemon request body for the event; raises :class:`AdapterError`."""
            ...

        def can_ask(self, env: Mapping[str, str]) -> bool:
            """Whether the harness can put an ``ask`` in front of a human itself."""
            ...

        def render(
            self, kind: EventKind, raw: Mapping[str, Any], reply: Mapping[str, Any]
        ) -> Rendered:
            """The harness's answer to the daemon's reply; raises :class:`AdapterError`."""
            ...

        def render_failure(self, kind: EventKind, raw: Mapping[str, Any], message: str) -> Rendered:
            """The harness's safe answer when the daemon could not be asked."""
            ...


ADAPTERS: dict[str, str] = {
    "claude-code": "claude_code",
    "codex": "codex",
    "gemini": "gemini",
}
"""User-facing harness id -> module in this package (each defines ``Adapter``)."""

ENDPOINTS: dict[str, str] = {
    "pre_tool": "/decide",
    "prompt": "/prompts/screen",
    "tool_result": "/tool-results",
    "session": "/sessions",
}

MAX_NAME = 200
MAX_PROMPT_CHARS = 256 * 1024
MAX_OUTPUT_CHARS = 512 * 1024
NO_OUTPUT: Rendered = (b"", 0)


def load_adapter(name: str) -> HarnessAdapter:
    """Instantiate the adapter registered as ``name``; unknown names list the valid ones."""
    module = ADAPTERS.get(name)
    if module is None:
        raise AdapterError(
            f"unknown harness {name!r}; valid: {', '.join(ADAPTERS)}",
            "the hook command must be `stockade hook <harness>`; rerun `stockade install`",
        )
    # __import__ rather than importlib: the shim pays for one adapter module, nothing more.
    package = __import__(f"stockade.adapters.{module}", fromlist=["Adapter"])
    adapter: HarnessAdapter = package.Adapter()
    return adapter


class HookAdapter:
    """Parsing shared by harnesses whose hooks send ``session_id``, ``cwd``, ``tool_name``,
    ``tool_input`` and ``prompt`` (Claude Code, Codex, Gemini CLI).

    ``events`` maps a ``hook_event_name`` to its kind and a detail: the status of a
    tool result, or ``start``/``end`` of a session. ``project_env`` names the
    environment variable that carries the project root; without one (or when it is
    unset or relative) the cwd is the project. Subclasses render the answers.
    """

    name: ClassVar[str]
    project_env: ClassVar[str | None] = None
    events: ClassVar[dict[str, tuple[EventKind, str]]] = {}

    def event_kind(self, raw: Mapping[str, Any]) -> EventKind | None:
        event = raw.get("hook_event_name")
        found = self.events.get(event) if isinstance(event, str) else None
        return None if found is None else found[0]

    def can_ask(self, env: Mapping[str, str]) -> bool:
        return False

    def request(self, kind: EventKind, raw: Mapping[str, Any], env: Mapping[str, str]) -> Body:
        cwd = field_path(raw, "cwd")
        body: Body = {"harness": self.name, "session_id": field_str(raw, "session_id")}
        if kind == "pre_tool" or kind == "tool_result":
            body["tool_name"] = field_str(raw, "tool_name")
            body["tool_input"] = field_object(raw, "tool_input")
        if kind == "prompt":
            body["prompt"] = field_str(raw, "prompt", max_len=MAX_PROMPT_CHARS)
        body["cwd"] = cwd
        body["project_root"] = self._root(cwd, env)
        if kind == "tool_result":
            status = self._detail(raw)
            body["status"] = status
            body["output"] = self.tool_output(raw, status)
            if len(body["output"]) > MAX_OUTPUT_CHARS:
                raise AdapterError(
                    f"the tool output is longer than the {MAX_OUTPUT_CHARS} characters "
                    "Stockade inspects",
                    "ask the agent for a smaller part of it",
                )
            call_id = raw.get("tool_use_id")
            if isinstance(call_id, str) and 0 < len(call_id) <= MAX_NAME:
                body["tool_use_id"] = call_id
        elif kind == "session":
            body["event"] = self._detail(raw)
            for key in ("model", "source", "reason"):
                value = raw.get(key)
                if isinstance(value, str) and 0 < len(value) <= MAX_NAME:
                    body[key] = value
        return body

    def tool_output(self, raw: Mapping[str, Any], status: str) -> str:
        """The text of what the tool returned, as the model would read it."""
        if status == "not_run":
            return ""
        return as_text(raw.get("tool_response", ""))

    def render(self, kind: EventKind, raw: Mapping[str, Any], reply: Mapping[str, Any]) -> Rendered:
        if kind == "pre_tool":
            return self.render_decision(reply)
        if kind == "prompt":
            return self.render_prompt(reply)
        if kind == "tool_result":
            output = redacted_output(reply)
            return NO_OUTPUT if output is None else self.render_redacted(raw, output)
        return NO_OUTPUT

    def render_decision(self, decision: Mapping[str, Any]) -> Rendered:
        raise NotImplementedError

    def render_prompt(self, screening: Mapping[str, Any]) -> Rendered:
        raise NotImplementedError

    def render_redacted(self, raw: Mapping[str, Any], output: str) -> Rendered:
        """Hand the redacted ``output`` to the model instead of the real one."""
        raise NotImplementedError

    def _detail(self, raw: Mapping[str, Any]) -> str:
        return self.events[raw["hook_event_name"]][1]

    def _root(self, cwd: str, env: Mapping[str, str]) -> str:
        if self.project_env is None:
            return cwd
        return env_root(env, self.project_env) or cwd


# --- helpers shared by the built-in adapters -------------------------------------------


def dump(data: Mapping[str, Any]) -> bytes:
    """Compact JSON, one line, newline-terminated."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


def as_text(value: Any) -> str:
    """A string as it is; anything else as compact JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


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


def redacted_output(answer: Mapping[str, Any]) -> str | None:
    """The redacted text of a ``/tool-results`` answer, or ``None`` when nothing was redacted.

    A malformed answer is an error, so the shim falls back to withholding the output.
    """
    redacted = answer.get("redacted")
    output = answer.get("output")
    if not isinstance(redacted, bool) or (redacted and not isinstance(output, str)):
        raise AdapterError(
            "the daemon's tool-result answer has no valid 'redacted' and 'output'",
            "client and daemon versions may differ; restart it with `stockade serve`",
        )
    return output if redacted else None


def reason_of(answer: Mapping[str, Any]) -> str:
    """``Stockade: <reason> (rule <id>)``: never empty (harnesses reject empty reasons)."""
    reason = answer.get("reason")
    text = reason if isinstance(reason, str) and reason.strip() else "no reason given"
    rule = answer.get("rule_id")
    if isinstance(rule, str) and rule:
        return f"Stockade: {text} (rule {rule})"
    return f"Stockade: {text}"


def ask_as_deny(answer: Mapping[str, Any]) -> str:
    """The reason for an ``ask`` turned into a deny where the harness cannot ask.

    Reached only when the daemon did not hold the call for an approval (an older
    daemon, or a deadline too short to hold): ``ask`` must never run the tool.
    """
    return (
        f"{reason_of(answer)}. This call needs a human's approval, and this harness cannot "
        "ask for it: allow it in the Stockade policy, or run it yourself"
    )


def notice(message: str) -> Body:
    """A message for the user (``systemMessage``), never for the model; nothing else."""
    return {"systemMessage": message}


_HINT = "the harness sent a hook payload Stockade does not understand; report it with its version"
