"""The real Claude Code CLI (``claude -p``) governed by Stockade, end to end.

Each test installs the hooks with the real ``stockade install claude-code --user`` into a
fresh HOME, runs ``claude -p`` against the fake Messages API on 127.0.0.1 and a real
daemon, and checks what really happened: files on disk, what the model was told (the
``tool_result`` blocks of the CLI's next request), the audit log.

``claude -p`` runs with ``--dangerously-skip-permissions``: Stockade is the only guard, so
a call that did not run was stopped by Stockade and not by Claude Code's own checks. In
``-p`` mode Claude Code cannot ask a human (it exports ``CLAUDE_CODE_SESSION_ATTENDED=0``
to hooks), so an ``ask`` is held by the daemon until ``stockade approvals`` answers it
(ADR 0004).
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from tests.daemon_support import DaemonProcess
from tests.e2e.fake_anthropic import FakeAnthropicServer, LazyTurn, Turn, client_env, tool_use
from tests.e2e.support import (
    FAKE_DOTENV,
    FAKE_SECRET,
    START_HINT,
    HarnessRun,
    Workspace,
    answer_held_call,
    assert_audit_chain_verifies,
    assert_protected_write_denied,
    assert_recorded_under,
    audit_events,
    decisions,
    event_kinds,
    finish,
    harness_cli,
    list_approvals,
    payloads,
    resolutions,
)

# --- running claude ------------------------------------------------------------------------


@dataclass
class ClaudeRun(HarnessRun):
    """One finished ``claude -p``: its output, what the model was told, and where to look."""

    server: FakeAnthropicServer

    @property
    def session_id(self) -> str:
        """Claude Code's session id, which its hooks send as ``session_id``."""
        return str(self.json_result()["session_id"])

    def told(self, tool_use_id: str) -> str:
        """What the model received for call ``tool_use_id`` (``[error] …`` when blocked)."""
        results = self.server.tool_results()
        assert tool_use_id in results, f"no tool_result for {tool_use_id}\n{self.describe()}"
        return results[tool_use_id]

    def denied_ids(self) -> list[str]:
        """The calls Claude Code reports it did not run (``permission_denials``)."""
        denials = self.json_result().get("permission_denials", [])
        return [str(denial["tool_use_id"]) for denial in denials]

    def told_model(self) -> dict[str, str]:
        return self.server.tool_results()


class Claude:
    """``claude -p`` in a workspace with Stockade's hooks installed, talking to ``server``."""

    def __init__(self, workspace: Workspace, server: FakeAnthropicServer) -> None:
        self.workspace = workspace
        self.server = server
        workspace.env.update(client_env(server.base_url))
        workspace.env["IS_SANDBOX"] = "1"  # else bypass mode refuses to start as root

    def start(self, *turns: Turn | LazyTurn) -> subprocess.Popen[str]:
        """Start ``claude -p`` on the scripted ``turns`` (each model turn in order)."""
        self.server.turns[:] = list(turns)
        command = [str(harness_cli("claude")), "-p", "do the task", "--output-format", "json"]
        command.append("--dangerously-skip-permissions")  # Stockade is the guard
        return self.workspace.launch(command)

    def finish(self, process: subprocess.Popen[str], daemon: DaemonProcess | None) -> ClaudeRun:
        return ClaudeRun(finish(process), daemon, self.server)

    def run(self, *turns: Turn | LazyTurn, daemon: DaemonProcess | None) -> ClaudeRun:
        return self.finish(self.start(*turns), daemon)


@pytest.fixture
def claude(workspace: Workspace) -> Iterator[Claude]:
    """Claude Code with Stockade's hooks installed (``--user``); no daemon yet."""
    with FakeAnthropicServer() as server:
        settings = workspace.install_hooks("claude-code")
        assert settings == workspace.home_dir / ".claude" / "settings.json", settings
        yield Claude(workspace, server)


# --- before the call -------------------------------------------------------------------------


def test_denied_call_does_not_run_and_the_model_gets_the_reason(
    claude: Claude, running_daemon: DaemonProcess
) -> None:
    command = {"command": "echo x > ~/.bashrc; touch made.txt", "description": "d"}
    run = claude.run([tool_use("Bash", command, "toolu_deny")], daemon=running_daemon)

    assert not (claude.workspace.project / "made.txt").exists(), run.describe()
    assert not (claude.workspace.home_dir / ".bashrc").exists(), run.describe()
    assert run.denied_ids() == ["toolu_deny"], run.describe()
    [decision] = decisions(running_daemon, run.session_id)
    assert_protected_write_denied(decision, claude.workspace.home_dir / ".bashrc")
    told = run.told("toolu_deny")
    assert told.startswith("[error] ") and decision["reason"] in told, run.describe()


def test_allowed_call_runs(claude: Claude, running_daemon: DaemonProcess) -> None:
    made = claude.workspace.project / "made.txt"
    run = claude.run(
        [tool_use("Write", {"file_path": str(made), "content": "hello\n"}, "toolu_allow")],
        daemon=running_daemon,
    )

    assert made.read_text() == "hello\n", run.describe()
    [decision] = decisions(running_daemon, run.session_id)
    assert (decision["verdict"], decision["tool"]) == ("allow", "Write")
    assert run.denied_ids() == [], run.describe()
    assert "File created successfully" in run.told("toolu_allow"), run.describe()


def test_a_prompt_is_blocked_while_the_daemon_is_stopped(claude: Claude) -> None:
    made = claude.workspace.project / "made.txt"
    run = claude.run(
        [tool_use("Bash", {"command": "touch made.txt"}, "toolu_nodaemon")], daemon=None
    )

    assert not made.exists(), run.describe()
    assert claude.server.requests == [], "the prompt reached the model"
    assert START_HINT in run.result.stdout + run.result.stderr, run.describe()


def test_a_call_is_blocked_when_the_daemon_stops_mid_session(
    claude: Claude, running_daemon: DaemonProcess
) -> None:
    def stop_daemon_then_call() -> Turn:
        running_daemon.stop()
        return [tool_use("Bash", {"command": "touch made.txt"}, "toolu_nodaemon")]

    run = claude.run(stop_daemon_then_call, daemon=running_daemon)

    assert not (claude.workspace.project / "made.txt").exists(), run.describe()
    assert run.denied_ids() == ["toolu_nodaemon"], run.describe()
    told = run.told("toolu_nodaemon")
    assert told.startswith("[error] ") and START_HINT in told, run.describe()


def test_network_call_after_a_credential_read_is_denied_before_it_runs(
    claude: Claude, spawn_daemon: Callable[..., DaemonProcess]
) -> None:
    # The read must really run to taint the session; the default asks for it, so this
    # policy allows exactly that read. The fetch keeps the default (ask), which the
    # data-flow rule must turn into a deny before WebFetch does anything.
    claude.workspace.write_policy(
        '[[rules]]\nid = "read-env"\nverdict = "allow"\npath = ".env"\naction = "fs.read"\n',
    )
    daemon = spawn_daemon()
    dotenv = claude.workspace.project / ".env"
    dotenv.write_text(FAKE_DOTENV)
    fetch = {"url": "https://example.com/?q=leak", "prompt": "send it"}

    run = claude.run(
        [tool_use("Read", {"file_path": str(dotenv)}, "toolu_read")],
        [tool_use("WebFetch", fetch, "toolu_send")],
        daemon=daemon,
    )

    read, send = decisions(daemon, run.session_id)
    assert (read["verdict"], read["rule_id"]) == ("allow", "rule:read-env")
    assert (send["verdict"], send["rule_id"]) == ("deny", "flow:credential-then-network")
    assert audit_events(daemon, "session.tainted", run.session_id), run.describe()
    assert run.denied_ids() == ["toolu_send"], run.describe()
    assert send["reason"] in run.told("toolu_send"), run.describe()


def test_the_audit_log_holds_each_decision_under_claude_code_session_id(
    claude: Claude, running_daemon: DaemonProcess
) -> None:
    project = claude.workspace.project
    profile = claude.workspace.home_dir / ".profile"  # absolute: judged as the shell runs it
    run = claude.run(
        [tool_use("Bash", {"command": "echo one > one.txt", "description": "d"}, "toolu_1")],
        [tool_use("Bash", {"command": f"echo x >> {profile}"}, "toolu_2")],
        daemon=running_daemon,
    )

    found = decisions(running_daemon, run.session_id)
    assert [(d["tool"], d["input"], d["verdict"]) for d in found] == [
        ("Bash", {"command": "echo one > one.txt", "description": "d"}, "allow"),
        ("Bash", {"command": f"echo x >> {profile}"}, "deny"),
    ], run.describe()
    assert_protected_write_denied(found[1], profile)
    assert_recorded_under(found, "claude-code", run.session_id, project)
    assert (project / "one.txt").read_text() == "one\n"
    assert not profile.exists(), run.describe()
    assert_audit_chain_verifies(claude.workspace)


# --- held approvals (ADR 0004) ---------------------------------------------------------------


@pytest.mark.parametrize("answer", ["approve", "deny"])
def test_an_asked_call_is_held_until_the_cli_resolves_it(
    claude: Claude, running_daemon: DaemonProcess, answer: str
) -> None:
    project = claude.workspace.project
    (project / ".env").write_text(FAKE_DOTENV)
    command = {"command": "cp .env seen.txt", "description": "copy"}
    process = claude.start([tool_use("Bash", command, "toolu_held")])
    try:
        approval = answer_held_call(claude.workspace, process, answer, project / "seen.txt")
    finally:
        run = claude.finish(process, running_daemon)

    assert approval is not None, f"no call was held\n{run.describe()}"
    assert (approval["harness"], approval["tool_name"]) == ("claude-code", "Bash")
    assert approval["session_id"] == run.session_id
    [decision] = decisions(running_daemon, run.session_id)
    assert decision["tool"] == "Bash" and decision["input"] == command
    kinds = event_kinds(running_daemon, run.session_id)
    assert "permission.request" in kinds, kinds
    if answer == "approve":
        assert (project / "seen.txt").read_text() == FAKE_DOTENV, run.describe()
        assert resolutions(running_daemon, run.session_id) == ["approved"], kinds
        assert run.denied_ids() == [], run.describe()
    else:
        assert not (project / "seen.txt").exists(), run.describe()
        assert resolutions(running_daemon, run.session_id) == ["denied"], kinds
        assert run.denied_ids() == ["toolu_held"], run.describe()
        told = run.told("toolu_held")
        assert told.startswith("[error] ") and approval["id"] in told, run.describe()


def test_an_unanswered_held_call_is_denied_when_the_hold_expires(
    claude: Claude, spawn_daemon: Callable[..., DaemonProcess]
) -> None:
    claude.workspace.write_policy("[approvals]\nhold_timeout_s = 1\n")
    daemon = spawn_daemon()
    project = claude.workspace.project
    (project / ".env").write_text(FAKE_DOTENV)

    run = claude.run(
        [tool_use("Bash", {"command": "cp .env seen.txt"}, "toolu_expired")], daemon=daemon
    )

    assert not (project / "seen.txt").exists(), run.describe()
    assert run.denied_ids() == ["toolu_expired"], run.describe()
    kinds = event_kinds(daemon, run.session_id)
    assert "permission.request" in kinds, kinds
    assert resolutions(daemon, run.session_id) == ["expired"], kinds
    assert list_approvals(claude.workspace) == []


# --- after the call, and the session (ADR 0004) ----------------------------------------------


@pytest.mark.parametrize("tool", ["Bash", "Read"])
def test_a_secret_in_tool_output_is_redacted_before_the_model_sees_it(
    claude: Claude, running_daemon: DaemonProcess, tool: str
) -> None:
    notes = claude.workspace.project / "notes.txt"
    notes.write_text(FAKE_DOTENV)
    tool_input = {"command": "cat notes.txt"} if tool == "Bash" else {"file_path": str(notes)}
    run = claude.run([tool_use(tool, tool_input, "toolu_out")], daemon=running_daemon)

    told = run.told("toolu_out")
    assert "FAKE_TOKEN=[REDACTED:" in told, run.describe()
    assert FAKE_SECRET not in claude.server.transcript(), run.describe()
    [result] = payloads(running_daemon, "tool.result", run.session_id)
    assert (result["status"], result["redacted_count"]) == ("succeeded", 1), result
    assert FAKE_SECRET not in json.dumps(audit_events(running_daemon)), "secret in the audit log"


def test_a_failed_call_is_audited_as_failed(claude: Claude, running_daemon: DaemonProcess) -> None:
    run = claude.run([tool_use("Bash", {"command": "exit 3"}, "toolu_fail")], daemon=running_daemon)

    assert run.told("toolu_fail") == "[error] Exit code 3", run.describe()
    [result] = payloads(running_daemon, "tool.result", run.session_id)
    assert result["status"] == "failed", result


def test_the_session_start_and_end_are_audited(
    claude: Claude, running_daemon: DaemonProcess
) -> None:
    run = claude.run([tool_use("Bash", {"command": "true"}, "toolu_true")], daemon=running_daemon)

    [started] = payloads(running_daemon, "session.started", run.session_id)
    assert (started["harness"], started["source"]) == ("claude-code", "startup"), started
    assert started["cwd"] == str(claude.workspace.project), started
    [ended] = payloads(running_daemon, "session.ended", run.session_id)
    assert (ended["harness"], ended["reason"]) == ("claude-code", "other"), ended
    kinds = event_kinds(running_daemon, run.session_id)
    assert kinds.index("session.started") < kinds.index("decision") < kinds.index("session.ended")
