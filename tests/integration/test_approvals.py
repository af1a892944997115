"""Held approvals (ADR 0004) against a real daemon on its real socket, answered by the real CLI.

A held ``/decide`` blocks, so each one runs in a worker thread with its own client
while the test answers it as a person would: over the API or with
``stockade approvals`` in a subprocess. One daemon serves the whole module (each test
has its own sessions); expiry and shutdown, which need their own daemon, are in
``test_approvals_lifecycle.py``.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from tests.daemon_support import DaemonProcess, tool_call

from stockade.client import ApiError, Client
from stockade.home import Home

pytestmark = pytest.mark.integration

STOCKADE = str(Path(sys.executable).with_name("stockade"))
READ_ENV = {"tool_name": "Read", "tool_input": {"file_path": "/tmp/project/.env"}}
FETCH = {"tool_name": "WebFetch", "tool_input": {"url": "https://example.com/", "prompt": "x"}}

Hold = Callable[..., "Future[dict[str, Any]]"]


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Home:
    shared = Home(tmp_path_factory.mktemp("approvals") / "home")
    shared.ensure()
    return shared


@pytest.fixture(scope="module")
def daemon_process(home: Home, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DaemonProcess]:
    process = DaemonProcess(home, tmp_path_factory.mktemp("logs") / "daemon.log").start()
    yield process
    process.stop()


@pytest.fixture
def pool() -> Iterator[ThreadPoolExecutor]:
    # A failed test may leave a held request behind: it ends at its hold_s (10 s).
    with ThreadPoolExecutor(max_workers=4) as executor:
        yield executor


@pytest.fixture
def hold(pool: ThreadPoolExecutor, daemon_process: DaemonProcess) -> Hold:
    """Start a held ``/decide`` in a thread; its future is the answer."""

    def start(session: str, call: dict[str, Any], hold_s: float = 10) -> Future[dict[str, Any]]:
        body = {**tool_call(session, **call), "hold_s": hold_s}

        def decide() -> dict[str, Any]:
            with daemon_process.client(timeout=30) as client:
                answer: dict[str, Any] = client.request("POST", "/decide", body)
                return answer

        return pool.submit(decide)

    return start


def wait_pending(client: Client, session: str) -> dict[str, Any]:
    """The one pending approval of ``session``, once it appears."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        mine = approvals_of(client, session)
        if mine:
            (approval,) = mine
            return approval
        time.sleep(0.01)
    raise AssertionError(f"no pending approval appeared for {session}")


def approvals_of(client: Client, session: str, status: str = "pending") -> list[dict[str, Any]]:
    listed = client.request("GET", "/approvals", query={"status": status})["approvals"]
    return [approval for approval in listed if approval["session_id"] == session]


def kinds_of(client: Client, session: str) -> list[str]:
    events = client.request("GET", "/audit/events", query={"session": session})["events"]
    return [event["kind"] for event in events]


def events_of(client: Client, session: str, kind: str) -> list[dict[str, Any]]:
    query = {"session": session, "kind": kind}
    events: list[dict[str, Any]] = client.request("GET", "/audit/events", query=query)["events"]
    return events


def cli(home: Home, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "STOCKADE_HOME": str(home.root), "NO_COLOR": "1", "COLUMNS": "200"}
    return subprocess.run(
        [STOCKADE, *args], env=env, capture_output=True, text=True, timeout=30, check=False
    )


def test_an_approved_call_runs_once_and_every_step_is_audited(daemon: Client, hold: Hold) -> None:
    answer = hold("s-ok", READ_ENV)
    pending = wait_pending(daemon, "s-ok")
    assert pending["status"] == "pending" and pending["session_id"] == "s-ok"
    assert pending["tool_name"] == "Read" and pending["input"] == READ_ENV["tool_input"]
    assert pending["rule_id"] == "guard:credential-read" and pending["action"] == "fs.read"
    assert daemon.request("GET", f"/approvals/{pending['id']}") == pending

    approved = daemon.request("POST", f"/approvals/{pending['id']}/approve", {"note": "fine"})
    assert approved["status"] == "approved" and approved["resolved_by"] == "api"
    decision = answer.result(5)
    assert decision["verdict"] == "allow"
    assert decision["approval"] == {"id": pending["id"], "status": "approved"}
    assert "approved by a human" in decision["reason"] and pending["id"] in decision["reason"]

    with pytest.raises(ApiError) as again:
        daemon.request("POST", f"/approvals/{pending['id']}/approve")
    assert (again.value.status, again.value.code) == (409, "not_pending")

    ran = {**tool_call("s-ok", **READ_ENV), "status": "succeeded", "output": "X=1"}
    daemon.request("POST", "/tool-results", ran)
    assert kinds_of(daemon, "s-ok") == [
        "permission.request",
        "permission.resolved",
        "decision",
        "session.tainted",
        "tool.result",
        "permission.executed",
    ]
    (logged,) = events_of(daemon, "s-ok", "decision")
    assert logged["seq"] == decision["event_seq"]
    assert logged["payload"]["verdict"] == "allow"
    assert logged["payload"]["engine_verdict"] == "ask"
    assert logged["payload"]["approval_id"] == pending["id"]
    shown = daemon.request("GET", f"/approvals/{pending['id']}")
    assert shown["status"] == "executed"

    # The approved read put a credential in the session: it may not reach the network now.
    fetch = daemon.request("POST", "/decide", tool_call("s-ok", **FETCH))
    assert fetch["verdict"] == "deny" and fetch["rule_id"].startswith("flow:credential")


def test_the_cli_lists_and_approves(daemon: Client, hold: Hold, home: Home) -> None:
    answer = hold("s-cli", READ_ENV)
    wait_pending(daemon, "s-cli")
    listed = cli(home, "approvals", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    (pending,) = [a for a in json.loads(listed.stdout)["approvals"] if a["session_id"] == "s-cli"]
    assert pending == daemon.request("GET", f"/approvals/{pending['id']}")

    table = cli(home, "approvals", "list")
    assert pending["id"] in table.stdout and "/tmp/project/.env" in table.stdout

    approved = cli(home, "approvals", "approve", pending["id"])
    assert approved.returncode == 0, approved.stderr
    assert f"approved {pending['id']}" in approved.stdout
    assert answer.result(5)["verdict"] == "allow"
    (event,) = events_of(daemon, "s-cli", "permission.resolved")
    assert event["actor"] == "cli" and event["payload"]["by"] == "cli"
    assert event["payload"]["resolution"] == "approved"
    assert daemon.request("GET", f"/approvals/{pending['id']}")["resolved_by"] == "cli"

    again = cli(home, "approvals", "deny", pending["id"])
    assert again.returncode == 1
    assert f"approval {pending['id']} is not pending: it is approved" in again.stderr


def test_a_denied_call_is_denied_and_taints_nothing(daemon: Client, hold: Hold) -> None:
    answer = hold("s-no", READ_ENV)
    pending = wait_pending(daemon, "s-no")
    denied = daemon.request("POST", f"/approvals/{pending['id']}/deny", {"note": "not the .env"})
    assert denied["status"] == "denied"
    decision = answer.result(5)
    assert decision["verdict"] == "deny" and decision["approval"]["status"] == "denied"
    assert "denied by a human" in decision["reason"] and "not the .env" in decision["reason"]
    assert "session.tainted" not in kinds_of(daemon, "s-no")
    # The read never ran, so the network stays a question, not a data-flow deny.
    assert daemon.request("POST", "/decide", tool_call("s-no", **FETCH))["verdict"] == "ask"


def test_an_approval_never_overrides_a_taint_taken_while_it_waited(
    daemon: Client, hold: Hold
) -> None:
    answer = hold("s-race", FETCH)
    pending = wait_pending(daemon, "s-race")
    # Meanwhile the session reads a credential (an interactive ask: it taints at once).
    assert daemon.request("POST", "/decide", tool_call("s-race", **READ_ENV))["verdict"] == "ask"
    daemon.request("POST", f"/approvals/{pending['id']}/approve")
    decision = answer.result(5)
    assert decision["verdict"] == "deny" and decision["rule_id"].startswith("flow:credential")
    assert decision["approval"]["status"] == "approved"


def test_without_hold_an_ask_is_answered_at_once(daemon: Client) -> None:
    decision = daemon.request("POST", "/decide", tool_call("s-plain", **READ_ENV))
    assert decision["verdict"] == "ask" and "approval" not in decision
    assert approvals_of(daemon, "s-plain", "all") == []
    # hold_s only holds an ask: an allow is answered as usual.
    allowed = daemon.request("POST", "/decide", {**tool_call("s-plain"), "hold_s": 30})
    assert allowed["verdict"] == "allow" and "approval" not in allowed


def test_a_client_that_hangs_up_expires_its_approval(daemon: Client, home: Home) -> None:
    body = json.dumps({**tool_call("s-gone", **READ_ENV), "hold_s": 30}).encode()
    head = (
        "POST /api/v1/decide HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.connect(str(home.socket_path))
        sock.sendall(head + body)
        pending = wait_pending(daemon, "s-gone")
    deadline = time.monotonic() + 5
    while "decision" not in kinds_of(daemon, "s-gone"):
        assert time.monotonic() < deadline, "the held request outlived its client"
        time.sleep(0.01)
    gone = daemon.request("GET", f"/approvals/{pending['id']}")
    assert (gone["status"], gone["resolved_by"]) == ("expired", "disconnect")
    (decision,) = events_of(daemon, "s-gone", "decision")
    assert decision["payload"]["verdict"] == "deny"


MALFORMED_HOLDS: list[dict[str, Any]] = [
    {"hold_s": 0},
    {"hold_s": -1},
    {"hold_s": 3601},
    {"hold_s": "30"},
    {"hold_s": True},
    {"hold_s": None, "hold": 30},
]


def test_malformed_holds_are_rejected_never_allowed(daemon: Client, raw_request: Any) -> None:
    for extra in MALFORMED_HOLDS:
        raw = json.dumps({**tool_call("s-bad", **READ_ENV), **extra}).encode()
        code, answer = raw_request(
            "POST", "/api/v1/decide", raw, {"Content-Type": "application/json"}
        )
        assert (code, answer["error"]["code"]) == (422, "invalid_request"), extra
    # JSON's non-finite numbers, spelled as Python's json module writes them.
    for spelled in (b"NaN", b"Infinity", b"1e400"):
        raw = json.dumps(tool_call("s-bad", **READ_ENV)).encode()[:-1] + b', "hold_s": '
        code, answer = raw_request(
            "POST", "/api/v1/decide", raw + spelled + b"}", {"Content-Type": "application/json"}
        )
        assert code in (400, 422) and "verdict" not in answer, spelled
    assert approvals_of(daemon, "s-bad", "all") == []
    assert kinds_of(daemon, "s-bad") == []


BAD_APPROVAL_REQUESTS = [
    ("GET", "/api/v1/approvals/nope", None, 404, "not_found"),
    ("POST", "/api/v1/approvals/nope/approve", b"{}", 404, "not_found"),
    ("POST", "/api/v1/approvals/nope/deny", None, 404, "not_found"),
    ("GET", "/api/v1/approvals?status=denied", None, 422, "invalid_request"),
    ("GET", "/api/v1/approvals?state=all", None, 422, "invalid_request"),
    ("POST", "/api/v1/approvals/nope/approve", b'{"note": 1}', 422, "invalid_request"),
    ("POST", "/api/v1/approvals/nope/approve", b'{"by": "cli"}', 422, "invalid_request"),
    ("POST", "/api/v1/approvals/nope/approve", b"[]", 400, "invalid_json"),
    ("POST", "/api/v1/approvals/nope/approve", b"{", 400, "invalid_json"),
    ("GET", "/api/v1/approvals/nope/approve", None, 405, "method_not_allowed"),
]


def test_approval_routes_reject_bad_requests(daemon: Client, raw_request: Any) -> None:
    for method, path, body, status, code in BAD_APPROVAL_REQUESTS:
        headers = {"Content-Type": "application/json"} if body else {}
        answered, answer = raw_request(method, path, body, headers)
        assert (answered, answer["error"]["code"]) == (status, code), (method, path, body)


def test_a_long_note_is_refused_and_the_approval_stays_pending(daemon: Client, hold: Hold) -> None:
    answer = hold("s-note", READ_ENV)
    pending = wait_pending(daemon, "s-note")
    with pytest.raises(ApiError) as refused:
        daemon.request("POST", f"/approvals/{pending['id']}/approve", {"note": "n" * 501})
    assert refused.value.status == 422
    assert daemon.request("GET", f"/approvals/{pending['id']}")["status"] == "pending"
    daemon.request("POST", f"/approvals/{pending['id']}/deny", {"note": "n" * 500})
    assert answer.result(5)["verdict"] == "deny"
