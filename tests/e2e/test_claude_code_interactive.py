"""The real interactive Claude Code (its TUI) asking the *user* when Stockade answers ``ask``.

In an interactive session Claude Code exports ``CLAUDE_CODE_SESSION_ATTENDED=1`` to hooks,
so the shim passes an ``ask`` through instead of holding it in the daemon, and Claude Code
puts the question in its own "Do you want to proceed?" prompt (ADR 0004). These tests
drive that TUI as a user would: in a detached tmux window of a fixed size on a tmux server
of their own, reading the screen with ``capture-pane`` and answering with keystrokes.

Claude Code starts in its interactive default permission mode (``auto`` in 2.1.330), as a
user gets it; a hook ``ask`` goes to the user in that mode, not to its classifier.
``~/.claude.json`` is seeded so that no first-run dialog (onboarding, the API key, trusting
the project) stands between the start and the prompt.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from tests.daemon_support import DaemonProcess
from tests.e2e.fake_anthropic import FakeAnthropicServer, client_env, tool_use
from tests.e2e.support import (
    Workspace,
    audit_events,
    decisions,
    harness_cli,
    list_approvals,
    payloads,
)

pytestmark = pytest.mark.timeout(60)

SCREEN_WAIT_S = 20.0  # generous for a loaded 2-core CI machine; a run takes a few seconds
POLL_S = 0.1
COLUMNS, ROWS = 160, 50  # wide enough that no line we look for wraps
TERM = "xterm-256color"  # what a user's terminal says; the workspace's "dumb" is not a TUI's

READY = "shift+tab to cycle"  # the footer under the input box once it takes keystrokes
QUESTION = "Do you want to proceed?"
INTERRUPTED = "Interrupted"  # what the TUI shows after the user refused a call
FINAL_TEXT = "The task is finished."  # the model's last message, once it read the result

ASKED_COMMAND = "touch asked.txt"
ASK_REASON = "touching asked.txt needs a human look"
ASK_POLICY = f"""
[[rules]]
id = "ask-touch"
verdict = "ask"
command = "{ASKED_COMMAND}"
reason = "{ASK_REASON}"
"""


# --- a terminal the test types into ----------------------------------------------------------


class Terminal:
    """One program in a detached tmux window, on a tmux server of its own (``-L``).

    ``-f /dev/null`` keeps any tmux configuration of the machine out. :meth:`close` kills
    the server and makes sure the program is gone too.
    """

    SESSION = "e2e"

    def __init__(self, env: Mapping[str, str]) -> None:
        tmux = shutil.which("tmux")
        if tmux is None:
            pytest.fail("tmux is not installed (Debian: apt-get install tmux)")
        self._tmux = [tmux, "-L", f"stockade-e2e-{uuid.uuid4().hex}", "-f", "/dev/null"]
        self._env = dict(env)
        self._pid: int | None = None
        self._socket: Path | None = None

    def start(self, command: list[str], cwd: Path, env: Mapping[str, str]) -> None:
        """Run ``command`` in ``cwd`` with exactly ``env`` (``env -i``: nothing of tmux's)."""
        assignments = [f"{name}={value}" for name, value in env.items()]
        size = ["-x", str(COLUMNS), "-y", str(ROWS)]
        self._tmux_run("new-session", "-d", "-s", self.SESSION, *size, "-c", str(cwd),
                       "env", "-i", *assignments, *command)  # fmt: skip
        shown = self._tmux_run("display-message", "-p", "-t", self.SESSION,
                               "#{pane_pid} #{socket_path}")  # fmt: skip
        pid, socket_path = shown.stdout.strip().split(" ", 1)
        self._pid, self._socket = int(pid), Path(socket_path)

    def screen(self) -> str:
        """The visible screen, wrapped lines joined (empty once the program has ended).

        Non-breaking spaces (Claude Code puts one after its ``❯``) read as spaces.
        """
        shown = self._tmux_run("capture-pane", "-p", "-J", "-t", self.SESSION, check=False)
        return shown.stdout.replace("\xa0", " ") if shown.returncode == 0 else ""

    def wait_for(self, text: str) -> str:
        """The screen once it shows ``text``; fails with the screen after :data:`SCREEN_WAIT_S`."""
        deadline = time.monotonic() + SCREEN_WAIT_S
        while True:
            screen = self.screen()
            if text in screen:
                return screen
            if time.monotonic() > deadline or not self.running():
                raise AssertionError(f"the screen never showed {text!r}:\n{screen}")
            time.sleep(POLL_S)

    def submit(self, line: str) -> None:
        """Type ``line`` into the input box, wait until it is shown there, then press Enter.

        Enter sent in the same burst as the text could be taken as part of a paste.
        """
        self._tmux_run("send-keys", "-t", self.SESSION, "-l", line)
        self.wait_for(f"❯ {line}")
        self.press("Enter")

    def press(self, *keys: str) -> None:
        """Send ``keys`` (tmux key names, or plain characters) as the user would."""
        self._tmux_run("send-keys", "-t", self.SESSION, *keys)

    def running(self) -> bool:
        return self._tmux_run("has-session", "-t", self.SESSION, check=False).returncode == 0

    def wait_closed(self) -> None:
        """Wait until the program has ended (its window, and so the server, is gone)."""
        deadline = time.monotonic() + SCREEN_WAIT_S
        while self.running():
            if time.monotonic() > deadline:
                raise AssertionError(f"the program did not end:\n{self.screen()}")
            time.sleep(POLL_S)

    def close(self) -> None:
        """Kill the tmux server, then the program if hanging up on it did not end it.

        tmux leaves its socket file behind; it is removed too.
        """
        self._tmux_run("kill-server", check=False)
        if self._socket is not None:
            self._socket.unlink(missing_ok=True)
        if self._pid is None:
            return
        deadline = time.monotonic() + 5.0
        while _alive(self._pid):
            if time.monotonic() > deadline:
                os.kill(self._pid, signal.SIGKILL)
                return
            time.sleep(POLL_S)

    def _tmux_run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [*self._tmux, *args], env=self._env, capture_output=True, text=True, timeout=10
        )
        if check and done.returncode != 0:
            raise AssertionError(f"tmux {args[0]} failed: {done.stderr}")
        return done


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


# --- Claude Code in the terminal -------------------------------------------------------------


@dataclass
class InteractiveClaude:
    """The Claude Code TUI in ``terminal``, its hooks installed, talking to ``server``."""

    workspace: Workspace
    server: FakeAnthropicServer
    terminal: Terminal

    def start(self) -> None:
        """Start the TUI and wait until its input box takes keystrokes."""
        env = {**self.workspace.env, **client_env(self.server.base_url), "TERM": TERM}
        self._skip_first_run_dialogs(env["ANTHROPIC_API_KEY"])
        command = [str(harness_cli("claude"))]
        self.terminal.start(command, self.workspace.project, env)
        self.terminal.wait_for(READY)

    def exit(self) -> None:
        """``/exit``, as a user ends a session; returns once the CLI and its hooks are done."""
        self.terminal.submit("/exit")
        self.terminal.wait_closed()

    def _skip_first_run_dialogs(self, api_key: str) -> None:
        """What Claude Code stores once a user got through onboarding, key and trust dialogs."""
        state = {
            "hasCompletedOnboarding": True,
            "customApiKeyResponses": {"approved": [api_key[-20:]], "rejected": []},
            "projects": {str(self.workspace.project): {"hasTrustDialogAccepted": True}},
        }
        (self.workspace.home_dir / ".claude.json").write_text(json.dumps(state))

    def describe(self, daemon: DaemonProcess) -> str:
        """The screen, what the model was told and the audit log: why a test failed."""
        events = "\n".join(
            json.dumps([event["kind"], event["payload"]]) for event in audit_events(daemon)
        )
        return (
            f"--- screen\n{self.terminal.screen()}\n"
            f"--- what the model was told\n{self.server.tool_results()}\n"
            f"--- daemon log\n{daemon.log()}\n--- audit events\n{events}"
        )


@pytest.fixture
def interactive_claude(workspace: Workspace) -> Iterator[InteractiveClaude]:
    """The TUI ready to start, with hooks installed (``--user``) and the ``ask`` policy.

    The model's one turn runs :data:`ASKED_COMMAND`, which the policy answers ``ask``.
    The daemon is the test's: it must be spawned after the policy is written.
    """
    workspace.install_hooks("claude-code")
    workspace.write_policy(ASK_POLICY)
    turn = [tool_use("Bash", {"command": ASKED_COMMAND, "description": "touch"}, "toolu_ask")]
    terminal = Terminal({**workspace.env, "TERM": TERM})
    try:
        with FakeAnthropicServer([turn], final_text=FINAL_TEXT) as server:
            yield InteractiveClaude(workspace, server, terminal)
    finally:
        terminal.close()


def ask_the_user(
    claude: InteractiveClaude, spawn_daemon: Callable[..., DaemonProcess]
) -> tuple[DaemonProcess, dict[str, Any]]:
    """Start the session, prompt the model, and wait for Claude Code's own question.

    Checks that the question shows Stockade's reason and that the daemon holds nothing.
    Returns the daemon and the ``ask`` decision it recorded.
    """
    daemon = spawn_daemon()
    claude.start()
    claude.terminal.submit("do the task")
    screen = claude.terminal.wait_for(QUESTION)

    assert "1. Yes" in screen and "2. No" in screen, screen
    assert f"Stockade: {ASK_REASON}" in screen, screen
    assert ASKED_COMMAND in screen, screen
    assert list_approvals(claude.workspace) == [], "the daemon held a call a user can answer"
    [started] = audit_events(daemon, "session.started")  # the daemon's only session
    [decision] = decisions(daemon, str(started["session"]))
    assert (decision["verdict"], decision["rule_id"]) == ("ask", "rule:ask-touch"), decision
    assert decision["input"]["command"] == ASKED_COMMAND, decision
    assert not (claude.workspace.project / "asked.txt").exists(), "it ran before the answer"
    return daemon, decision


# --- the tests -------------------------------------------------------------------------------


def test_the_user_says_yes_in_claude_code_and_the_asked_call_runs(
    interactive_claude: InteractiveClaude, spawn_daemon: Callable[..., DaemonProcess]
) -> None:
    claude = interactive_claude
    daemon, decision = ask_the_user(claude, spawn_daemon)

    claude.terminal.press("1")
    claude.terminal.wait_for(FINAL_TEXT)
    claude.exit()

    assert (claude.workspace.project / "asked.txt").exists(), claude.describe(daemon)
    session = str(decision["session"])
    [result] = payloads(daemon, "tool.result", session)
    assert (result["tool"], result["tool_use_id"], result["status"]) == (
        "Bash", "toolu_ask", "succeeded",
    ), result  # fmt: skip
    kinds = [str(event["kind"]) for event in audit_events(daemon, session=session)]
    assert kinds.index("decision") < kinds.index("tool.result"), kinds
    assert not [kind for kind in kinds if kind.startswith("approval.")], kinds
    [ended] = payloads(daemon, "session.ended", session)
    assert ended["reason"] == "prompt_input_exit", ended


@pytest.mark.parametrize("refusal", ["2", "Escape"])
def test_the_user_says_no_in_claude_code_and_the_asked_call_does_not_run(
    interactive_claude: InteractiveClaude,
    spawn_daemon: Callable[..., DaemonProcess],
    refusal: str,
) -> None:
    claude = interactive_claude
    daemon, decision = ask_the_user(claude, spawn_daemon)

    claude.terminal.press(refusal)
    claude.terminal.wait_for(INTERRUPTED)
    claude.exit()  # every hook of the session has run: nothing can still record a result

    assert not (claude.workspace.project / "asked.txt").exists(), claude.describe(daemon)
    assert claude.server.tool_results() == {}, claude.describe(daemon)
    session = str(decision["session"])
    results = payloads(daemon, "tool.result", session)
    assert not [r for r in results if r["status"] == "succeeded"], claude.describe(daemon)
    assert list_approvals(claude.workspace) == []
