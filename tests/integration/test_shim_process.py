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
import time
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
    "stockade.request",
    "stockade.home",
    "http",  # http.client drags in ssl and email: ~40 ms per tool call
    "ssl",
    "email",
    "socket",  # the shim uses _socket; socket.py adds selectors
    "selectors",
    "dataclasses",  # and with it inspect, ast, dis, tokenize
    "inspect",
    "typing",  # ~5 ms; stockade/__init__.py uses a local TYPE_CHECKING constant instead
)


def run_hook(
    home: Home,
    harness: str,
    stdin: bytes,
    *,
    timeout_s: float = 5.0,
    extra: list[str] | None = None,
    env_extra: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[bytes]:
    env = {
        **os.environ,
        "STOCKADE_HOME": str(home.root),
        "STOCKADE_HOOK_TIMEOUT": str(timeout_s),
    }
    for name in ("CLAUDE_PROJECT_DIR", "CLAUDE_CODE_SESSION_ATTENDED", "GEMINI_PROJECT_DIR"):
        env.pop(name, None)
    env.update(env_extra or {})
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


def hook_event(name: str, session: str = "shim-e1", **fields: Any) -> bytes:
    return json.dumps(
        {"session_id": session, "cwd": "/tmp/project", "hook_event_name": name, **fields}
    ).encode()


SECRET = "sk-ant-api03-" + "A" * 40
BASH_RESPONSE = {
    "stdout": f"TOKEN={SECRET}\n",
    "stderr": "",
    "interrupted": False,
    "isImage": False,
}
POST_TOOL = {
    "claude-code": hook_event(
        "PostToolUse",
        tool_name="Bash",
        tool_input={"command": "env"},
        tool_response=BASH_RESPONSE,
        tool_use_id="toolu_e1",
    ),
    "codex": hook_event(
        "PostToolUse",
        tool_name="Bash",
        tool_input={"command": "env"},
        tool_response=f"TOKEN={SECRET}\n",
        tool_use_id="call_e1",
    ),
    "gemini": hook_event(
        "AfterTool",
        tool_name="run_shell_command",
        tool_input={"command": "env"},
        tool_response={"llmContent": f"Output: TOKEN={SECRET}", "returnDisplay": ""},
    ),
}


def shown_output(harness: str, result: subprocess.CompletedProcess[bytes]) -> str:
    """What a post-tool answer makes the model read instead of the real output."""
    assert result.returncode == 0, result.stderr
    assert SECRET.encode() not in result.stdout
    answer = json.loads(result.stdout)
    if harness == "claude-code":
        output = answer["hookSpecificOutput"]
        assert output["hookEventName"] == "PostToolUse"
        replaced = output["updatedToolOutput"]
        assert set(replaced) == set(BASH_RESPONSE)  # the tool's output shape, or it is ignored
        return str(replaced["stdout"])
    assert answer["decision"] == ("block" if harness == "codex" else "deny")
    return str(answer["reason"])


def audited(daemon: Client, session: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = daemon.request(
        "GET", "/audit/events", query={"session": session}
    )["events"]
    return events


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


@pytest.mark.parametrize("harness", ["claude-code", "codex", "gemini"])
def test_a_secret_in_tool_output_is_redacted_before_the_model_reads_it(
    home: Home, daemon: Client, harness: str
) -> None:
    shown = shown_output(harness, run_hook(home, harness, POST_TOOL[harness]))
    assert "TOKEN=[REDACTED:" in shown
    results = [e for e in audited(daemon, "shim-e1") if e["kind"] == "tool.result"]
    assert len(results) == 1 and results[0]["payload"]["status"] == "succeeded"
    assert SECRET not in json.dumps(results)


@pytest.mark.parametrize("harness", ["claude-code", "codex", "gemini"])
def test_a_clean_tool_output_is_left_alone(home: Home, daemon: Client, harness: str) -> None:
    clean = POST_TOOL[harness].replace(f"TOKEN={SECRET}".encode(), b"hello")
    result = run_hook(home, harness, clean)
    assert (result.returncode, result.stdout) == (0, b"")


def test_claude_failed_and_refused_calls_are_recorded(home: Home, daemon: Client) -> None:
    failed = hook_event(
        "PostToolUseFailure", "shim-e2", tool_name="Bash", tool_input={}, error="Exit code 1"
    )
    refused = hook_event(
        "PermissionDenied", "shim-e2", tool_name="Write", tool_input={}, reason="user said no"
    )
    for stdin in (failed, refused):
        result = run_hook(home, "claude-code", stdin)
        assert (result.returncode, result.stdout) == (0, b""), result.stderr
    statuses = [
        e["payload"]["status"] for e in audited(daemon, "shim-e2") if e["kind"] == "tool.result"
    ]
    assert statuses == ["failed", "not_run"]


@pytest.mark.parametrize("harness", ["claude-code", "codex", "gemini"])
def test_sessions_are_recorded_and_print_nothing(home: Home, daemon: Client, harness: str) -> None:
    session = f"shim-{harness}-session"
    start = hook_event("SessionStart", session, source="startup", model="m-1")
    end = hook_event("SessionEnd", session, reason="other")
    for stdin in (start, end):
        result = run_hook(home, harness, stdin)
        assert (result.returncode, result.stdout) == (0, b""), result.stderr
    kinds = [e["kind"] for e in audited(daemon, session)]
    assert kinds == ["session.started", "session.ended"]


def approve_when_pending(daemon: Client, verb: str) -> threading.Thread:
    """Resolve the first pending approval as a human would, from another thread."""

    def resolve() -> None:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            pending = daemon.request("GET", "/approvals")["approvals"]
            if pending:
                daemon.request("POST", f"/approvals/{pending[0]['id']}/{verb}", body={})
                return
            time.sleep(0.05)

    thread = threading.Thread(target=resolve, daemon=True)
    thread.start()
    return thread


@pytest.mark.parametrize(
    ("harness", "env_extra", "verb", "expected"),
    [
        ("codex", {}, "approve", None),  # Codex: an allow is no output at all
        ("gemini", {}, "deny", "deny"),
        ("claude-code", {"CLAUDE_CODE_SESSION_ATTENDED": "0"}, "approve", "allow"),
    ],
)
def test_a_held_call_waits_for_a_human(
    home: Home,
    daemon_process: DaemonProcess,
    harness: str,
    env_extra: dict[str, str],
    verb: str,
    expected: str | None,
) -> None:
    command = "cat ~/.ssh/id_rsa"  # an `ask` for the engine
    stdin = gemini_before_tool("run_shell_command", {"command": command})
    if harness != "gemini":
        stdin = claude_pre_tool("Bash", {"command": command})
    with daemon_process.client(timeout=30) as client:
        resolver = approve_when_pending(client, verb)
        result = run_hook(home, harness, stdin, timeout_s=30, env_extra=env_extra)
        resolver.join(timeout=30)
    assert result.returncode == 0, result.stderr
    if expected is None:
        assert result.stdout == b""
    elif harness == "gemini":
        assert json.loads(result.stdout)["decision"] == expected
    else:
        assert claude_decision(result)["permissionDecision"] == expected


# --- fail closed -------------------------------------------------------------------------


@pytest.mark.parametrize("harness", ["claude-code", "codex", "gemini"])
def test_no_daemon_blocks(home: Home, harness: str) -> None:
    stdin = gemini_before_tool("run_shell_command", {"command": "ls"})
    if harness != "gemini":
        stdin = claude_pre_tool("Bash", {"command": "ls"})
    reason = assert_blocked(harness, run_hook(home, harness, stdin))
    assert "stockade serve" in reason


@pytest.mark.parametrize("harness", ["claude-code", "codex", "gemini"])
def test_no_daemon_withholds_tool_output_and_only_warns_on_sessions(
    home: Home, harness: str
) -> None:
    shown = shown_output(harness, run_hook(home, harness, POST_TOOL[harness]))
    assert shown.startswith("Stockade could not inspect this tool output, so it is withheld")
    session = run_hook(home, harness, hook_event("SessionStart", source="startup"))
    assert session.returncode == 0
    assert list(json.loads(session.stdout)) == ["systemMessage"]


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


FakeServer = Callable[[bytes | None], list[bytes]]


@pytest.fixture
def fake_server(home: Home) -> Iterator[FakeServer]:
    """A server on the daemon's socket path answering ``reply`` (``None``: never answer).

    It stands in for a daemon that misbehaves, which the real one cannot be made to do,
    and records each request it received (returned by the start function).
    """
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(home.socket_path))
    server.listen(8)
    stop = threading.Event()
    held: list[socket.socket] = []
    received: list[bytes] = []

    def start(reply: bytes | None) -> list[bytes]:
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
                    received.append(conn.recv(1 << 20))
                except OSError:
                    pass
                if reply is not None:
                    conn.sendall(reply)
                    conn.close()

        threading.Thread(target=serve, daemon=True).start()
        return received

    yield start
    stop.set()
    server.close()
    for conn in held:
        conn.close()


def sent_body(received: list[bytes]) -> tuple[str, dict[str, Any]]:
    """The request line's path and the JSON body of the one request the shim sent."""
    assert len(received) == 1
    head, _, body = received[0].partition(b"\r\n\r\n")
    path = head.split(b" ")[1].decode()
    document: dict[str, Any] = json.loads(body)
    return path, document


ALLOW = b'{"verdict":"allow","reason":"ok","rule_id":"r","zone":"safe","action":"x","event_seq":1}'


@pytest.mark.parametrize(
    ("harness", "env_extra", "held"),
    [
        ("claude-code", {}, False),  # no evidence that nobody is there: Claude Code asks
        ("claude-code", {"CLAUDE_CODE_SESSION_ATTENDED": "1"}, False),
        ("claude-code", {"CLAUDE_CODE_SESSION_ATTENDED": "0"}, True),  # `claude -p`
        ("codex", {}, True),
        ("gemini", {}, True),
    ],
)
def test_hold_s_is_sent_only_when_the_harness_cannot_ask(
    home: Home, fake_server: FakeServer, harness: str, env_extra: dict[str, str], held: bool
) -> None:
    received = fake_server(http_reply(200, ALLOW))
    stdin = gemini_before_tool("read_file", {"file_path": "/tmp/project/a.md"})
    if harness != "gemini":
        stdin = claude_pre_tool("Read", {"file_path": "/tmp/project/a.md"})
    result = run_hook(home, harness, stdin, timeout_s=30, env_extra=env_extra)
    assert result.returncode == 0, result.stderr
    path, body = sent_body(received)
    assert path == "/api/v1/decide"
    if held:
        assert body["hold_s"] in (24, 25)  # the 30 s deadline minus the 5 s margin, whole seconds
    else:
        assert "hold_s" not in body


def test_no_hold_when_the_deadline_leaves_no_room(home: Home, fake_server: FakeServer) -> None:
    received = fake_server(http_reply(200, ALLOW))
    run_hook(home, "codex", claude_pre_tool("Bash", {"command": "ls"}), timeout_s=5.5)
    assert "hold_s" not in sent_body(received)[1]


@pytest.mark.parametrize(
    ("harness", "path"),
    [("claude-code", "/api/v1/tool-results"), ("gemini", "/api/v1/tool-results")],
)
def test_post_tool_bodies_on_the_wire(
    home: Home, fake_server: FakeServer, harness: str, path: str
) -> None:
    received = fake_server(http_reply(200, b'{"output":"","redacted":false,"event_seq":3}'))
    result = run_hook(home, harness, POST_TOOL[harness])
    assert (result.returncode, result.stdout) == (0, b"")
    sent_path, body = sent_body(received)
    assert sent_path == path and body["status"] == "succeeded" and SECRET in body["output"]
    assert "hold_s" not in body


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
    home: Home, fake_server: FakeServer, reply: bytes, harness: str
) -> None:
    fake_server(reply)
    stdin = claude_pre_tool("Read", {"file_path": "/tmp/project/a.md"})
    if harness == "gemini":
        stdin = gemini_before_tool("read_file", {"file_path": "/tmp/project/a.md"})
    assert_blocked(harness, run_hook(home, harness, stdin))


@pytest.mark.parametrize(
    "reply",
    [
        http_reply(200, b"hello"),
        http_reply(200, b'{"verdict": "allow"}'),
        http_reply(200, b'{"redacted": "no", "output": ""}'),
        http_reply(200, b'{"redacted": true}'),
        http_reply(404, b'{"error": {"code": "not_found", "message": "no route"}}'),
        b"",
    ],
    ids=["not-json", "a-verdict", "bad-redacted", "no-output", "old-daemon-404", "hang-up"],
)
@pytest.mark.parametrize("harness", ["claude-code", "codex", "gemini"])
def test_garbage_tool_result_reply_withholds_the_output(
    home: Home, fake_server: FakeServer, reply: bytes, harness: str
) -> None:
    fake_server(reply)
    shown = shown_output(harness, run_hook(home, harness, POST_TOOL[harness]))
    assert shown.startswith("Stockade could not inspect this tool output, so it is withheld")


def test_hanging_daemon_blocks_within_the_deadline(home: Home, fake_server: FakeServer) -> None:
    fake_server(None)
    result = run_hook(home, "codex", claude_pre_tool("Bash", {"command": "ls"}), timeout_s=0.5)
    reason = assert_blocked("codex", result)
    assert "0.5 s" in reason
    withheld = shown_output("gemini", run_hook(home, "gemini", POST_TOOL["gemini"], timeout_s=0.5))
    assert "did not answer within 0.5 s" in withheld


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
