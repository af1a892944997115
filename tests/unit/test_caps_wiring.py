"""The agent name on its way from an install to the daemon: the hook command and the shim."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from stockade.caps.agents import check_agent_name
from stockade.install.settings import hook_command, is_ours
from stockade.shim import run


def test_install_with_an_agent_writes_it_into_a_hook_command_that_stays_ours() -> None:
    command = hook_command("claude-code", "/opt/stockade bin/stockade", "ci-bot")
    assert command == "'/opt/stockade bin/stockade' hook claude-code --agent ci-bot"
    assert is_ours({"type": "command", "command": command}, "claude-code")
    assert hook_command("codex", "/usr/bin/stockade") == "/usr/bin/stockade hook codex"


@pytest.mark.parametrize(
    "argv",
    [
        ["claude-code", "--agent"],
        ["claude-code", "--agent", "CI Bot"],
        ["claude-code", "--agent", "-x"],
        ["claude-code", "--agent", "a" * 65],
        ["claude-code", "--agnt", "ci-bot"],
        ["claude-code", "--agent", "ci-bot", "extra"],
    ],
)
def test_the_shim_blocks_a_malformed_agent_argument(argv: list[str], tmp_path: Path) -> None:
    out, err = io.BytesIO(), io.StringIO()
    code = run(
        argv, stdin=io.BytesIO(b"{}"), stdout=out, stderr=err, env={"STOCKADE_HOME": str(tmp_path)}
    )
    assert code == 2 and json.loads(out.getvalue())["decision"] == "deny"
    assert "--agent NAME" in err.getvalue()


@pytest.mark.parametrize("name", ["ci-bot", "a", "nightly.job_2", "0" * 64])
def test_the_shim_and_the_registry_agree_on_valid_names(name: str, tmp_path: Path) -> None:
    assert check_agent_name(name) == name
    event = {"session_id": "s", "cwd": "/p", "hook_event_name": "Stop"}
    out = io.BytesIO()
    code = run(
        ["claude-code", "--agent", name],
        stdin=io.BytesIO(json.dumps(event).encode()),
        stdout=out,
        stderr=io.StringIO(),
        env={"STOCKADE_HOME": str(tmp_path)},
    )
    assert (code, out.getvalue()) == (0, b"")  # an event the shim ignores: nothing to refuse
