"""What the harness tests share: the workspace, running a CLI, the audit log, approvals.

Each ``test_<harness>.py`` keeps only what is that harness's own (how it is installed,
started and what it tells the model); everything that asks the daemon or the
``stockade`` CLI is here, so the three harnesses are checked the same way.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import pytest
from tests.daemon_support import DaemonProcess

from stockade.client import Client
from stockade.errors import StockadeError
from stockade.home import Home
from stockade.install.checks import our_entries, read_settings
from stockade.install.harness_trust import codex_hook_hash, codex_hook_key

NODE_BIN = Path(__file__).parent / "node" / "node_modules" / ".bin"
VENV_BIN = Path(sys.executable).parent

CLI_TIMEOUT_S = 60.0
APPROVAL_WAIT_S = 20.0
FAKE_SECRET = "not-a-real-secret"  # a stand-in credential: nothing real here
FAKE_DOTENV = f"FAKE_TOKEN={FAKE_SECRET}\n"
START_HINT = "stockade serve"  # what a hook tells the model when no daemon answers


def harness_cli(name: str) -> Path:
    """The pinned CLI ``name`` (``claude``, ``codex``, ``gemini``); fails with the fix."""
    path = NODE_BIN / name
    if not path.exists():
        pytest.fail(f"{path} is missing: run `make e2e-deps` (npm ci in tests/e2e/node)")
    return path


@dataclass
class Workspace:
    """A fresh HOME, a project directory in it, and the clean environment a CLI runs with."""

    home_dir: Path
    project: Path
    stockade_home: Home
    env: dict[str, str]

    def stockade(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        """Run the real ``stockade`` console script with this workspace's environment."""
        return subprocess.run(
            [str(VENV_BIN / "stockade"), *args],
            env=self.env,
            cwd=self.project,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def install_hooks(self, harness: str) -> Path:
        """The real ``stockade install <harness> --user``; the settings file it wrote."""
        done = self.stockade("install", harness, "--user", "--json")
        assert done.returncode == 0, done.stdout + done.stderr
        written = Path(json.loads(done.stdout)["path"])
        assert written.is_file(), f"install did not write {written}"
        return written

    def launch(
        self,
        command: list[str],
        extra_env: Mapping[str, str] | None = None,
        *,
        stdin: int = subprocess.DEVNULL,
    ) -> subprocess.Popen[str]:
        """Start ``command`` in the project with this environment (plus ``extra_env``)."""
        return subprocess.Popen(
            command,
            env={**self.env, **(extra_env or {})},
            cwd=self.project,
            stdin=stdin,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def write_policy(self, toml: str) -> None:
        """A specific ``stockade.toml`` for one test, read by the daemon it then spawns."""
        config = self.stockade_home.config_path
        config.write_text(toml)
        config.chmod(0o600)


def finish(process: subprocess.Popen[str]) -> subprocess.CompletedProcess[str]:
    """Wait for a launched CLI (killed after :data:`CLI_TIMEOUT_S`) and collect its output."""
    try:
        stdout, stderr = process.communicate(timeout=CLI_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        stdout, stderr = process.communicate()
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


@dataclass
class HarnessRun:
    """One finished harness CLI run, and the daemon it asked (``None``: none was started)."""

    result: subprocess.CompletedProcess[str]
    daemon: DaemonProcess | None

    def told_model(self) -> object:
        """What the CLI sent the model back for its tool calls (for :meth:`describe`)."""
        raise NotImplementedError

    def json_result(self) -> dict[str, Any]:
        """The result object of a CLI run with ``--output-format json``."""
        try:
            return cast(dict[str, Any], json.loads(self.result.stdout))
        except ValueError:
            raise AssertionError(f"no JSON result\n{self.describe()}") from None

    def describe(self) -> str:
        """Everything needed to see why a test failed: the CLI, the model's side, the daemon's."""
        result, daemon = self.result, self.daemon
        return (
            f"{Path(str(result.args[0])).name} exit {result.returncode}\n"
            f"--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}\n"
            f"--- what the model was told\n{self.told_model()}\n"
            f"--- daemon log\n{daemon.log() if daemon else '(no daemon)'}\n"
            f"--- audit events\n{_audit_summary(daemon)}"
        )


def _audit_summary(daemon: DaemonProcess | None) -> str:
    if daemon is None or daemon.proc is None or daemon.proc.poll() is not None:
        return "(daemon not running)"
    try:
        events = audit_events(daemon)
    except StockadeError as exc:  # a failing daemon: its log above says why
        return f"(audit unavailable: {exc})"
    return "\n".join(json.dumps([e["seq"], e["kind"], e["payload"]]) for e in events)


# --- the audit log -----------------------------------------------------------------------


def audit_events(
    process: DaemonProcess, kind: str | None = None, session: str | None = None
) -> list[dict[str, object]]:
    """Every audit event (optionally of one kind / session), oldest first."""
    events: list[dict[str, object]] = []
    after = 0
    with Client(process.home.socket_path, timeout=5.0) as client:
        while True:
            query: dict[str, str | int] = {"after": after, "limit": 1000}
            if kind:
                query["kind"] = kind
            if session:
                query["session"] = session
            page = client.request("GET", "/audit/events", query=query)
            events.extend(page["events"])
            if len(page["events"]) < 1000:
                return events
            after = page["next_after"]


def event_kinds(daemon: DaemonProcess, session: str) -> list[str]:
    """The kinds of one session's audit events, oldest first."""
    return [str(event["kind"]) for event in audit_events(daemon, session=session)]


def payloads(daemon: DaemonProcess, kind: str, session: str) -> list[dict[str, Any]]:
    """The payloads of one session's audit events of ``kind``, oldest first."""
    return [cast(dict[str, Any], e["payload"]) for e in audit_events(daemon, kind, session)]


def resolutions(daemon: DaemonProcess, session: str) -> list[str]:
    """How each held call of the session was resolved (approved, denied, always, expired)."""
    return [str(p["resolution"]) for p in payloads(daemon, "permission.resolved", session)]


def decisions(daemon: DaemonProcess, session: str) -> list[dict[str, Any]]:
    """The session's decisions, oldest first."""
    return payloads(daemon, "decision", session)


def assert_protected_write_denied(decision: Mapping[str, Any], path: Path) -> None:
    """The daemon denied writing ``path`` (a file that runs or configures code) as protected.

    The reason names the resolved path: for ``~/x`` that is under the agent's HOME,
    which the e2e daemon shares.
    """
    assert (decision["verdict"], decision["rule_id"]) == ("deny", "guard:protected-config"), (
        decision
    )
    assert str(decision["reason"]).endswith(f": {path}"), decision


def assert_recorded_under(
    found: list[dict[str, Any]], harness: str, session: str, cwd: Path
) -> None:
    """Every decision names the harness, the harness's own session id and the agent's cwd."""
    assert found, "no decisions"
    assert {(d["harness"], d["session"], d["cwd"]) for d in found} == {
        (harness, session, str(cwd))
    }, found


def assert_audit_chain_verifies(workspace: Workspace) -> None:
    """``stockade audit verify`` finds the hash chain intact."""
    verified = workspace.stockade("audit", "verify", "--json")
    assert verified.returncode == 0 and json.loads(verified.stdout)["ok"], verified.stdout


# --- held approvals (ADR 0004) -----------------------------------------------------------


def pending_approval(workspace: Workspace, process: subprocess.Popen[str]) -> dict[str, Any] | None:
    """The one approval ``stockade approvals list`` shows pending while ``process`` runs.

    ``None`` when the CLI ended or :data:`APPROVAL_WAIT_S` passed without one: the caller
    then finishes the run and fails with its output, which says why.
    """
    deadline = time.monotonic() + APPROVAL_WAIT_S
    while time.monotonic() < deadline and process.poll() is None:
        pending = [a for a in list_approvals(workspace) if a["status"] == "pending"]
        if pending:
            assert len(pending) == 1, pending
            return pending[0]
        time.sleep(0.2)
    return None


def answer_held_call(
    workspace: Workspace, process: subprocess.Popen[str], answer: str, unmade: Path | None
) -> dict[str, Any] | None:
    """Wait for the call ``process`` holds, check it has not run yet, then ``answer`` it.

    ``unmade`` is a file the held call would create. Returns the approval as it was
    pending, or ``None`` when none appeared (see :func:`pending_approval`).
    """
    approval = pending_approval(workspace, process)
    if approval is not None:
        assert unmade is None or not unmade.exists(), "the held call ran before the answer"
        answer_approval(workspace, answer, approval)
    return approval


def list_approvals(workspace: Workspace) -> list[dict[str, Any]]:
    """``stockade approvals list --json``: every approval the daemon still holds."""
    listed = workspace.stockade("approvals", "list", "--json")
    assert listed.returncode == 0, listed.stdout + listed.stderr
    return cast(list[dict[str, Any]], json.loads(listed.stdout)["approvals"])


def answer_approval(workspace: Workspace, answer: str, approval: Mapping[str, Any]) -> None:
    """``stockade approvals approve|deny <id>``, as the human at the terminal would."""
    done = workspace.stockade("approvals", answer, str(approval["id"]))
    assert done.returncode == 0, done.stdout + done.stderr


# --- Codex hook trust ----------------------------------------------------------------------


def codex_trust(hooks_path: Path) -> dict[str, str]:
    """The trust key and ``trusted_hash`` of every handler of ours in ``hooks_path``.

    Computed as ``stockade doctor`` computes them; ``test_doctor_codex`` checks them
    against what the real Codex reports.
    """
    ours = our_entries(read_settings(hooks_path, "codex").document or {}, "codex")
    return {codex_hook_key(hooks_path, placed): codex_hook_hash(placed) for placed in ours}


def codex_trust_tables(trust: Mapping[str, str]) -> str:
    """``config.toml`` tables trusting each handler, as Codex's TUI writes them."""
    return "".join(
        f"[hooks.state.{json.dumps(key)}]\ntrusted_hash = {json.dumps(digest)}\n"
        for key, digest in trust.items()
    )


def codex_hooks_list(workspace: Workspace) -> list[dict[str, Any]]:
    """``hooks/list`` from ``codex app-server`` (JSON-RPC over stdio): Codex's own view."""
    requests: list[dict[str, Any]] = [
        {"id": 0, "method": "initialize",
         "params": {"clientInfo": {"name": "stockade-e2e", "version": "0"}}},
        {"method": "initialized"},
        {"id": 1, "method": "hooks/list", "params": {"cwds": [str(workspace.project)]}},
    ]  # fmt: skip
    process = workspace.launch([str(harness_cli("codex")), "app-server"], stdin=subprocess.PIPE)
    assert process.stdin is not None and process.stdout is not None
    # It answers only while stdin stays open, so read line by line; the watchdog ends a hang.
    watchdog = threading.Timer(CLI_TIMEOUT_S, process.kill)
    watchdog.start()
    try:
        process.stdin.write("".join(json.dumps({"jsonrpc": "2.0", **r}) + "\n" for r in requests))
        process.stdin.flush()
        for line in process.stdout:
            message = json.loads(line)
            if message.get("id") == 1:
                data = message["result"]["data"][0]
                assert (data["errors"], data["warnings"]) == ([], []), data
                return cast(list[dict[str, Any]], data["hooks"])
    finally:
        watchdog.cancel()
        process.kill()
        _, errors = process.communicate()
    raise AssertionError(f"codex app-server closed without answering hooks/list\n{errors}")
