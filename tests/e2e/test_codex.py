"""The real Codex CLI (``codex exec``) governed by Stockade, end to end.

Each test installs the hooks with the real ``stockade install codex --user`` into a fresh
``CODEX_HOME``, trusts them the way Codex records trust (see :func:`trust_hooks`), runs
``codex exec`` against the fake Responses API on 127.0.0.1 and a real daemon, and checks
what really happened: files on disk, what the model was told, the audit log.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import pytest
from tests.daemon_support import DaemonProcess
from tests.e2e.conftest import Workspace, audit_events, harness_cli
from tests.e2e.fake_openai import (
    FakeOpenAIServer,
    LazyTurn,
    Turn,
    custom_call,
    provider_config,
    shell,
)

CODEX_TIMEOUT_S = 60.0
APPROVAL_WAIT_S = 20.0
FAKE_DOTENV = "FAKE_TOKEN=not-a-real-secret\n"  # a stand-in credential: nothing real here
PATCH_MODEL = "gpt-5.5"  # Codex offers apply_patch only to models whose metadata it knows


# --- hook trust ------------------------------------------------------------------------


def _event_label(event: str) -> str:
    """``PreToolUse`` -> ``pre_tool_use``: the label Codex keys and hashes trust with."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", event).lower()


def hook_trust_hash(event: str, matcher: str | None, handler: dict[str, Any]) -> str:
    """The ``trusted_hash`` Codex 0.169 records when a user trusts one hook handler.

    SHA-256 of the compact, key-sorted JSON of the handler's normalized identity; checked
    against the ``currentHash`` that ``codex app-server`` reports (see
    :func:`test_installed_hooks_are_trusted_as_codex_computes_it`).
    """
    label = _event_label(event)
    timeout = max(1, int(handler.get("timeout", 600)))
    if label == "session_end":
        timeout = min(3, timeout)
    normalized: dict[str, Any] = {
        "type": "command",
        "command": handler["command"],
        "timeout": timeout,
        "async": bool(handler.get("async", False)),
    }
    if handler.get("statusMessage"):
        normalized["statusMessage"] = handler["statusMessage"]
    identity: dict[str, Any] = {"event_name": label, "hooks": [normalized]}
    if matcher is not None:
        identity["matcher"] = matcher
    canonical = json.dumps(identity, sort_keys=True, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


def trust_hooks(hooks_file: Path) -> str:
    """``config.toml`` tables that trust every handler in ``hooks_file``, as Codex's TUI would.

    Codex skips untrusted hooks silently; trust is ``[hooks.state."<file>:<event>:<group>:
    <handler>"] trusted_hash = …`` in ``$CODEX_HOME/config.toml``.
    """
    tables = []
    for event, groups in json.loads(hooks_file.read_text())["hooks"].items():
        for group_index, group in enumerate(groups):
            for handler_index, handler in enumerate(group["hooks"]):
                key = f"{hooks_file}:{_event_label(event)}:{group_index}:{handler_index}"
                digest = hook_trust_hash(event, group.get("matcher"), handler)
                tables.append(f'[hooks.state.{json.dumps(key)}]\ntrusted_hash = "{digest}"\n')
    return "\n".join(tables)


# --- running codex -----------------------------------------------------------------------


@dataclass
class CodexRun:
    """One finished ``codex exec``: its output, what the model was told, and where to look."""

    result: subprocess.CompletedProcess[str]
    server: FakeOpenAIServer
    daemon: DaemonProcess | None

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

    def describe(self) -> str:
        """Everything needed to see why a test failed: CLI output, model I/O, daemon side."""
        daemon_side = "(no daemon)"
        if self.daemon:
            try:
                audited = json.dumps(audit_events(self.daemon), indent=1)
            except Exception as exc:  # the daemon may be stopped: the log still helps
                audited = f"(audit unavailable: {exc})"
            daemon_side = f"{self.daemon.log()}--- audit\n{audited}"
        return (
            f"codex exit {self.result.returncode}\n--- stdout\n{self.result.stdout}"
            f"--- stderr\n{self.result.stderr}--- model outputs\n{self.server.call_outputs()}\n"
            f"--- daemon log\n{daemon_side}"
        )


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
        """The real ``stockade install codex --user``, then trust what it wrote."""
        done = self.workspace.stockade("install", "codex", "--user")
        assert done.returncode == 0, done.stdout + done.stderr
        assert self.hooks_file.exists(), f"install did not write {self.hooks_file}"
        self.write_config(trust_hooks(self.hooks_file))

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
        return subprocess.Popen(
            self.command("do the task", model),
            env=self.workspace.env,
            cwd=self.workspace.project,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def finish(self, process: subprocess.Popen[str], daemon: DaemonProcess | None) -> CodexRun:
        try:
            stdout, stderr = process.communicate(timeout=CODEX_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            stdout, stderr = process.communicate()
        result = subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)
        return CodexRun(result, self.server, daemon)

    def run(
        self, *turns: Turn | LazyTurn, daemon: DaemonProcess | None, model: str | None = None
    ) -> CodexRun:
        return self.finish(self.start(*turns, model=model), daemon)


@pytest.fixture
def codex(workspace: Workspace) -> Iterator[Codex]:
    """Codex with Stockade's hooks installed (``--user``) and trusted; no daemon yet."""
    server = FakeOpenAIServer()
    with server:
        runner = Codex(workspace, server)
        runner.install()
        yield runner


def write_policy(workspace: Workspace, toml: str) -> None:
    """A specific policy for one test, read by the daemon it then spawns."""
    workspace.stockade_home.config_path.write_text(toml)
    workspace.stockade_home.config_path.chmod(0o600)


def decisions(daemon: DaemonProcess, session: str) -> list[dict[str, Any]]:
    return [cast(dict[str, Any], e["payload"]) for e in audit_events(daemon, "decision", session)]


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
    assert decision["verdict"] == "deny"
    assert decision["rule_id"] == "guard:protected-config"
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
    assert "blocked by PreToolUse hook" in told and "stockade serve" in told, run.describe()


def test_network_call_after_a_credential_read_is_denied_before_it_runs(
    codex: Codex, spawn_daemon: Callable[..., DaemonProcess]
) -> None:
    # The read must really run to taint the session; the default asks for it, so this
    # policy allows exactly that command. The network call keeps the default (ask), which
    # the data-flow rule must turn into a deny.
    write_policy(
        codex.workspace, '[[rules]]\nid = "read-env"\nverdict = "allow"\ncommand = "cat .env"\n'
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
    run = codex.run(
        shell("echo one > one.txt", "call_one"),
        shell("echo x >> ~/.profile", "call_two"),
        daemon=running_daemon,
    )

    found = decisions(running_daemon, run.session_id)
    assert [(d["tool"], d["input"], d["verdict"]) for d in found] == [
        ("Bash", {"command": "echo one > one.txt"}, "allow"),
        ("Bash", {"command": "echo x >> ~/.profile"}, "deny"),
    ], run.describe()
    assert {d["harness"] for d in found} == {"codex"}
    assert {d["session"] for d in found} == {run.session_id}
    assert {d["cwd"] for d in found} == {str(codex.workspace.project)}
    verified = codex.workspace.stockade("audit", "verify", "--json")
    assert verified.returncode == 0 and json.loads(verified.stdout)["ok"], verified.stdout


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
    assert denied["rule_id"] == "guard:protected-config"
    assert denied["reason"] in run.output_of("call_hooks"), run.describe()


# --- held approvals (ADR 0004) -----------------------------------------------------------


def _pending_approval(codex: Codex, process: subprocess.Popen[str]) -> dict[str, Any] | None:
    """The one pending approval `stockade approvals list` shows; ``None`` if codex ended first."""
    deadline = time.monotonic() + APPROVAL_WAIT_S
    while time.monotonic() < deadline and process.poll() is None:
        listed = codex.workspace.stockade("approvals", "list", "--json")
        assert listed.returncode == 0, listed.stdout + listed.stderr
        pending = [a for a in json.loads(listed.stdout)["approvals"] if a["status"] == "pending"]
        if pending:
            assert len(pending) == 1, pending
            return dict(pending[0])
        time.sleep(0.2)
    return None


@pytest.mark.parametrize("answer", ["approve", "deny"])
def test_an_asked_call_is_held_until_the_cli_resolves_it(
    codex: Codex, running_daemon: DaemonProcess, answer: str
) -> None:
    project = codex.workspace.project
    (project / ".env").write_text(FAKE_DOTENV)
    process = codex.start(shell("cp .env seen.txt", "call_held"))
    try:
        approval = _pending_approval(codex, process)
        if approval is not None:
            assert not (project / "seen.txt").exists(), "the held call ran before the answer"
            resolved = codex.workspace.stockade("approvals", answer, str(approval["id"]))
            assert resolved.returncode == 0, resolved.stdout + resolved.stderr
    finally:
        run = codex.finish(process, running_daemon)

    assert approval is not None, f"no call was held\n{run.describe()}"

    [decision] = decisions(running_daemon, run.session_id)
    assert decision["tool"] == "Bash" and decision["input"] == {"command": "cp .env seen.txt"}
    kinds = [e["kind"] for e in audit_events(running_daemon, session=run.session_id)]
    assert "approval.requested" in kinds, kinds
    if answer == "approve":
        assert (project / "seen.txt").read_text() == FAKE_DOTENV, run.describe()
        assert "approval.approved" in kinds and "approval.executed" in kinds, kinds
    else:
        assert not (project / "seen.txt").exists(), run.describe()
        assert run.executed() == [], run.describe()
        assert "approval.denied" in kinds, kinds
        assert "blocked by PreToolUse hook" in run.output_of("call_held"), run.describe()


# --- hook trust ----------------------------------------------------------------------------


def _codex_hooks_list(codex: Codex) -> list[dict[str, Any]]:
    """``hooks/list`` from ``codex app-server`` (JSON-RPC over stdio): Codex's own view."""
    requests: list[dict[str, Any]] = [
        {
            "id": 0,
            "method": "initialize",
            "params": {"clientInfo": {"name": "e2e", "version": "0"}},
        },
        {"method": "initialized"},
        {"id": 1, "method": "hooks/list", "params": {"cwds": [str(codex.workspace.project)]}},
    ]
    process = subprocess.Popen(
        [str(harness_cli("codex")), "app-server"],
        env=codex.workspace.env,
        cwd=codex.workspace.project,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdin is not None and process.stdout is not None
    # It answers only while stdin stays open, so read line by line; the watchdog ends a hang.
    watchdog = threading.Timer(CODEX_TIMEOUT_S, process.kill)
    watchdog.start()
    try:
        for request in requests:
            process.stdin.write(json.dumps({"jsonrpc": "2.0", **request}) + "\n")
            process.stdin.flush()
        for line in process.stdout:
            message = json.loads(line)
            if message.get("id") == 1:
                return list(message["result"]["data"][0]["hooks"])
        raise AssertionError(
            f"no hooks/list answer: {process.stderr.read() if process.stderr else ''}"
        )
    finally:
        watchdog.cancel()
        process.kill()
        process.communicate()


def test_installed_hooks_are_trusted_as_codex_computes_it(codex: Codex) -> None:
    hooks = _codex_hooks_list(codex)
    ours = [hook for hook in hooks if " hook codex" in hook["command"]]
    installed = json.loads(codex.hooks_file.read_text())["hooks"]
    assert {hook["key"].split(":")[-3] for hook in ours} == {_event_label(e) for e in installed}
    assert all(hook["trustStatus"] == "trusted" for hook in ours), ours


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
    assert "not-a-real-secret" not in told, run.describe()
    assert "FAKE_TOKEN=[REDACTED:" in told, run.describe()
    [result] = audit_events(running_daemon, "tool.result", run.session_id)
    payload = cast(dict[str, Any], result["payload"])
    assert (payload["tool_use_id"], payload["redacted_count"]) == ("call_cat", 1), payload
    assert "not-a-real-secret" not in json.dumps(result), result


def test_the_session_start_is_audited(codex: Codex, running_daemon: DaemonProcess) -> None:
    run = codex.run(shell("true", "call_true"), daemon=running_daemon)

    [started] = audit_events(running_daemon, "session.started", run.session_id)
    payload = cast(dict[str, Any], started["payload"])
    assert payload["harness"] == "codex", payload
    assert payload["cwd"] == str(codex.workspace.project), payload
