"""``GET /api/v1/sessions`` and ``stockade sessions list`` against a real daemon.

The listing is aggregated from the audit log, so every count here comes from real
decisions, session records and a real held call.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from tests.daemon_support import tool_call
from tests.integration.test_approvals import (  # noqa: F401 - one daemon per module
    READ_ENV,
    Hold,
    cli,
    daemon_process,
    hold,
    home,
    pool,
    wait_pending,
)

from stockade.client import ApiError, Client
from stockade.home import Home

pytestmark = pytest.mark.integration

RM = {"tool_name": "Bash", "tool_input": {"command": "rm -rf ~"}}


def mine(listing: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for s in listing["sessions"] if str(s["session"]).startswith("sl-")]


def test_sessions_are_listed_newest_first_with_their_counts(
    daemon: Client,
    hold: Hold,  # noqa: F811 - the module's fixture, imported above
    home: Home,  # noqa: F811 - the module's fixture, imported above
) -> None:
    start = {
        "harness": "claude-code",
        "session_id": "sl-a",
        "event": "start",
        "cwd": "/tmp/project/sub",
        "project_root": "/tmp/project",
        "agent": "reviewer",
    }
    daemon.request("POST", "/sessions", start)
    for call in [{}, RM, READ_ENV, {}]:  # allow, deny, ask (a credential read: tainted), allow
        daemon.request("POST", "/decide", tool_call("sl-a", **call))
    # The same id under another harness is another session.
    daemon.request("POST", "/decide", tool_call("sl-a", harness="gemini", tool_name="read_file"))
    ended = {"harness": "codex", "session_id": "sl-b", "event": "end"}
    daemon.request("POST", "/sessions", {**ended, "event": "start", "cwd": "/srv/b"})
    daemon.request(
        "POST",
        "/decide",
        tool_call("sl-b", harness="codex", tool_name="shell", tool_input={"command": "ls"}),
    )
    daemon.request("POST", "/sessions", ended)
    held = hold("sl-c", READ_ENV)
    approval = wait_pending(daemon, "sl-c")
    listing = _once_listed(daemon, "sl-c")  # its request is audited just after it is pending
    a, gemini, b, c = sorted(mine(listing), key=lambda s: (s["session"], s["harness"]))
    assert [s["session"] for s in mine(listing)] == ["sl-c", "sl-b", "sl-a", "sl-a"]
    assert mine(listing)[3]["harness"] == "claude-code"  # its last event is older than gemini's
    assert a == {
        "harness": "claude-code",
        "session": "sl-a",
        "agent": "reviewer",
        "cwd": "/tmp/project/sub",
        "project_root": "/tmp/project",
        "first_seen": a["first_seen"],
        "last_seen": a["last_seen"],
        "decisions": 4,
        "allows": 2,
        "asks": 1,
        "denies": 1,
        "tainted": True,
        "ended": False,
        "pending_approvals": 0,
    }
    assert a["first_seen"] < a["last_seen"] <= gemini["first_seen"]
    assert (gemini["harness"], gemini["decisions"], gemini["allows"]) == ("gemini", 1, 1)
    assert gemini["cwd"] == "/tmp/project" and gemini["agent"] is None  # from its decision
    assert (b["ended"], b["cwd"], b["decisions"], b["tainted"]) == (True, "/srv/b", 1, False)
    # A held call has no decision yet, only its pending approval.
    assert (c["decisions"], c["pending_approvals"]) == (0, 1)

    page = daemon.request("GET", "/sessions", query={"limit": 2, "offset": 1})["sessions"]
    assert page == listing["sessions"][1:3]

    shown = cli(home, "sessions", "list", "--json")
    assert shown.returncode == 0 and json.loads(shown.stdout) == daemon.request("GET", "/sessions")
    table = cli(home, "sessions", "list")
    assert table.returncode == 0
    row = next(line for line in table.stdout.splitlines() if "sl-a" in line and "claude" in line)
    assert row.split()[2:] == [
        "claude-code",
        "sl-a",
        "2",
        "1",
        "1",
        "0",
        "tainted,",
        "active",
        "/tmp/project",
    ]

    daemon.request("POST", f"/approvals/{approval['id']}/deny")
    assert held.result(5)["verdict"] == "deny"
    (c,) = [s for s in mine(daemon.request("GET", "/sessions")) if s["session"] == "sl-c"]
    assert (c["decisions"], c["denies"], c["pending_approvals"]) == (1, 1, 0)


def _once_listed(daemon: Client, session: str) -> dict[str, Any]:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        listing: dict[str, Any] = daemon.request("GET", "/sessions")
        if any(s["session"] == session for s in listing["sessions"]):
            return listing
        time.sleep(0.01)
    raise AssertionError(f"{session} was not listed")


def test_bad_listing_queries_are_refused(daemon: Client) -> None:
    malformed: list[dict[str, str | int]] = [
        {"limit": 0},
        {"limit": 501},
        {"offset": -1},
        {"offset": 2**63},
        {"limit": "x"},
        {"session": "s"},
    ]
    for bad in malformed:
        with pytest.raises(ApiError) as refused:
            daemon.request("GET", "/sessions", query=bad)
        assert (refused.value.status, refused.value.code) == (422, "invalid_request")
