"""Adapters: what they refuse to parse, and that nothing unexpected renders as an allow.

The exact wire forms per event live in ``tests/golden/hooks``; these tests attack the
edges: malformed payloads, malformed daemon replies, the hold decision, and the
withheld form of an output Stockade could not inspect.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import stockade
from stockade.adapters import ADAPTERS, load_adapter
from stockade.adapters.claude_code import withheld
from stockade.errors import AdapterError

PRE_TOOL = {"claude-code": "PreToolUse", "codex": "PreToolUse", "gemini": "BeforeTool"}
POST_TOOL = {"claude-code": "PostToolUse", "codex": "PostToolUse", "gemini": "AfterTool"}
BASE = {"session_id": "s", "cwd": "/p", "tool_name": "Bash", "tool_input": {"command": "ls"}}
MALFORMED = [
    {"session_id": None},
    {"session_id": ""},
    {"session_id": "x" * 201},
    {"session_id": 7},
    {"tool_name": None},
    {"tool_input": None},
    {"tool_input": ["ls"]},
    {"cwd": None},
    {"cwd": "relative/dir"},
    {"cwd": "/p\x00"},
]


def changed(raw: dict[str, Any], change: dict[str, Any]) -> dict[str, Any]:
    result = dict(raw)
    for key, value in change.items():
        if value is None:
            del result[key]
        else:
            result[key] = value
    return result


def test_registry_names_and_unknown_harness() -> None:
    assert set(ADAPTERS) == {"claude-code", "codex", "gemini"}
    for name in ADAPTERS:
        assert load_adapter(name).name == name
    with pytest.raises(AdapterError, match="unknown harness 'cursor'; valid: claude-code"):
        load_adapter("cursor")


@pytest.mark.parametrize("harness", sorted(ADAPTERS))
@pytest.mark.parametrize("change", MALFORMED)
def test_malformed_tool_events_are_refused(harness: str, change: dict[str, Any]) -> None:
    adapter = load_adapter(harness)
    for event in (PRE_TOOL[harness], POST_TOOL[harness]):
        raw = changed({**BASE, "hook_event_name": event, "tool_response": "x"}, change)
        kind = adapter.event_kind(raw)
        assert kind in ("pre_tool", "tool_result")
        with pytest.raises(AdapterError):
            adapter.request(kind, raw, {})


@pytest.mark.parametrize("harness", sorted(ADAPTERS))
@pytest.mark.parametrize("change", [{"session_id": None}, {"cwd": "x"}, {"session_id": ["s"]}])
def test_malformed_session_events_are_refused(harness: str, change: dict[str, Any]) -> None:
    adapter = load_adapter(harness)
    raw = changed({"session_id": "s", "cwd": "/p", "hook_event_name": "SessionStart"}, change)
    with pytest.raises(AdapterError):
        adapter.request("session", raw, {})


@pytest.mark.parametrize("harness", sorted(ADAPTERS))
def test_an_output_too_long_to_inspect_is_refused(harness: str) -> None:
    adapter = load_adapter(harness)
    huge = "a" * (512 * 1024 + 1)
    response: Any = {"llmContent": huge} if harness == "gemini" else huge
    raw = {**BASE, "hook_event_name": POST_TOOL[harness], "tool_response": response}
    with pytest.raises(AdapterError, match="longer than the 524288 characters"):
        adapter.request("tool_result", raw, {})


@pytest.mark.parametrize("harness", sorted(ADAPTERS))
@pytest.mark.parametrize(
    "reply",
    [{}, {"verdict": "maybe"}, {"verdict": None}, {"verdict": "ALLOW"}, {"verdict": ["allow"]}],
)
def test_a_reply_without_a_valid_verdict_never_renders(harness: str, reply: dict[str, Any]) -> None:
    adapter = load_adapter(harness)
    raw = {**BASE, "hook_event_name": PRE_TOOL[harness]}
    with pytest.raises(AdapterError):
        adapter.render("pre_tool", raw, reply)
    with pytest.raises(AdapterError):
        adapter.render("prompt", raw, reply)


@pytest.mark.parametrize("harness", sorted(ADAPTERS))
@pytest.mark.parametrize(
    "reply",
    [
        {},
        {"output": "x"},
        {"redacted": "true", "output": "x"},
        {"redacted": 1, "output": "x"},
        {"redacted": True},
        {"redacted": True, "output": None},
        {"redacted": True, "output": ["x"]},
    ],
)
def test_a_malformed_tool_result_reply_is_an_error(harness: str, reply: dict[str, Any]) -> None:
    # An error, so that the shim answers with the failure form (which withholds the output).
    adapter = load_adapter(harness)
    raw = {**BASE, "hook_event_name": POST_TOOL[harness], "tool_response": "secret"}
    with pytest.raises(AdapterError):
        adapter.render("tool_result", raw, reply)


@pytest.mark.parametrize("harness", sorted(ADAPTERS))
def test_the_tool_result_failure_form_hides_the_output(harness: str) -> None:
    adapter = load_adapter(harness)
    raw = {
        **BASE,
        "hook_event_name": POST_TOOL[harness],
        "tool_response": "sk-ant-0123456789abcdef",
    }
    out, code = adapter.render_failure("tool_result", raw, "Stockade could not inspect it")
    assert code == 0 and b"sk-ant" not in out and b"Stockade could not inspect it" in out


@pytest.mark.parametrize("harness", sorted(ADAPTERS))
def test_session_failures_never_block(harness: str) -> None:
    out, code = load_adapter(harness).render_failure("session", {}, "daemon down")
    assert code == 0 and json.loads(out) == {"systemMessage": "daemon down"}


@pytest.mark.parametrize("harness", sorted(ADAPTERS))
def test_reasons_are_never_empty(harness: str) -> None:
    raw = {**BASE, "hook_event_name": PRE_TOOL[harness]}
    out, code = load_adapter(harness).render("pre_tool", raw, {"verdict": "deny", "reason": "  "})
    assert code == 0
    assert "Stockade: no reason given" in json.dumps(json.loads(out))


@pytest.mark.parametrize("harness", sorted(ADAPTERS))
def test_unknown_events_are_no_ops(harness: str) -> None:
    adapter = load_adapter(harness)
    for event in (None, "", "Notification", "PermissionRequest", "Stop", 3, ["PreToolUse"]):
        assert adapter.event_kind({"hook_event_name": event}) is None


def test_only_an_unattended_claude_session_cannot_ask() -> None:
    claude = load_adapter("claude-code")
    assert claude.can_ask({})  # no evidence: assume a human is there
    assert claude.can_ask({"CLAUDE_CODE_SESSION_ATTENDED": "1"})
    assert claude.can_ask({"CLAUDE_CODE_SESSION_ATTENDED": ""})
    assert not claude.can_ask({"CLAUDE_CODE_SESSION_ATTENDED": "0"})
    for name in ("codex", "gemini"):
        assert not load_adapter(name).can_ask({"CLAUDE_CODE_SESSION_ATTENDED": "1"})


def test_claude_project_root_comes_from_the_environment_only_if_absolute() -> None:
    adapter = load_adapter("claude-code")
    raw = {**BASE, "hook_event_name": "PreToolUse", "cwd": "/p/sub"}

    def root(env: dict[str, str], harness: str = "claude-code") -> Any:
        return load_adapter(harness).request("pre_tool", raw, env)["project_root"]

    assert adapter.request("pre_tool", raw, {"CLAUDE_PROJECT_DIR": "/p"})["project_root"] == "/p"
    assert root({"CLAUDE_PROJECT_DIR": "p"}) == "/p/sub"
    assert root({}) == "/p/sub"
    # Codex exports no project directory; a stray CLAUDE_PROJECT_DIR is not trusted.
    assert root({"CLAUDE_PROJECT_DIR": "/p"}, "codex") == "/p/sub"


def test_withheld_keeps_the_shape_and_enum_like_strings_only() -> None:
    original = {
        "type": "text",
        "file": {"filePath": "/p/.env", "content": "TOKEN=sk-ant-secret-value-0123456789"},
        "lines": ["API_KEY=abcdefabcdefabcdef0123", "", "mode_a"],
        "numLines": 3,
        "truncated": False,
        "nothing": None,
    }
    assert withheld(original, "M") == {
        "type": "text",
        "file": {"filePath": "M", "content": "M"},
        "lines": ["M", "", "mode_a"],
        "numLines": 3,
        "truncated": False,
        "nothing": None,
    }
    assert withheld("a secret", "M") == "M"
    assert withheld(42, "M") == "M"


def test_withheld_survives_absurd_nesting() -> None:
    deep: Any = "sk-ant-secret-value-0123456789"
    for _ in range(5000):
        deep = [deep]
    out, code = load_adapter("claude-code").render_failure(
        "tool_result", {"hook_event_name": "PostToolUse", "tool_response": deep}, "M"
    )
    assert code == 0 and b"sk-ant" not in out


def test_adapters_and_shim_import_nothing_heavy() -> None:
    # The package __init__ is replaced by an empty package here: it is not part of the
    # hook path this test pins (the end-to-end import test runs the real console script).
    package_dir = str(Path(stockade.__file__).parent)
    code = (
        "import sys, types\n"
        f"pkg = types.ModuleType('stockade'); pkg.__path__ = [{package_dir!r}]\n"
        "sys.modules['stockade'] = pkg\n"
        "from stockade.shim import run\n"
        "from stockade.adapters import load_adapter\n"
        "[load_adapter(n) for n in ('claude-code', 'codex', 'gemini')]\n"
        "print(' '.join(sorted(sys.modules)))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    heavy = (
        "typer",
        "rich",
        "pydantic",
        "starlette",
        "uvicorn",
        "stockade.policy",
        "stockade.request",
        "stockade.home",
        "http",
        "ssl",
        "email",
        "typing",
        "dataclasses",
        "inspect",
        "contextlib",
        "importlib.",
        "socket",
        "selectors",
    )
    assert "stockade.shim.hook" in loaded
    assert not [m for m in loaded if m.startswith(heavy)]
