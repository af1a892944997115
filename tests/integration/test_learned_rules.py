""" "Always" answers, learned rules and held-call notifications, on a real daemon and CLI.

``notify-send`` is replaced by a script on the daemon's ``PATH`` that records its
arguments: the real one needs a desktop notification service (D-Bus and a
notification daemon), which a headless test machine does not run. What is tested is
what Stockade controls: that it runs the command, with what text, and never with the
call's input.
"""

from __future__ import annotations

import json
import os
import stat
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from tests.daemon_support import DaemonProcess, tool_call
from tests.integration.test_approvals import cli, events_of, wait_pending

from stockade.client import ApiError
from stockade.home import Home

pytestmark = pytest.mark.integration

COMMAND = "curl -s https://api.example.com/data"
CURL = {"tool_name": "Bash", "tool_input": {"command": COMMAND}}
NOTIFY_SEND = """#!/bin/sh
printf '%s\\0' "$@" > "$NOTIFY_LOG.tmp" && mv "$NOTIFY_LOG.tmp" "$NOTIFY_LOG.$$"
"""


@pytest.fixture
def notify_log(tmp_path: Path) -> Path:
    return tmp_path / "notify"


@pytest.fixture
def daemon_process(
    spawn_daemon: Callable[..., DaemonProcess], tmp_path: Path, notify_log: Path
) -> DaemonProcess:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "notify-send"
    script.write_text(NOTIFY_SEND)
    script.chmod(stat.S_IRWXU)
    env = {"PATH": f"{bin_dir}:{os.environ['PATH']}", "NOTIFY_LOG": str(notify_log)}
    return spawn_daemon(env=env)


@pytest.fixture
def pool() -> Iterator[ThreadPoolExecutor]:
    with ThreadPoolExecutor(max_workers=2) as executor:
        yield executor


def _hold(
    pool: ThreadPoolExecutor, process: DaemonProcess, session: str, call: dict[str, Any]
) -> Future[dict[str, Any]]:
    body = {**tool_call(session, **call), "hold_s": 20}

    def decide() -> dict[str, Any]:
        with process.client(timeout=30) as client:
            answer: dict[str, Any] = client.request("POST", "/decide", body)
            return answer

    return pool.submit(decide)


def _notifications(notify_log: Path, count: int) -> list[list[str]]:
    deadline = time.monotonic() + 5
    while True:
        found = sorted(notify_log.parent.glob(f"{notify_log.name}.[0-9]*"))
        if len(found) >= count or time.monotonic() > deadline:
            return [path.read_text().split("\0")[:-1] for path in found]
        time.sleep(0.02)


def test_always_learns_a_narrow_rule_that_can_be_listed_and_revoked(
    daemon_process: DaemonProcess, home: Home, pool: ThreadPoolExecutor, notify_log: Path
) -> None:
    with daemon_process.client() as daemon:
        answer = _hold(pool, daemon_process, "s-always", CURL)
        pending = wait_pending(daemon, "s-always")
        assert (pending["zone"], pending["severity"]) == ("network", "warn")

        # The person was told: the tool, the id and how to answer; never the input.
        ((*flags, title, text),) = _notifications(notify_log, 1)
        assert "--urgency=normal" in flags and title.startswith("Stockade: Bash is waiting")
        assert f"stockade approvals approve {pending['id']}" in text
        assert "api.example.com" not in title + text

        # A scope that does not cover the call is refused, and the approval stays pending.
        with pytest.raises(ApiError) as wide:
            daemon.request(
                "POST", f"/approvals/{pending['id']}/always", {"scope": {"command": "wget"}}
            )
        assert (wide.value.status, wide.value.code) == (422, "no_narrow_rule")
        with pytest.raises(ApiError) as misplaced:
            daemon.request(
                "POST", f"/approvals/{pending['id']}/approve", {"scope": {"command": "curl"}}
            )
        assert misplaced.value.status == 422
        assert daemon.request("GET", f"/approvals/{pending['id']}")["status"] == "pending"

        approved = cli(home, "approvals", "approve", pending["id"], "--always", "--json")
        assert approved.returncode == 0, approved.stderr
        resolved = json.loads(approved.stdout)
        rule_id = resolved["learned_rule"]
        assert resolved["status"] == "approved" and rule_id.startswith("always-")
        assert answer.result(5)["verdict"] == "allow"

        (event,) = events_of(daemon, "s-always", "permission.resolved")
        assert event["payload"]["resolution"] == "always" and event["actor"] == "cli"
        learned = event["payload"]["learned_rule"]
        assert learned["id"] == rule_id and learned["project_root"] == "/tmp/project"
        assert learned["rules"][0] | {"reason": "-"} == {
            "verdict": "allow",
            "tool": "Bash",
            "command": COMMAND,
            "exact_command": True,
            "reason": "-",
        }

        # The same call in another session is now allowed without asking; others still ask.
        again = daemon.request("POST", "/decide", tool_call("s-next", **CURL))
        assert (again["verdict"], again["rule_id"]) == ("allow", f"rule:{rule_id}")
        other = {"tool_name": "Bash", "tool_input": {"command": "curl -s https://x.example.org"}}
        assert daemon.request("POST", "/decide", tool_call("s-next", **other))["verdict"] == "ask"

        listed = cli(home, "rules", "list", "--json")
        assert [entry["id"] for entry in json.loads(listed.stdout)["rules"]] == [rule_id]
        table = cli(home, "rules", "list")
        assert rule_id in table.stdout and "api.example.com" in table.stdout
        assert stat.S_IMODE(os.stat(home.rules_path).st_mode) == 0o600

        revoked = cli(home, "rules", "revoke", rule_id)
        assert revoked.returncode == 0 and f"revoked {rule_id}" in revoked.stdout
        assert daemon.request("POST", "/decide", tool_call("s-last", **CURL))["verdict"] == "ask"
        assert daemon.request("GET", "/rules") == {"rules": []}
        gone = cli(home, "rules", "revoke", rule_id)
        assert gone.returncode == 1 and "no learned rule" in gone.stderr
        revocations = daemon.request("GET", "/audit/events", query={"kind": "rule.revoked"})
        (logged,) = revocations["events"]
        assert logged["payload"]["rule"]["id"] == rule_id and logged["actor"] == "cli"


def test_always_preview_is_the_rule_it_records_and_records_nothing(
    daemon_process: DaemonProcess, home: Home, pool: ThreadPoolExecutor
) -> None:
    """What the UI and `approvals approve --always --dry-run` show is the daemon's own
    rule for the call, not a guess made beside it: the same rules an "always" then records."""
    compound = {
        "tool_name": "Bash",
        "tool_input": {"command": f"git status && {COMMAND} > data.json"},
    }
    with daemon_process.client() as daemon:
        answer = _hold(pool, daemon_process, "s-preview", compound)
        pending = wait_pending(daemon, "s-preview")
        preview_path = f"/approvals/{pending['id']}/always/preview"
        deadline = time.monotonic() + 5
        while not events_of(daemon, "s-preview", "permission.request"):  # held, then audited
            assert time.monotonic() < deadline
            time.sleep(0.02)
        head = daemon.request("GET", "/audit/head")

        exact = daemon.request("POST", preview_path, {})
        assert exact["approval_id"] == pending["id"]
        assert (exact["tool_name"], exact["project_root"]) == ("Bash", "/tmp/project")
        assert len(exact["rules"]) >= 2, exact  # each command of the line is its own rule
        assert {rule.get("command") for rule in exact["rules"]} >= {"git status", COMMAND}
        assert {rule.get("path") for rule in exact["rules"]} >= {"/tmp/project/data.json"}, exact
        scoped = daemon.request("POST", preview_path, {"scope": {"path": "/tmp/project/*.json"}})
        assert {rule.get("path") for rule in scoped["rules"]} >= {"/tmp/project/*.json"}, scoped
        # A prefix must cover every command of the line, which a look at the line can miss.
        with pytest.raises(ApiError) as wide:
            daemon.request("POST", preview_path, {"scope": {"command": "curl -s"}})
        assert (wide.value.status, wide.value.code) == (422, "no_narrow_rule")
        assert "does not cover" in wide.value.message
        with pytest.raises(ApiError) as unknown:
            daemon.request("POST", "/approvals/00000000/always/preview", {})
        assert unknown.value.status == 404
        with pytest.raises(ApiError) as extra:
            daemon.request("POST", preview_path, {"note": "previews take no note"})
        assert extra.value.status == 422

        dry = cli(home, "approvals", "approve", pending["id"], "--always", "--dry-run")
        assert dry.returncode == 0, dry.stderr
        assert "allow command git status (exactly)" in dry.stdout
        assert "nothing recorded" in dry.stderr
        always = ("approvals", "approve", pending["id"], "--always")
        dry_json = cli(home, *always, "--dry-run", "--path", "/tmp/project/*.json", "--json")
        assert all("always allowed by api" in rule["reason"] for rule in scoped["rules"])
        by_cli = [
            rule | {"reason": rule["reason"].replace("by api", "by cli")}
            for rule in scoped["rules"]
        ]
        assert json.loads(dry_json.stdout)["rules"] == by_cli  # the reason names the resolver
        misused = cli(home, "approvals", "approve", pending["id"], "--dry-run")
        assert misused.returncode != 0 and "go with --always" in misused.stderr

        # Nothing was recorded or answered by any of that.
        assert daemon.request("GET", "/audit/head") == head
        assert daemon.request("GET", "/rules") == {"rules": []}
        assert daemon.request("GET", f"/approvals/{pending['id']}")["status"] == "pending"

        # The answer records exactly what was previewed (by the same resolver).
        daemon.request(
            "POST", f"/approvals/{pending['id']}/always", {"scope": {"path": "/tmp/project/*.json"}}
        )
        assert answer.result(5)["verdict"] == "allow"
        [learned] = daemon.request("GET", "/rules")["rules"]
        assert learned["rules"] == scoped["rules"]
        with pytest.raises(ApiError) as answered:
            daemon.request("POST", preview_path, {})
        assert (answered.value.status, answered.value.code) == (409, "not_pending")


def test_always_never_learns_a_secret(
    daemon_process: DaemonProcess, home: Home, pool: ThreadPoolExecutor
) -> None:
    token = "ghp_" + "S3cr3t" * 6
    leaky = {"tool_name": "Bash", "tool_input": {"command": f"git push https://x:{token}@h/r"}}
    with daemon_process.client() as daemon:
        answer = _hold(pool, daemon_process, "s-leaky", leaky)
        pending = wait_pending(daemon, "s-leaky")
        assert token not in json.dumps(pending)
        with pytest.raises(ApiError) as refused:
            daemon.request("POST", f"/approvals/{pending['id']}/always")
        assert (refused.value.status, refused.value.code) == (422, "no_narrow_rule")
        assert "secret" in refused.value.message and token not in refused.value.message
        # A prefix that leaves the secret out is fine.
        scoped = {"scope": {"command": "git push"}}
        daemon.request("POST", f"/approvals/{pending['id']}/always", scoped)
        assert answer.result(timeout=20)["verdict"] == "allow"
        assert token not in json.dumps(daemon.request("GET", "/rules"))
    assert token not in home.rules_path.read_text()


def test_learned_rules_survive_a_restart_and_a_reload(
    daemon_process: DaemonProcess, pool: ThreadPoolExecutor, home: Home
) -> None:
    with daemon_process.client() as daemon:
        answer = _hold(pool, daemon_process, "s-keep", CURL)
        pending = wait_pending(daemon, "s-keep")
        daemon.request("POST", f"/approvals/{pending['id']}/always", {"note": "our API"})
        assert answer.result(5)["verdict"] == "allow"
        daemon.request("POST", "/reload")
        assert daemon.request("POST", "/decide", tool_call("s-r", **CURL))["verdict"] == "allow"
    daemon_process.stop()
    listed = cli(home, "rules", "list", "--json")  # the daemon is down: read from the file
    (entry,) = json.loads(listed.stdout)["rules"]
    assert entry["note"] == "our API" and entry["by"] == "api"
    daemon_process.start()
    with daemon_process.client() as daemon:
        assert daemon.request("POST", "/decide", tool_call("s-r2", **CURL))["verdict"] == "allow"


def test_a_broken_rules_file_stops_the_daemon_naming_it(
    spawn_daemon: Callable[..., DaemonProcess], home: Home
) -> None:
    home.rules_path.write_text('{"version": 1, "rules": [{"id": 1}]}')
    home.rules_path.chmod(0o600)
    process = spawn_daemon(start=False)
    with pytest.raises(RuntimeError) as refused:
        process.start()
    assert f"{home.rules_path}: rules.0.id" in str(refused.value)


def test_the_resolver_is_named_by_the_client_header(
    daemon_process: DaemonProcess, pool: ThreadPoolExecutor
) -> None:
    with daemon_process.client() as daemon:
        for session, client_name, by in (("s-ui", "ui", "ui"), ("s-x", "mallory", "api")):
            answer = _hold(pool, daemon_process, session, CURL)
            pending = wait_pending(daemon, session)
            headers = {"Stockade-Client": client_name}
            daemon.request("POST", f"/approvals/{pending['id']}/deny", {}, headers=headers)
            assert answer.result(5)["verdict"] == "deny"
            (event,) = events_of(daemon, session, "permission.resolved")
            assert (event["payload"]["by"], event["payload"]["resolution"]) == (by, "denied")
