"""Agents and capability grants with a real daemon, the real CLI and the real hook shim."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tests.daemon_support import STOCKADE, DaemonProcess, tool_call
from tests.integration.conftest import RawRequest
from tests.integration.test_shim_process import claude_pre_tool

from stockade.caps.drift import check_capabilities
from stockade.home import Home

pytestmark = pytest.mark.integration


def cli(home: Home, *args: str, user_home: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "STOCKADE_HOME": str(home.root)}
    if user_home is not None:
        env["HOME"] = str(user_home)
    return subprocess.run(
        [STOCKADE, *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )


def cli_json(home: Home, *args: str) -> Any:
    result = cli(home, *args, "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_grants_restrict_an_agent_through_the_api_cli_install_and_shim(
    home: Home, spawn_daemon: Callable[..., DaemonProcess], tmp_path: Path, raw_request: RawRequest
) -> None:
    daemon = spawn_daemon()
    project = str(tmp_path)

    def decide(command: str, agent: str | None = "ci-bot") -> dict[str, Any]:
        body = tool_call(tool_name="Bash", tool_input={"command": command})
        body |= {"cwd": project, "project_root": project, "agent": agent}
        with daemon.client() as client:
            answer: dict[str, Any] = client.request("POST", "/decide", body)
        return answer

    refused = cli(home, "agents", "add", "CI Bot")
    assert refused.returncode != 0 and "invalid agent name" in refused.stderr
    added = cli_json(home, "agents", "add", "ci-bot", "--note", "nightly CI")
    assert added["agent"]["name"] == "ci-bot" and added["agent"]["by"] == "cli"
    assert decide("git status", agent="someone")["verdict"] == "allow"  # unregistered
    denied = decide("git status")
    assert (denied["verdict"], denied["rule_id"]) == ("deny", "cap:missing")
    assert denied["reason"] == "agent ci-bot has no grant for shell.exec 'git'"

    granted = cli_json(home, "caps", "grant", "ci-bot", "shell.exec", "--command", "git")
    token = granted["token"]
    assert token["status"] == "live" and token["constraints"] == {"commands": ["git"]}
    assert decide("git status")["verdict"] == "allow"
    compound = decide("git status && rm -rf build")
    assert compound["reason"] == "agent ci-bot has no grant for shell.exec 'rm'"
    listed = cli_json(home, "caps", "list", "--agent", "ci-bot")["tokens"]
    assert [t["id"] for t in listed] == [token["id"]]
    assert cli_json(home, "caps", "show", token["id"])["sha256"] == token["sha256"]
    event = cli_json(home, "audit", "show", str(granted["event_seq"]))
    assert event["kind"] == "cap.granted" and event["payload"]["sha256"] == token["sha256"]

    revoked = cli_json(home, "caps", "revoke", token["id"])
    assert revoked["revoked"] == token["id"]
    assert decide("git status")["rule_id"] == "cap:missing"  # at once

    # The API refuses what cannot be granted, with a clear 4xx.
    json_type = {"content-type": "application/json"}
    for body, status in [
        ({"agent": "ci-bot", "capability": "shell.run"}, 422),
        ({"agent": "ci-bot", "capability": "fs.read", "commands": ["git"]}, 422),
        ({"agent": "nobody", "capability": "fs.read"}, 404),
        ({"agent": "ci-bot", "capability": "fs.read", "expires_in_s": -5}, 422),
        ({"agent": "ci-bot", "capability": "fs.read", "expires_at": "2001-01-01T00:00:00Z"}, 422),
    ]:
        code, answer = raw_request("POST", "/api/v1/caps", json.dumps(body).encode(), json_type)
        assert code == status, (body, answer)
    code, _ = raw_request("GET", "/api/v1/caps/cap_nope")
    assert code == 404
    code, answer = raw_request("POST", "/api/v1/agents/ci-bot/remove", b"{}", json_type)
    assert code == 400 and answer["error"]["code"] == "confirmation_required"

    # install --agent binds a harness install to the agent; the shim sends its name.
    user_home = tmp_path / "user"
    user_home.mkdir()
    unknown = cli(home, "install", "claude-code", "--agent", "ghost", user_home=user_home)
    assert unknown.returncode != 0 and "stockade agents add ghost" in unknown.stderr
    installed = cli(
        home, "install", "claude-code", "--agent", "ci-bot", "--json", user_home=user_home
    )
    assert installed.returncode == 0, installed.stderr
    settings = json.loads((user_home / ".claude" / "settings.json").read_text())
    command = settings["hooks"]["PreToolUse"][0]["hooks"][0]["command"]
    assert command.endswith("hook claude-code --agent ci-bot")
    cli_json(home, "caps", "grant", "ci-bot", "shell.exec", "--command", "ls", "--expires", "2h")
    hook = subprocess.run(
        shlex.split(command),
        input=claude_pre_tool("Bash", {"command": "git status"}, cwd=project),
        capture_output=True,
        env={**os.environ, "STOCKADE_HOME": str(home.root), "HOME": str(user_home)},
        timeout=30,
        check=False,
    )
    answer = json.loads(hook.stdout)["hookSpecificOutput"]
    assert answer["permissionDecision"] == "deny"
    assert "agent ci-bot has no grant for shell.exec 'git'" in answer["permissionDecisionReason"]
    with daemon.client() as client:
        last = client.request("GET", "/audit/events", query={"kind": "decision", "order": "desc"})
    assert last["events"][0]["payload"]["agent"] == "ci-bot"

    # A rotation: the old key's grants stop, and --reissue signs them again.
    rotated = cli_json(home, "identity", "rotate", "--yes")
    (live,) = rotated["grants"]["must_reissue"]
    for _ in range(3):
        assert decide("ls")["rule_id"] == "cap:missing"
    with daemon.client() as client:
        rejected = client.request("GET", "/audit/events", query={"kind": "cap.rejected"})
    assert [e["payload"]["cap_id"] for e in rejected["events"]] == [live]  # once, not per call
    assert "retired key" in rejected["events"][0]["payload"]["problem"]
    assert cli_json(home, "caps", "show", live)["status"] == "invalid"
    again = cli_json(home, "identity", "rotate", "--yes", "--reissue")
    assert again["grants"] == {"must_reissue": [], "reissued": [live]}
    assert decide("ls")["verdict"] == "allow"
    assert check_capabilities(home).ok, check_capabilities(home).drifts

    removed = cli_json(home, "agents", "rm", "ci-bot", "--yes")
    assert removed["revoked"] == [live]
    assert decide("git status")["verdict"] == "allow"  # policy alone again
    assert cli_json(home, "agents", "list")["agents"] == []
    daemon.stop()
    assert cli_json(home, "caps", "list")["tokens"] == []  # offline, from the files
    assert check_capabilities(home).ok
