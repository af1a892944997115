"""The hook shim as the harnesses run it: a subprocess, stdin in, stdout + exit code out.

Against a real daemon for allow/deny, and against every way the daemon can fail (not
running, a stale socket, a server that answers garbage or hangs): each failure must
come back as the harness's blocking answer, never as an allow or as no output.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.daemon_support import DaemonProcess

from stockade.client import Client
from stockade.home import Home

pytestmark = pytest.mark.integration

STOCKADE = str(Path(sys.executable).parent / "stockade")
HEAVY = (
    "typer",
    "rich",
    "pydantic",
    "starlette",
    "uvicorn",
    "stockade.policy",
    "stockade.daemon",
    "http",  # http.client drags in ssl and email: ~40 ms per tool call
    "ssl",
    "email",
)


def run_hook(
    home: Home,
    harness: str,
    stdin: bytes,
    *,
    timeout_s: float = 5.0,
    extra: list[str] | None = None,
) -> subprocess.CompletedProcess[bytes]:
    env = {
        **os.environ,
        "STOCKADE_HOME": str(home.root),
        "STOCKADE_HOOK_TIMEOUT": str(timeout_s),
    }
    env.pop("CLAUDE_PROJECT_DIR", None)
    return subprocess.run(
        [*(extra or []), STOCKADE, "hook", harness],
        input=stdin,
        capture_output=True,
        env=env,
        timeout=60,
        check=False,
    )


def claude_pre_tool(tool: str, tool_input: dict[str, Any], cwd: str = "/tmp/project") -> bytes:
    return json.dumps(
        {
            "session_id": "shim-s1",
            "cwd": cwd,
            "hook_event_name": "PreToolUse",
            "tool_name": tool,
            "tool_input": tool_input,
        }
    ).encode()


def gemini_before_tool(tool: str, tool_input: dict[str, Any]) -> bytes:
    return json.dumps(
        {
            "session_id": "shim-g1",
            "cwd": "/tmp/project",
            "hook_event_name": "BeforeTool",
            "tool_name": tool,
            "tool_input": tool_input,
        }
    ).encode()


def claude_decision(result: subprocess.CompletedProcess[bytes]) -> dict[str, Any]:
    assert result.returncode == 0, result.stderr
    output: dict[str, Any] = json.loads(result.stdout)["hookSpecificOutput"]
    assert output["hookEventName"] == "PreToolUse"
    return output


def assert_blocked(harness: str, result: subprocess.CompletedProcess[bytes]) -> str:
    """The harness's blocking form; returns the reason shown to the model."""
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    if harness == "gemini":
        assert answer["decision"] == "deny"
        reason: str = answer["reason"]
    else:
        assert answer["hookSpecificOutput"]["permissionDecision"] == "deny"
        reason = answer["hookSpecificOutput"]["permissionDecisionReason"]
    assert reason.startswith("Stockade blocked this tool call")
    return reason


# --- against a real daemon ---------------------------------------------------------------


def test_claude_allow_and_deny_through_the_daemon(home: Home, daemon: Client) -> None:
    allowed = claude_decision(
        run_hook(home, "claude-code", claude_pre_tool("Read", {"file_path": "/tmp/project/a.md"}))
    )
    assert allowed["permissionDecision"] == "allow"
    denied = claude_decision(
        run_hook(home, "claude-code", claude_pre_tool("Bash", {"command": "rm -rf /"}))
    )
    assert denied["permissionDecision"] == "deny"
    assert denied["permissionDecisionReason"].startswith("Stockade: ")
    asked = claude_decision(
        run_hook(home, "claude-code", claude_pre_tool("Bash", {"command": "cat ~/.ssh/id_rsa"}))
    )
    assert asked["permissionDecision"] == "ask"  # interactive Claude Code asks the user
    events = daemon.request("GET", "/audit/events", query={"session": "shim-s1"})["events"]
    assert (
        len([e for e in events if e["kind"] == "decision"]) == 3
    )  # every decision is audited under the harness's session id


def test_codex_allow_prints_nothing_and_deny_blocks(home: Home, daemon: Client) -> None:
    allowed = run_hook(home, "codex", claude_pre_tool("Bash", {"command": "ls"}))
    assert (allowed.returncode, allowed.stdout) == (0, b"")
    for command in ("rm -rf /", "cat ~/.ssh/id_rsa"):  # deny, and ask (which Codex cannot do)
        denied = run_hook(home, "codex", claude_pre_tool("Bash", {"command": command}))
        answer = json.loads(denied.stdout)["hookSpecificOutput"]
        assert denied.returncode == 0 and answer["permissionDecision"] == "deny"
    assert "needs a human's approval" in answer["permissionDecisionReason"]


def test_gemini_allow_and_deny_through_the_daemon(home: Home, daemon: Client) -> None:
    allowed = run_hook(
        home, "gemini", gemini_before_tool("read_file", {"file_path": "/tmp/project/a.md"})
    )
    assert json.loads(allowed.stdout) == {"decision": "allow"}
    for command in ("rm -rf /", "cat ~/.ssh/id_rsa"):  # deny, and ask (which would hang)
        denied = run_hook(
            home, "gemini", gemini_before_tool("run_shell_command", {"command": command})
        )
        assert json.loads(denied.stdout)["decision"] == "deny"
    assert "needs a human's approval" in json.loads(denied.stdout)["reason"]


def test_prompt_screening_through_the_daemon(home: Home, daemon: Client) -> None:
    def prompt(text: str) -> bytes:
        return json.dumps(
            {
                "session_id": "shim-p1",
                "cwd": "/tmp/project",
                "hook_event_name": "UserPromptSubmit",
                "prompt": text,
            }
        ).encode()

    fine = run_hook(home, "claude-code", prompt("summarise the README"))
    assert (fine.returncode, fine.stdout) == (0, b"")
    blocked = run_hook(home, "claude-code", prompt("print the contents of ~/.ssh/id_rsa"))
    assert json.loads(blocked.stdout)["decision"] == "block"


def test_hook_path_does_not_import_the_heavy_stack(home: Home, daemon: Client) -> None:
    # The console script exactly as a harness runs it, with -X importtime listing every import.
    result = run_hook(
        home,
        "claude-code",
        claude_pre_tool("Read", {"file_path": "/tmp/project/a.md"}),
        extra=[sys.executable, "-X", "importtime"],
    )
    assert claude_decision(result)["permissionDecision"] == "allow"
    imported = {
        line.rsplit("|", 1)[1].strip()
        for line in result.stderr.decode().splitlines()
        if line.startswith("import time:") and "|" in line
    }
    assert "stockade.shim.hook" in imported
    assert not [m for m in imported if m.split(".")[0] in HEAVY or m.startswith(HEAVY)]


# --- fail closed -------------------------------------------------------------------------


@pytest.mark.parametrize("harness", ["claude-code", "codex", "gemini"])
def test_no_daemon_blocks(home: Home, harness: str) -> None:
    stdin = gemini_before_tool("run_shell_command", {"command": "ls"})
    if harness != "gemini":
        stdin = claude_pre_tool("Bash", {"command": "ls"})
    reason = assert_blocked(harness, run_hook(home, harness, stdin))
    assert "stockade serve" in reason


def test_stale_socket_blocks(home: Home) -> None:
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(str(home.socket_path))
    stale.close()  # the file stays; connecting to it is refused
    reason = assert_blocked(
        "claude-code", run_hook(home, "claude-code", claude_pre_tool("Bash", {"command": "ls"}))
    )
    assert "stale" in reason and "stockade serve" in reason


def http_reply(status: int, body: bytes) -> bytes:
    head = f"HTTP/1.1 {status} X\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    return head.encode() + body


@pytest.fixture
def fake_server(home: Home) -> Iterator[Callable[[bytes | None], None]]:
    """A server on the daemon's socket path answering ``reply`` (``None``: never answer)."""
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(home.socket_path))
    server.listen(8)
    stop = threading.Event()
    held: list[socket.socket] = []

    def start(reply: bytes | None) -> None:
        def serve() -> None:
            server.settimeout(0.1)
            while not stop.is_set():
                try:
                    conn, _ = server.accept()
                except TimeoutError:
                    continue
                except OSError:
                    return
                held.append(conn)
                conn.settimeout(2)
                try:
                    conn.recv(65536)
                except OSError:
                    pass
                if reply is not None:
                    conn.sendall(reply)
                    conn.close()

        threading.Thread(target=serve, daemon=True).start()

    yield start
    stop.set()
    server.close()
    for conn in held:
        conn.close()


@pytest.mark.parametrize(
    "reply",
    [
        http_reply(200, b"hello"),
        http_reply(200, b"[]"),
        http_reply(200, b'{"verdict": "maybe!"}'),
        http_reply(200, b"{}"),
        http_reply(500, b'{"error": {"code": "internal", "message": "x"}}'),
        b"not http at all\r\n\r\n",
        b"",
    ],
    ids=["not-json", "list", "bad-verdict", "no-verdict", "error-500", "not-http", "hang-up"],
)
@pytest.mark.parametrize("harness", ["claude-code", "gemini"])
def test_garbage_reply_blocks(
    home: Home, fake_server: Callable[[bytes | None], None], reply: bytes, harness: str
) -> None:
    fake_server(reply)
    stdin = claude_pre_tool("Read", {"file_path": "/tmp/project/a.md"})
    if harness == "gemini":
        stdin = gemini_before_tool("read_file", {"file_path": "/tmp/project/a.md"})
    assert_blocked(harness, run_hook(home, harness, stdin))


def test_hanging_daemon_blocks_within_the_deadline(
    home: Home, fake_server: Callable[[bytes | None], None]
) -> None:
    fake_server(None)
    result = run_hook(home, "codex", claude_pre_tool("Bash", {"command": "ls"}), timeout_s=0.5)
    reason = assert_blocked("codex", result)
    assert "0.5 s" in reason


@pytest.mark.parametrize(
    "stdin",
    [b"", b"{not json", b"[1, 2]", b'"text"', b'{"hook_event_name": "PreToolUse"}'],
    ids=["empty", "malformed", "list", "string", "missing-fields"],
)
@pytest.mark.parametrize("harness", ["claude-code", "codex", "gemini"])
def test_malformed_stdin_blocks(home: Home, daemon: Client, stdin: bytes, harness: str) -> None:
    if harness == "gemini" and b"PreToolUse" in stdin:
        stdin = stdin.replace(b"PreToolUse", b"BeforeTool")
    assert_blocked(harness, run_hook(home, harness, stdin))


def test_oversized_stdin_blocks(home: Home, daemon: Client) -> None:
    huge = claude_pre_tool(
        "Write", {"file_path": "/tmp/project/x", "content": "a" * (10 * 1024 * 1024)}
    )
    reason = assert_blocked("claude-code", run_hook(home, "claude-code", huge))
    assert "10 MiB" in reason


def test_unknown_harness_exits_2_with_a_deny(home: Home) -> None:
    result = run_hook(home, "cursor", claude_pre_tool("Bash", {"command": "ls"}))
    assert result.returncode == 2
    assert json.loads(result.stdout)["decision"] == "deny"
    assert b"unknown harness cursor" in result.stderr


def test_daemon_stopped_mid_session_blocks(home: Home, daemon_process: DaemonProcess) -> None:
    stdin = claude_pre_tool("Read", {"file_path": "/tmp/project/a.md"})
    assert claude_decision(run_hook(home, "claude-code", stdin))["permissionDecision"] == "allow"
    daemon_process.stop()
    assert_blocked("claude-code", run_hook(home, "claude-code", stdin))
