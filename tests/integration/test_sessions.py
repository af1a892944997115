"""``POST /sessions`` against a real daemon: session starts and ends in the audit log."""

from __future__ import annotations

import pytest
from tests.integration.test_approvals import daemon_process, home  # noqa: F401 - one per module

from stockade.client import ApiError, Client

pytestmark = pytest.mark.integration


def test_session_start_and_end_are_audited(daemon: Client) -> None:
    start = {
        "harness": "claude-code",
        "session_id": "s-life",
        "event": "start",
        "cwd": "/tmp/project",
        "project_root": "/tmp/project",
        "model": "claude-sonnet",
        "source": "startup",
        "agent": "reviewer",
    }
    started = daemon.request("POST", "/sessions", start)
    end = {"harness": "claude-code", "session_id": "s-life", "event": "end", "reason": "logout"}
    ended = daemon.request("POST", "/sessions", end)
    assert set(started) == {"event_seq"} and ended["event_seq"] > started["event_seq"]

    events = daemon.request("GET", "/audit/events", query={"session": "s-life"})["events"]
    assert [(e["seq"], e["kind"], e["actor"]) for e in events] == [
        (started["event_seq"], "session.started", "claude-code"),
        (ended["event_seq"], "session.ended", "claude-code"),
    ]
    assert events[0]["payload"] == {
        "harness": "claude-code",
        "session": "s-life",
        "agent": "reviewer",
        "cwd": "/tmp/project",
        "project_root": "/tmp/project",
        "model": "claude-sonnet",
        "source": "startup",
        "reason": None,
    }
    assert events[1]["payload"]["reason"] == "logout" and events[1]["payload"]["cwd"] is None


MALFORMED = [
    {"event": "restart"},
    {"event": "start", "cwd": "relative/dir"},
    {"event": "start", "harness": "vim"},
    {"event": "start", "session_id": ""},
    {"event": "end", "reason": "r" * 201},
    {"event": "start", "transcript_path": "/tmp/t.jsonl"},
    {"session_id": "s-bad"},
]


def test_malformed_session_records_are_rejected(daemon: Client) -> None:
    for extra in MALFORMED:
        body = {"harness": "codex", "session_id": "s-bad", **extra}
        with pytest.raises(ApiError) as rejected:
            daemon.request("POST", "/sessions", body)
        assert (rejected.value.status, rejected.value.code) == (422, "invalid_request"), extra
    assert daemon.request("GET", "/audit/events", query={"session": "s-bad"})["events"] == []
