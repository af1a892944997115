"""The routes of docs/api.md against a real daemon on a real Unix socket."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from tests.daemon_support import tool_call

from stockade import __version__
from stockade.client import ApiError, Client

pytestmark = pytest.mark.integration

DECISION_KEYS = {"verdict", "reason", "rule_id", "zone", "action", "event_seq"}


def test_health_version_capabilities(daemon: Client) -> None:
    health = daemon.request("GET", "/health")
    assert health["status"] == "ok"
    assert isinstance(health["pid"], int) and health["uptime_s"] >= 0
    assert daemon.request("GET", "/version") == {
        "version": __version__,
        "api": "v1",
        "supported_api_versions": ["v1"],
    }
    caps = daemon.request("GET", "/capabilities")
    assert caps["harnesses"] == ["claude-code", "codex", "gemini", "generic"]
    assert "fs.write" in caps["actions"] and "group:fs" in caps["groups"]
    assert caps["zones"][0] == "safe" and caps["zones"][-1] == "never"
    assert caps["levels"] == ["permissive", "standard", "strict", "paranoid"]
    assert caps["profiles"] == ["read-only", "coding", "full"]
    assert caps["features"] == [
        "decide",
        "check",
        "prompt-screening",
        "audit",
        "approvals",
        "learned-rules",
        "tool-results",
        "sessions",
        "identity",
        "checkpoints",
        "capabilities",
        "secrets",
    ]
    assert caps["limits"] == {"max_body_bytes": 1024 * 1024}


def test_decide_answers_audits_and_advances_seq(daemon: Client) -> None:
    first = daemon.request("POST", "/decide", tool_call("sess-a"))
    listing = tool_call("sess-a", tool_name="Bash", tool_input={"command": "ls"})
    second = daemon.request("POST", "/decide", listing)
    assert set(first) == DECISION_KEYS and set(second) == DECISION_KEYS
    assert first["verdict"] in {"allow", "ask", "deny"}
    assert second["event_seq"] > first["event_seq"]

    event = daemon.request("GET", f"/audit/events/{first['event_seq']}")
    assert event["kind"] == "decision"
    assert event["session"] == "sess-a"
    assert event["actor"] == "claude-code"
    payload = event["payload"]
    assert payload["verdict"] == first["verdict"] and payload["rule_id"] == first["rule_id"]
    assert payload["tool"] == "Read" and payload["input"] == {"file_path": "/tmp/project/README.md"}

    listed = daemon.request("GET", "/audit/events", query={"session": "sess-a", "kind": "decision"})
    assert [e["seq"] for e in listed["events"]] == [first["event_seq"], second["event_seq"]]
    assert listed["next_after"] == second["event_seq"]
    head = daemon.request("GET", "/audit/head")
    assert head["seq"] >= second["event_seq"] and len(head["hash"]) == 64


def test_secrets_in_tool_input_are_redacted_in_the_log(daemon: Client) -> None:
    token = "ghp_" + "a1B2" * 10
    answer = daemon.request(
        "POST", "/decide", tool_call(tool_name="Bash", tool_input={"command": f"echo {token}"})
    )
    event = daemon.request("GET", f"/audit/events/{answer['event_seq']}")
    assert token not in json.dumps(event)


def test_check_is_a_dry_run(daemon: Client) -> None:
    before = daemon.request("GET", "/audit/head")["seq"]
    answer = daemon.request("POST", "/check", tool_call())
    assert set(answer) == DECISION_KEYS - {"event_seq"}
    assert daemon.request("GET", "/audit/head")["seq"] == before


def test_prompt_screening_never_records_the_prompt(daemon: Client) -> None:
    prompt = "please summarise the README, marker-7f3a"
    body = {"harness": "codex", "session_id": "p-1", "prompt": prompt, "cwd": "/tmp/project"}
    answer = daemon.request("POST", "/prompts/screen", body)
    assert set(answer) == {"verdict", "reason", "pattern", "prompt_sha256", "event_seq"}
    assert answer["prompt_sha256"] == hashlib.sha256(prompt.encode()).hexdigest()
    event = daemon.request("GET", f"/audit/events/{answer['event_seq']}")
    assert event["kind"] == "prompt.screened" and event["session"] == "p-1"
    assert "marker-7f3a" not in json.dumps(event)


def test_audit_routes(daemon: Client) -> None:
    daemon.request("POST", "/decide", tool_call())
    report = daemon.request("POST", "/audit/verify", {})
    assert report["ok"] is True and report["first_bad_seq"] is None
    assert report["checked"] >= 2
    with pytest.raises(ApiError) as missing:
        daemon.request("GET", "/audit/events/999999")
    assert (missing.value.status, missing.value.code) == (404, "not_found")
    with pytest.raises(ApiError) as unconfirmed:
        daemon.request("POST", "/audit/purge", {"before": "2000-01-01T00:00:00Z"})
    assert unconfirmed.value.code == "confirmation_required"
    purged = daemon.request(
        "POST", "/audit/purge", {"before": "2000-01-01T00:00:00Z", "confirm": True}
    )
    assert purged["purged"] == 0
    newest = daemon.request("GET", "/audit/events", query={"order": "desc", "limit": 1})
    assert len(newest["events"]) == 1
    with pytest.raises(ApiError) as bad_query:
        daemon.request("GET", "/audit/events", query={"limit": 0})
    assert bad_query.value.code == "invalid_request"


def test_policy_and_reload(daemon: Client) -> None:
    assert isinstance(daemon.request("GET", "/policy"), dict)
    answer = daemon.request("POST", "/reload", {})
    assert answer["reloaded"] is True and isinstance(answer["config_hash"], str)
    events = daemon.request("GET", "/audit/events", query={"kind": "config.reloaded"})["events"]
    assert events[-1]["payload"]["config_hash"] == answer["config_hash"]


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("GET", "/api/v2/health", 400, "unsupported_api_version"),
        ("POST", "/api/v0/decide", 400, "unsupported_api_version"),
        ("GET", "/api/v1/nope", 404, "not_found"),
        ("GET", "/elsewhere", 404, "not_found"),
        ("GET", "/api/v1/decide", 405, "method_not_allowed"),
    ],
)
def test_routing_errors(
    daemon: Client, raw_request: Any, method: str, path: str, status: int, code: str
) -> None:
    answer_status, body = raw_request(method, path)
    assert answer_status == status
    assert body["error"]["code"] == code
    if code == "unsupported_api_version":
        assert "v1" in body["error"]["message"]


def test_api_version_header_mismatch(daemon: Client, raw_request: Any) -> None:
    status, body = raw_request("GET", "/api/v1/health", headers={"Stockade-API-Version": "2"})
    assert status == 400 and body["error"]["code"] == "unsupported_api_version"
    status, _ = raw_request("GET", "/api/v1/health", headers={"Stockade-API-Version": "1"})
    assert status == 200
    # /decide takes a shorter way to its handler (app.FastDecide), behind the same gate.
    call = json.dumps(tool_call()).encode()
    headers = {"Content-Type": "application/json", "Stockade-API-Version": "2"}
    status, body = raw_request("POST", "/api/v1/decide", call, headers)
    assert status == 400 and body["error"]["code"] == "unsupported_api_version"
    status, body = raw_request("POST", "/api/v1/decide", b"{", {"Content-Type": "application/json"})
    assert status == 400 and body["error"]["code"] == "invalid_json"
