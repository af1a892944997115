"""The shim in-process: arguments, no-op events, failure forms per event, deadline, config.

Nothing here talks to a daemon: ``STOCKADE_HOME`` points at an empty directory, so
every event that needs the daemon takes its failure path. The exchange with a real
daemon (and ``hold_s`` on the wire) is tested in ``tests/integration/test_shim_process.py``.
"""

from __future__ import annotations

import io
import json
import signal
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from stockade.adapters import load_adapter
from stockade.entry import hook as entry_hook
from stockade.home import Home
from stockade.shim import run
from stockade.shim.hook import (
    DEFAULT_TIMEOUT_S,
    MAX_TIMEOUT_S,
    HookTimeout,
    _arm,
    _disarm,
    _timeout,
    answer,
    socket_path,
)


def call(argv: list[str], stdin: bytes, env: dict[str, str]) -> tuple[int, bytes, str]:
    out, err = io.BytesIO(), io.StringIO()
    code = run(argv, stdin=io.BytesIO(stdin), stdout=out, stderr=err, env=env)
    return code, out.getvalue(), err.getvalue()


def event(name: str, **fields: Any) -> bytes:
    return json.dumps({"session_id": "s", "cwd": "/p", "hook_event_name": name, **fields}).encode()


@pytest.mark.parametrize(
    "env",
    [{}, {"STOCKADE_HOME": "/x/h"}, {"STOCKADE_HOME": "~/h"}, {"STOCKADE_HOME": "rel/h"}],
)
def test_socket_path_matches_home(env: dict[str, str]) -> None:
    assert socket_path(env) == str(Home.from_env(env).socket_path)


@pytest.mark.parametrize("argv", [[], ["cursor"], ["claude-code", "extra"]])
def test_bad_arguments_exit_2_with_a_deny(argv: list[str], tmp_path: Path) -> None:
    code, out, err = call(argv, b"{}", {"STOCKADE_HOME": str(tmp_path)})
    assert code == 2
    assert json.loads(out)["decision"] == "deny"
    assert "unknown harness" in err


@pytest.mark.parametrize(
    ("harness", "name"),
    [("claude-code", "Stop"), ("claude-code", "Notification"), ("gemini", "AfterModel")],
)
def test_other_events_answer_nothing_without_a_daemon(
    harness: str, name: str, tmp_path: Path
) -> None:
    assert call([harness], event(name), {"STOCKADE_HOME": str(tmp_path)}) == (0, b"", "")


def test_prompt_failure_uses_the_prompt_blocking_form(tmp_path: Path) -> None:
    stdin = event("UserPromptSubmit", prompt="hi")
    code, out, _ = call(["claude-code"], stdin, {"STOCKADE_HOME": str(tmp_path)})
    answer_ = json.loads(out)
    assert code == 0 and answer_["decision"] == "block"
    assert answer_["reason"].startswith("Stockade blocked this prompt")


@pytest.mark.parametrize(
    ("harness", "name"),
    [
        ("claude-code", "SessionStart"),
        ("claude-code", "SessionEnd"),
        ("codex", "SessionStart"),
        ("gemini", "SessionEnd"),
    ],
)
def test_session_events_without_a_daemon_only_tell_the_user(
    harness: str, name: str, tmp_path: Path
) -> None:
    code, out, _ = call([harness], event(name), {"STOCKADE_HOME": str(tmp_path)})
    assert code == 0
    reply = json.loads(out)
    assert list(reply) == ["systemMessage"]
    assert reply["systemMessage"].startswith("Stockade could not record this session event")


SECRET_OUTPUT = {"stdout": "TOKEN=sk-ant-api03-secret-secret", "stderr": "", "interrupted": False}


@pytest.mark.parametrize(
    ("harness", "stdin", "where"),
    [
        (
            "claude-code",
            event("PostToolUse", tool_name="Bash", tool_input={}, tool_response=SECRET_OUTPUT),
            lambda r: r["hookSpecificOutput"]["updatedToolOutput"]["stdout"],
        ),
        (
            "codex",
            event("PostToolUse", tool_name="Bash", tool_input={}, tool_response="sk-ant-api03-x"),
            lambda r: r["reason"] if r["decision"] == "block" else None,
        ),
        (
            "gemini",
            event("AfterTool", tool_name="x", tool_input={}, tool_response={"llmContent": "sk"}),
            lambda r: r["reason"] if r["decision"] == "deny" else None,
        ),
    ],
)
def test_an_uninspected_tool_output_is_withheld(
    harness: str, stdin: bytes, where: Any, tmp_path: Path
) -> None:
    code, out, _ = call([harness], stdin, {"STOCKADE_HOME": str(tmp_path)})
    assert code == 0 and b"sk-ant" not in out
    shown = where(json.loads(out))
    assert shown.startswith("Stockade could not inspect this tool output, so it is withheld")
    assert "stockade serve" in shown


def test_an_unexpected_exception_blocks(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    adapter = load_adapter("gemini")

    def explode(*args: Any) -> Any:
        raise ZeroDivisionError

    monkeypatch.setattr(adapter, "request", explode)
    stdin = io.BytesIO(event("BeforeTool"))
    out, code = answer(adapter, stdin, {"STOCKADE_HOME": str(tmp_path)})
    reply = json.loads(out)
    assert code == 0 and reply["decision"] == "deny"
    assert "failed unexpectedly (ZeroDivisionError)" in reply["reason"]


def test_the_deadline_fires_and_restores_the_previous_handler() -> None:
    before = signal.getsignal(signal.SIGALRM)
    previous = _arm(0.05)
    with pytest.raises(HookTimeout):
        time.sleep(2)
    _disarm(previous)
    assert signal.getsignal(signal.SIGALRM) == before
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def test_the_deadline_is_disarmed_after_an_answer() -> None:
    call(["codex"], event("PreToolUse", tool_name="Bash", tool_input={}), {"STOCKADE_HOME": "/x"})
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2.5", 2.5),
        ("", DEFAULT_TIMEOUT_S),
        ("x", DEFAULT_TIMEOUT_S),
        ("0", DEFAULT_TIMEOUT_S),
        ("-3", DEFAULT_TIMEOUT_S),
        ("nan", DEFAULT_TIMEOUT_S),
        ("300", MAX_TIMEOUT_S),  # never past the harness's own hook timeout
        ("inf", MAX_TIMEOUT_S),
    ],
)
def test_timeout_from_env(value: str, expected: float) -> None:
    assert _timeout({"STOCKADE_HOOK_TIMEOUT": value}) == expected


def test_the_default_deadline_can_hold_and_stays_below_the_installed_timeouts() -> None:
    from stockade.install import HARNESS_HOOKS

    assert 60 < DEFAULT_TIMEOUT_S <= MAX_TIMEOUT_S
    for harness, specs in HARNESS_HOOKS.items():
        for spec in specs:
            if spec.event != "SessionEnd":  # Codex clamps that one to 3 s; nothing waits on it
                seconds = spec.timeout / 1000 if harness == "gemini" else spec.timeout
                assert seconds > MAX_TIMEOUT_S, (harness, spec.event)


def test_a_shim_that_cannot_import_still_blocks(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "stockade.shim", None)  # a broken install
    assert entry_hook(["gemini"]) == 2
    assert "Stockade blocked this call: its hook could not run (ModuleNotFoundError)" in (
        capsys.readouterr().err
    )
