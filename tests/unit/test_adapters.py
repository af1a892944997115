"""Adapters: what they refuse to parse, and that nothing unexpected renders as an allow."""

from __future__ import annotations

import json
from typing import Any

import pytest

from stockade.adapters import ADAPTERS, load_adapter
from stockade.errors import AdapterError

VALID: dict[str, dict[str, Any]] = {
    "claude-code": {"hook_event_name": "PreToolUse"},
    "codex": {"hook_event_name": "PreToolUse"},
    "gemini": {"hook_event_name": "BeforeTool"},
}
BASE = {"session_id": "s", "cwd": "/p", "tool_name": "Bash", "tool_input": {"command": "ls"}}


def test_registry_names_and_unknown_harness() -> None:
    assert set(ADAPTERS) == {"claude-code", "codex", "gemini"}
    for name in ADAPTERS:
        assert load_adapter(name).name == name
    with pytest.raises(AdapterError, match="unknown harness 'cursor'; valid: claude-code"):
        load_adapter("cursor")


@pytest.mark.parametrize("harness", sorted(ADAPTERS))
@pytest.mark.parametrize(
    "change",
    [
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
    ],
)
def test_malformed_pre_tool_input_is_refused(harness: str, change: dict[str, Any]) -> None:
    raw = {**BASE, **VALID[harness]}
    for key, value in change.items():
        if value is None:
            del raw[key]
        else:
            raw[key] = value
    adapter = load_adapter(harness)
    assert adapter.event_kind(raw) == "pre_tool"
    with pytest.raises(AdapterError):
        adapter.parse_pre_tool(raw, {})


@pytest.mark.parametrize("harness", sorted(ADAPTERS))
@pytest.mark.parametrize(
    "reply",
    [{}, {"verdict": "maybe"}, {"verdict": None}, {"verdict": "ALLOW"}, {"verdict": ["allow"]}],
)
def test_a_reply_without_a_valid_verdict_never_renders(harness: str, reply: dict[str, Any]) -> None:
    adapter = load_adapter(harness)
    with pytest.raises(AdapterError):
        adapter.render_decision(reply)
    with pytest.raises(AdapterError):
        adapter.render_prompt(reply)


@pytest.mark.parametrize("harness", sorted(ADAPTERS))
def test_reasons_are_never_empty(harness: str) -> None:
    out, code = load_adapter(harness).render_decision({"verdict": "deny", "reason": "  "})
    assert code == 0
    text = json.dumps(json.loads(out))
    assert "Stockade: no reason given" in text


@pytest.mark.parametrize("harness", sorted(ADAPTERS))
def test_unknown_events_are_no_ops(harness: str) -> None:
    adapter = load_adapter(harness)
    for event in (None, "", "Notification", "PermissionRequest", "SessionEnd", 3):
        assert adapter.event_kind({"hook_event_name": event}) == "other"


def test_claude_project_root_comes_from_the_environment_only_if_absolute() -> None:
    adapter = load_adapter("claude-code")
    raw = {**BASE, "hook_event_name": "PreToolUse", "cwd": "/p/sub"}
    assert adapter.parse_pre_tool(raw, {"CLAUDE_PROJECT_DIR": "/p"}).project_root == "/p"
    assert adapter.parse_pre_tool(raw, {"CLAUDE_PROJECT_DIR": "p"}).project_root == "/p/sub"
    assert adapter.parse_pre_tool(raw, {}).project_root == "/p/sub"
    # Codex exports no project directory; a stray CLAUDE_PROJECT_DIR is not trusted.
    codex = load_adapter("codex").parse_pre_tool(raw, {"CLAUDE_PROJECT_DIR": "/p"})
    assert codex.project_root == "/p/sub"


def test_adapters_import_nothing_heavy() -> None:
    import subprocess
    import sys

    code = (
        "import sys; from stockade.adapters import load_adapter\n"
        "[load_adapter(n) for n in ('claude-code', 'codex', 'gemini')]\n"
        "print(' '.join(sorted(sys.modules)))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    heavy = ("typer", "rich", "pydantic", "starlette", "uvicorn", "stockade.policy", "http")
    assert not [m for m in loaded if m.startswith(heavy)]
