"""The shim in-process: argument handling, no-op events, deadline and configuration."""

from __future__ import annotations

import io
import json
import signal
import time
from pathlib import Path
from typing import Any

import pytest

from stockade.adapters import load_adapter
from stockade.home import Home
from stockade.shim import run
from stockade.shim.hook import (
    DEFAULT_TIMEOUT_S,
    HookTimeout,
    _deadline,
    _timeout,
    answer,
    socket_path,
)


def call(argv: list[str], stdin: bytes, env: dict[str, str]) -> tuple[int, bytes, str]:
    out, err = io.BytesIO(), io.StringIO()
    code = run(argv, stdin=io.BytesIO(stdin), stdout=out, stderr=err, env=env)
    return code, out.getvalue(), err.getvalue()


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
    ("harness", "event"),
    [("claude-code", "PostToolUse"), ("claude-code", "SessionStart"), ("gemini", "AfterTool")],
)
def test_other_events_answer_nothing_without_a_daemon(
    harness: str, event: str, tmp_path: Path
) -> None:
    stdin = json.dumps({"session_id": "s", "cwd": "/p", "hook_event_name": event}).encode()
    assert call([harness], stdin, {"STOCKADE_HOME": str(tmp_path)}) == (0, b"", "")


def test_prompt_failure_uses_the_prompt_blocking_form(tmp_path: Path) -> None:
    stdin = json.dumps(
        {"session_id": "s", "cwd": "/p", "hook_event_name": "UserPromptSubmit", "prompt": "hi"}
    ).encode()
    code, out, _ = call(["claude-code"], stdin, {"STOCKADE_HOME": str(tmp_path)})
    answer_ = json.loads(out)
    assert code == 0 and answer_["decision"] == "block"
    assert answer_["reason"].startswith("Stockade blocked this prompt")


def test_an_unexpected_exception_blocks(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    adapter = load_adapter("gemini")

    def explode(raw: Any, env: Any = None) -> Any:
        raise ZeroDivisionError

    monkeypatch.setattr(adapter, "parse_pre_tool", explode)
    stdin = io.BytesIO(
        json.dumps({"hook_event_name": "BeforeTool", "session_id": "s", "cwd": "/p"}).encode()
    )
    out, code = answer(adapter, stdin, {"STOCKADE_HOME": str(tmp_path)})
    reply = json.loads(out)
    assert code == 0 and reply["decision"] == "deny"
    assert "failed unexpectedly (ZeroDivisionError)" in reply["reason"]


def test_deadline_fires_and_restores_the_previous_handler() -> None:
    before = signal.getsignal(signal.SIGALRM)
    with pytest.raises(HookTimeout), _deadline(0.05):
        time.sleep(2)
    assert signal.getsignal(signal.SIGALRM) == before
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("2.5", 2.5), ("", DEFAULT_TIMEOUT_S), ("x", DEFAULT_TIMEOUT_S), ("0", DEFAULT_TIMEOUT_S)],
)
def test_timeout_from_env(value: str, expected: float) -> None:
    assert _timeout({"STOCKADE_HOOK_TIMEOUT": value}) == expected
