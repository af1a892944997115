"""``POST /tool-results`` against a real daemon: output redaction, the audit record, taint.

One daemon serves the module (the fixture of ``test_approvals``, on this module's home);
each test has its own sessions.
"""

from __future__ import annotations

import json
import os
from typing import Any

import pytest
from tests.daemon_support import DaemonProcess, tool_call
from tests.integration.test_approvals import daemon_process  # noqa: F401 - one per module

from stockade.client import ApiError, Client
from stockade.home import Home

pytestmark = pytest.mark.integration

TOKEN = "ghp_" + "A1b2C3d4" * 5
READ_ENV = {"tool_name": "Read", "tool_input": {"file_path": "/tmp/project/.env"}}
FETCH = {"tool_name": "WebFetch", "tool_input": {"url": "https://example.com/", "prompt": "x"}}
# The agent whose calls run at level strict, which denies reading a credential.
LOCKED = "locked"
USER_PATTERN = "acme-[0-9]{6}"  # [audit] redact_patterns: a secret shape only this user knows
SSH_KEY = os.path.join(os.path.expanduser("~"), ".ssh", "id_rsa")


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Home:
    shared = Home(tmp_path_factory.mktemp("tool-results") / "home")
    shared.ensure()
    shared.config_path.write_text(
        f'[audit]\nredact_patterns = ["{USER_PATTERN}"]\n[agents.{LOCKED}]\nlevel = "strict"\n'
    )
    os.chmod(shared.config_path, 0o600)
    return shared


def result(
    session: str, status: str, call: dict[str, Any] = READ_ENV, **extra: Any
) -> dict[str, Any]:
    return {**tool_call(session, **call), "status": status, **extra}


def logged(client: Client, seq: int) -> dict[str, Any]:
    event: dict[str, Any] = client.request("GET", f"/audit/events/{seq}")
    return event


def test_output_comes_back_redacted_and_only_its_shape_is_logged(daemon: Client) -> None:
    # A marker already in the output is not counted as something found.
    output = f"line one\nexport GH={TOKEN}\n[REDACTED:jwt:0123abcd] stays\n"
    answer = daemon.request(
        "POST", "/tool-results", result("s-out", "succeeded", output=output, tool_use_id="tu-1")
    )
    assert answer["redacted"] is True and TOKEN not in answer["output"]
    assert answer["output"].startswith("line one\nexport GH=[REDACTED:github-token:")
    assert "[REDACTED:jwt:0123abcd] stays" in answer["output"]

    event = logged(daemon, answer["event_seq"])
    assert (event["kind"], event["session"], event["actor"]) == (
        "tool.result",
        "s-out",
        "claude-code",
    )
    payload = event["payload"]
    assert payload["status"] == "succeeded" and payload["tool_use_id"] == "tu-1"
    assert payload["tool"] == "Read" and payload["action"] == "fs.read"
    assert payload["output_chars"] == len(output)
    assert (payload["redacted_labels"], payload["redacted_count"]) == (["github-token"], 1)
    assert len(payload["input_sha256"]) == 64
    text = json.dumps(event)
    assert TOKEN not in text and "line one" not in text and "output" not in payload

    clean = daemon.request("POST", "/tool-results", result("s-out", "failed", output="all fine"))
    assert (clean["output"], clean["redacted"]) == ("all fine", False)
    bare = daemon.request("POST", "/tool-results", result("s-out", "not_run"))
    assert (bare["output"], bare["redacted"]) == (None, False)
    assert logged(daemon, bare["event_seq"])["payload"]["output_chars"] is None


def test_user_redaction_patterns_apply_to_output_and_audit(daemon: Client) -> None:
    secret = "acme-314159"
    answer = daemon.request(
        "POST", "/tool-results", result("s-user", "succeeded", output=f"key {secret} end")
    )
    assert answer["redacted"] is True and secret not in answer["output"]
    assert answer["output"].startswith("key [REDACTED:custom:")
    decided = daemon.request(
        "POST", "/decide", tool_call("s-user", tool_name="Bash", tool_input={"command": secret})
    )
    assert secret not in json.dumps(logged(daemon, decided["event_seq"]))


def test_a_credential_read_that_ran_taints_the_session(
    daemon_process: DaemonProcess,  # noqa: F811 - the module's fixture, imported above
) -> None:
    with daemon_process.client() as client:
        # Did not run, or failed: nothing was read.
        client.request("POST", "/tool-results", result("s-ran", "not_run"))
        client.request("POST", "/tool-results", result("s-ran", "failed", output="denied"))
        assert client.request("POST", "/decide", tool_call("s-ran", **FETCH))["verdict"] == "ask"

        ran = client.request("POST", "/tool-results", result("s-ran", "succeeded", output="X=1"))
        taint = client.request("GET", f"/audit/events/{ran['event_seq'] + 1}")
        assert (taint["kind"], taint["session"]) == ("session.tainted", "s-ran")
        assert taint["payload"]["tool_result_seq"] == ran["event_seq"]
        assert taint["payload"]["sources"] == [".env:/tmp/project/.env"]
        fetch = client.request("POST", "/decide", tool_call("s-ran", **FETCH))
        assert fetch["verdict"] == "deny" and fetch["rule_id"].startswith("flow:credential")
    # The taint is durable: a restarted daemon still knows.
    daemon_process.stop()
    with daemon_process.start().client() as client:
        again = client.request("POST", "/decide", tool_call("s-ran", **FETCH))
        assert again["verdict"] == "deny" and again["rule_id"].startswith("flow:credential")


def test_a_denied_credential_read_that_ran_anyway_taints_the_session(daemon: Client) -> None:
    # A harness that ignored the deny (or a policy changed in between) reports that it ran.
    session = "s-denied-ran"
    key_read = {"tool_name": "Read", "tool_input": {"file_path": SSH_KEY}, "agent": LOCKED}
    fetch = tool_call(session, agent=LOCKED, **FETCH)
    denied = daemon.request("POST", "/decide", tool_call(session, **key_read))
    assert (denied["verdict"], denied["rule_id"]) == ("deny", "guard:credential-read")
    assert not daemon.request("POST", "/decide", fetch)["rule_id"].startswith("flow:")

    for status in ("not_run", "failed"):
        daemon.request("POST", "/tool-results", result(session, status, key_read))
    assert not daemon.request("POST", "/decide", fetch)["rule_id"].startswith("flow:")
    taints = {"kind": "session.tainted", "session": session}
    assert daemon.request("GET", "/audit/events", query=taints)["events"] == []

    ran = daemon.request("POST", "/tool-results", result(session, "succeeded", key_read))
    taint = logged(daemon, ran["event_seq"] + 1)
    assert (taint["kind"], taint["session"]) == ("session.tainted", session)
    assert taint["payload"] == {
        "harness": "claude-code",
        "sources": [f".ssh/**:{os.path.realpath(SSH_KEY)}"],
        "tool_result_seq": ran["event_seq"],
    }
    blocked = daemon.request("POST", "/decide", fetch)
    assert (blocked["verdict"], blocked["rule_id"]) == ("deny", "flow:credential-then-network")
    # Another session is not affected.
    other = daemon.request("POST", "/decide", tool_call("s-other", agent=LOCKED, **FETCH))
    assert not other["rule_id"].startswith("flow:")


HARMLESS_READ = {"tool_name": "Read", "tool_input": {"file_path": "/tmp/project/notes.txt"}}
CURL = {"tool_name": "Bash", "tool_input": {"command": "curl -s https://example.com/"}}


def test_a_secret_in_the_output_of_a_harmless_read_taints_the_session(
    daemon_process: DaemonProcess,  # noqa: F811 - the module's fixture, imported above
) -> None:
    session, calm = "s-content", "s-markers"
    with daemon_process.client() as client:
        assert client.request("POST", "/decide", tool_call(session, **FETCH))["verdict"] == "ask"
        # Output of a call that did not run taints nothing; nor do markers of an earlier redaction.
        notes = f"notes\nGH {TOKEN}\n"
        client.request("POST", "/tool-results", result(session, "not_run", HARMLESS_READ))
        marked = "[REDACTED:github-token:0123abcd] and [REDACTED:secret:DB:89abcdef]"
        client.request(
            "POST", "/tool-results", result(calm, "succeeded", HARMLESS_READ, output=marked)
        )
        assert client.request("POST", "/decide", tool_call(calm, **FETCH))["verdict"] == "ask"

        ran = client.request(
            "POST", "/tool-results", result(session, "succeeded", HARMLESS_READ, output=notes)
        )
        assert ran["redacted"] is True and TOKEN not in ran["output"]
        taint = logged(client, ran["event_seq"] + 1)
        assert (taint["kind"], taint["session"]) == ("session.tainted", session)
        assert taint["payload"]["sources"] == ["content:github-token"]
        for call in (FETCH, CURL):
            blocked = client.request("POST", "/decide", tool_call(session, **call))
            assert (blocked["verdict"], blocked["rule_id"]) == (
                "deny",
                "flow:credential-then-network",
            )
            assert TOKEN not in json.dumps(blocked)
    assert TOKEN not in daemon_process.log()


MALFORMED: list[dict[str, Any]] = [
    {"status": "ok"},
    {"status": None},
    {"status": "succeeded", "output": 42},
    {"status": "succeeded", "output": "x" * (512 * 1024 + 1)},
    {"status": "succeeded", "tool_use_id": ""},
    {"status": "succeeded", "stdout": "x"},
    {"status": "succeeded", "hold_s": 5},
]


def test_malformed_results_are_rejected(daemon: Client) -> None:
    for extra in MALFORMED:
        with pytest.raises(ApiError) as rejected:
            daemon.request("POST", "/tool-results", result("s-bad", **extra))
        assert (rejected.value.status, rejected.value.code) == (422, "invalid_request"), extra
    events = daemon.request("GET", "/audit/events", query={"session": "s-bad"})["events"]
    assert events == []
    # The largest output allowed is taken.
    biggest = result("s-big", "succeeded", output="x" * (512 * 1024))
    assert daemon.request("POST", "/tool-results", biggest)["redacted"] is False
