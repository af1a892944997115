"""The real Codex CLI (``codex exec``) governed by Stockade, end to end.

Each test installs the hooks with the real ``stockade install codex --user`` into a fresh
``CODEX_HOME``, trusts them the way Codex records trust (``[hooks.state."<key>"]
trusted_hash`` in its ``config.toml``, computed as ``stockade doctor`` does: see
``test_doctor_codex``), runs ``codex exec`` against the fake Responses API on 127.0.0.1
and a real daemon, and checks what really happened: files on disk, what the model was
told, the audit log.
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
from tests.e2e.fake_openai import (
    FakeOpenAIServer,
    LazyTurn,
    Turn,
    custom_call,
    provider_config,
    shell,
)
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
    codex_hooks_list,
    codex_trust,
    decisions,
    event_kinds,
    finish,
    harness_cli,
    payloads,
    resolutions,
)

PATCH_MODEL = "gpt-5.5"  # Codex offers apply_patch only to models whose metadata it knows


# --- running codex -----------------------------------------------------------------------


@dataclass
class CodexRun(HarnessRun):
    """One finished ``codex exec``: its output, what the model was told, and where to look."""

    server: FakeOpenAIServer

    @property
    def events(self) -> list[dict[str, Any]]:
        lines = self.result.stdout.splitlines()
        return [json.loads(line) for line in lines if line.startswith("{")]

    @property
    def session_id(self) -> str:
        """Codex's thread id, which its hooks send as ``session_id``."""
        for event in self.events:
            if event.get("type") == "thread.started":
                return str(event["thread_id"])
        raise AssertionError(f"no thread.started event\n{self.describe()}")

    def executed(self) -> list[str]:
        """The shell commands Codex really ran (``command_execution`` items)."""
        return [
            event["item"]["command"]
            for event in self.events
            if event.get("type") == "item.completed"
            and event["item"].get("type") == "command_execution"
        ]

    def output_of(self, call_id: str) -> str:
        """What the model received for call ``call_id``."""
        outputs = self.server.call_outputs()
        assert call_id in outputs, f"no output for {call_id}\n{self.describe()}"
        return outputs[call_id]

    def told_model(self) -> dict[str, str]:
        return self.server.call_outputs()


class Codex:
    """``codex exec`` in a workspace, its hooks installed and trusted, talking to ``server``."""

    def __init__(self, workspace: Workspace, server: FakeOpenAIServer) -> None:
        self.workspace = workspace
        self.server = server
        self.home = workspace.home_dir / ".codex"
        self.home.mkdir(mode=0o700, exist_ok=True)
        workspace.env["CODEX_HOME"] = str(self.home)
        workspace.env["FAKE_API_KEY"] = "sk-fake"  # the fake provider's env_key
        self.config = provider_config(server.base_url)
        self.write_config()

    @property
    def hooks_file(self) -> Path:
        return self.home / "hooks.json"

    def install(self) -> None:
        """The real ``stockade install codex --user``, which also records Codex's trust."""
        assert self.workspace.install_hooks("codex") == self.hooks_file

    def write_config(self, extra: str = "") -> None:
        (self.home / "config.toml").write_text(self.config + "\n" + extra)

    def command(self, prompt: str, model: str | None) -> list[str]:
        args = [str(harness_cli("codex")), "exec", "--json", "--skip-git-repo-check"]
        args.append("--dangerously-bypass-approvals-and-sandbox")  # Stockade is the guard
        if model:
            args += ["-m", model]
        return [*args, prompt]

    def start(self, *turns: Turn | LazyTurn, model: str | None = None) -> subprocess.Popen[str]:
        """Start ``codex exec`` on the scripted ``turns`` (each model turn in order)."""
        self.server.turns[:] = list(turns)
        return self.workspace.launch(self.command("do the task", model))

    def finish(self, process: subprocess.Popen[str], daemon: DaemonProcess | None) -> CodexRun:
        return CodexRun(finish(process), daemon, self.server)

    def run(
        self, *turns: Turn | LazyTurn, daemon: DaemonProcess | None, model: str | None = None
    ) -> CodexRun:
        return self.finish(self.start(*turns, model=model), daemon)


@pytest.fixture
def codex(workspace: Workspace) -> Iterator[Codex]:
    """Codex with Stockade's hooks installed (``--user``) and trusted; no daemon yet."""
    with FakeOpenAIServer() as server:
        runner = Codex(workspace, server)
        runner.install()
        yield runner


# --- the tests ---------------------------------------------------------------------------


def test_denied_call_does_not_run_and_the_model_gets_the_reason(
    codex: Codex, running_daemon: DaemonProcess
) -> None:
    project = codex.workspace.project
    run = codex.run(shell("echo x > ~/.bashrc; touch made.txt", "call_deny"), daemon=running_daemon)

    assert not (project / "made.txt").exists(), run.describe()
    assert not (codex.workspace.home_dir / ".bashrc").exists(), run.describe()
    assert run.executed() == [], run.describe()
    [decision] = decisions(running_daemon, run.session_id)
    assert_protected_write_denied(decision, codex.workspace.home_dir / ".bashrc")
    told = run.output_of("call_deny")
    assert "blocked by PreToolUse hook" in told, run.describe()
    assert decision["reason"] in told, run.describe()


def test_allowed_call_runs(codex: Codex, running_daemon: DaemonProcess) -> None:
    run = codex.run(shell("echo hello > made.txt", "call_allow"), daemon=running_daemon)

    assert (codex.workspace.project / "made.txt").read_text() == "hello\n", run.describe()
    [decision] = decisions(running_daemon, run.session_id)
    assert (decision["verdict"], decision["tool"]) == ("allow", "Bash")
    assert "Process exited with code 0" in run.output_of("call_allow")


def test_a_prompt_is_blocked_while_the_daemon_is_stopped(codex: Codex) -> None:
    run = codex.run(shell("touch made.txt", "call_nodaemon"), daemon=None)

    assert not (codex.workspace.project / "made.txt").exists(), run.describe()
    assert run.executed() == [], run.describe()
    assert codex.server.requests == [], "the prompt reached the model"


def test_a_call_is_blocked_when_the_daemon_stops_mid_session(
    codex: Codex, running_daemon: DaemonProcess
) -> None:
    def stop_daemon_then_call() -> Turn:
        running_daemon.stop()
        return shell("touch made.txt", "call_nodaemon")

    run = codex.run(stop_daemon_then_call, daemon=running_daemon)

    assert not (codex.workspace.project / "made.txt").exists(), run.describe()
    assert run.executed() == [], run.describe()
    told = run.output_of("call_nodaemon")
    assert "blocked by PreToolUse hook" in told and START_HINT in told, run.describe()


def test_network_call_after_a_credential_read_is_denied_before_it_runs(
    codex: Codex, spawn_daemon: Callable[..., DaemonProcess]
) -> None:
    # The read must really run to taint the session; the default asks for it, so this
    # policy allows exactly that command. The network call keeps the default (ask), which
    # the data-flow rule must turn into a deny.
    codex.workspace.write_policy(
        '[[rules]]\nid = "read-env"\nverdict = "allow"\ncommand = "cat .env"\n'
    )
    daemon = spawn_daemon()
    (codex.workspace.project / ".env").write_text(FAKE_DOTENV)

    run = codex.run(
        shell("cat .env", "call_read"),
        shell("curl -sS https://example.com -o fetched.html", "call_send"),
        daemon=daemon,
    )

    executed = run.executed()
    assert [c for c in executed if "cat .env" in c], run.describe()
    assert not [c for c in executed if "curl" in c], run.describe()
    read, send = decisions(daemon, run.session_id)
    assert (read["verdict"], read["rule_id"]) == ("allow", "rule:read-env")
    assert (send["verdict"], send["rule_id"]) == ("deny", "flow:credential-then-network")
    assert audit_events(daemon, "session.tainted", run.session_id), run.describe()
    assert send["reason"] in run.output_of("call_send"), run.describe()


def test_the_audit_log_holds_each_decision_under_codex_session_id(
    codex: Codex, running_daemon: DaemonProcess
) -> None:
    profile = codex.workspace.home_dir / ".profile"  # absolute: judged as the shell runs it
    run = codex.run(
        shell("echo one > one.txt", "call_one"),
        shell(f"echo x >> {profile}", "call_two"),
        daemon=running_daemon,
    )

    found = decisions(running_daemon, run.session_id)
    assert [(d["tool"], d["input"], d["verdict"]) for d in found] == [
        ("Bash", {"command": "echo one > one.txt"}, "allow"),
        ("Bash", {"command": f"echo x >> {profile}"}, "deny"),
    ], run.describe()
    assert_protected_write_denied(found[1], profile)
    assert_recorded_under(found, "codex", run.session_id, codex.workspace.project)
    assert (codex.workspace.project / "one.txt").read_text() == "one\n", run.describe()
    assert not profile.exists(), run.describe()
    assert_audit_chain_verifies(codex.workspace)


def test_apply_patch_cannot_rewrite_the_agents_own_hooks(
    codex: Codex, running_daemon: DaemonProcess
) -> None:
    own_hooks = codex.workspace.project / ".codex" / "hooks.json"
    inside = codex.workspace.project / "inside.txt"
    patches = (
        "*** Begin Patch\n*** Add File: .codex/hooks.json\n+{}\n*** End Patch\n",
        "*** Begin Patch\n*** Add File: inside.txt\n+y\n*** End Patch\n",
    )
    run = codex.run(
        custom_call("apply_patch", patches[0], "call_hooks"),
        custom_call("apply_patch", patches[1], "call_inside"),
        daemon=running_daemon,
        model=PATCH_MODEL,
    )

    assert not own_hooks.exists(), run.describe()
    assert inside.read_text() == "y\n", run.describe()
    denied, allowed = decisions(running_daemon, run.session_id)
    assert (denied["tool"], denied["verdict"]) == ("apply_patch", "deny")
    assert denied["input"] == {"command": patches[0]}  # Codex sends the patch as "command"
    assert allowed["verdict"] == "allow"
    assert_protected_write_denied(denied, own_hooks)
    assert denied["reason"] in run.output_of("call_hooks"), run.describe()


# --- held approvals (ADR 0004) -----------------------------------------------------------


@pytest.mark.parametrize("answer", ["approve", "deny"])
def test_an_asked_call_is_held_until_the_cli_resolves_it(
    codex: Codex, running_daemon: DaemonProcess, answer: str
) -> None:
    project = codex.workspace.project
    (project / ".env").write_text(FAKE_DOTENV)
    process = codex.start(shell("cp .env seen.txt", "call_held"))
    try:
        approval = answer_held_call(codex.workspace, process, answer, project / "seen.txt")
    finally:
        run = codex.finish(process, running_daemon)

    assert approval is not None, f"no call was held\n{run.describe()}"
    assert (approval["harness"], approval["tool_name"]) == ("codex", "Bash")
    assert approval["session_id"] == run.session_id
    [decision] = decisions(running_daemon, run.session_id)
    assert decision["tool"] == "Bash" and decision["input"] == {"command": "cp .env seen.txt"}
    kinds = event_kinds(running_daemon, run.session_id)
    assert "permission.request" in kinds, kinds
    if answer == "approve":
        assert (project / "seen.txt").read_text() == FAKE_DOTENV, run.describe()
        assert resolutions(running_daemon, run.session_id) == ["approved"], kinds
        assert "permission.executed" in kinds, kinds
    else:
        assert not (project / "seen.txt").exists(), run.describe()
        assert run.executed() == [], run.describe()
        assert resolutions(running_daemon, run.session_id) == ["denied"], kinds
        assert "blocked by PreToolUse hook" in run.output_of("call_held"), run.describe()


# --- hook trust ----------------------------------------------------------------------------


def test_installed_hooks_are_trusted_as_codex_computes_it(codex: Codex) -> None:
    trusted = codex_trust(codex.hooks_file)
    listed = {hook["key"]: hook["trustStatus"] for hook in codex_hooks_list(codex.workspace)}
    assert listed == dict.fromkeys(trusted, "trusted"), listed


def test_codex_skips_an_untrusted_hook_silently(
    codex: Codex, running_daemon: DaemonProcess
) -> None:
    """Why `stockade doctor` must check trust: untrusted, Stockade is simply not asked."""
    codex.write_config()  # the install without the trust entries
    run = codex.run(shell("echo x > ~/.bashrc", "call_untrusted"), daemon=running_daemon)

    assert (codex.workspace.home_dir / ".bashrc").exists(), run.describe()
    assert decisions(running_daemon, run.session_id) == []
    notices = [e["item"].get("message", "") for e in run.events if "item" in e]
    assert not [n for n in notices if "hook" in n.lower()], run.describe()


# --- after the call, and the session (ADR 0004) ----------------------------------------


def test_a_secret_in_tool_output_is_redacted_before_the_model_sees_it(
    codex: Codex, running_daemon: DaemonProcess
) -> None:
    (codex.workspace.project / "notes.txt").write_text(FAKE_DOTENV)
    run = codex.run(shell("cat notes.txt", "call_cat"), daemon=running_daemon)

    told = run.output_of("call_cat")
    assert FAKE_SECRET not in told, run.describe()
    assert "FAKE_TOKEN=[REDACTED:" in told, run.describe()
    assert FAKE_SECRET not in codex.server.transcript(), run.describe()
    [result] = payloads(running_daemon, "tool.result", run.session_id)
    assert (result["tool_use_id"], result["redacted_count"]) == ("call_cat", 1), result
    assert FAKE_SECRET not in json.dumps(audit_events(running_daemon)), "secret in the audit log"


def test_the_session_start_is_audited(codex: Codex, running_daemon: DaemonProcess) -> None:
    run = codex.run(shell("true", "call_true"), daemon=running_daemon)

    [started] = payloads(running_daemon, "session.started", run.session_id)
    assert started["harness"] == "codex", started
    assert started["cwd"] == str(codex.workspace.project), started
