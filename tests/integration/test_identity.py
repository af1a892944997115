"""The identity with a real daemon and the real CLI: refusal of an exposed key, rotation."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
from collections.abc import Callable
from typing import Any

import pytest
from tests.daemon_support import DaemonProcess, tool_call
from tests.integration.conftest import RawRequest
from tests.integration.test_checkpoints import cli, verify

from stockade.audit.checkpoints import read_all
from stockade.home import Home
from stockade.identity import IdentityFiles
from stockade.identity.rotation import rotation_keys

pytestmark = pytest.mark.integration


def _doctor(home: Home, *args: str) -> tuple[int, dict[str, Any]]:
    result = cli(home, "doctor", "--json", *args)
    return result.returncode, json.loads(result.stdout)


def test_a_world_readable_key_stops_the_daemon_until_doctor_fixes_it(
    home: Home, spawn_daemon: Callable[..., DaemonProcess]
) -> None:
    first = spawn_daemon()
    shown = json.loads(cli(home, "identity", "show", "--json").stdout)
    first.stop()
    files = IdentityFiles(home)
    os.chmod(files.private_path, 0o644)  # noqa: S103  (the unsafe state under test)

    with pytest.raises(RuntimeError) as refused:
        spawn_daemon()
    assert "daemon exited 3" in str(refused.value)
    assert f"chmod 600 {files.private_path}" in str(refused.value)

    code, report = _doctor(home)
    statuses = {check["id"]: check for check in report["checks"]}
    assert code == 1 and statuses["home.perms"]["status"] == "fail"
    assert statuses["identity.key"]["status"] == "fail"
    assert "doctor --fix" in statuses["identity.key"]["fix"]

    code, report = _doctor(home, "--fix")
    assert f"chmod 0600 {files.private_path}" in report["fixed"]
    assert stat.S_IMODE(os.stat(files.private_path).st_mode) == 0o600
    assert {c["id"]: c["status"] for c in report["checks"]}["identity.key"] == "ok"
    spawn_daemon()  # starts again, with the same identity
    assert json.loads(cli(home, "identity", "show", "--json").stdout) == shown


def test_rotation_through_the_daemon_and_offline(
    home: Home, spawn_daemon: Callable[..., DaemonProcess], raw_request: RawRequest
) -> None:
    daemon = spawn_daemon()
    with daemon.client() as client:
        client.request("POST", "/decide", tool_call())
        before = client.request("GET", "/identity")["current"]["fingerprint"]
    refused = cli(home, "identity", "rotate")
    assert refused.returncode == 2 and "--yes" in refused.stderr
    json_type = {"content-type": "application/json"}
    status, body = raw_request("POST", "/api/v1/identity/rotate", b"{}", json_type)
    assert status == 400 and body["error"]["code"] == "confirmation_required"
    status, body = raw_request("POST", "/api/v1/identity/rotate", b'{"confirm": "yes"}', json_type)
    assert status == 422
    assert IdentityFiles(home).keyring().current.fingerprint == before  # type: ignore[union-attr]

    rotated = json.loads(cli(home, "identity", "rotate", "--yes", "--json").stdout)
    assert rotated["old_fingerprint"] == before != rotated["new_fingerprint"]
    with daemon.client() as client:
        client.request("POST", "/decide", tool_call())
        event = client.request("GET", f"/audit/events/{rotated['event_seq']}")
    assert event["kind"] == "identity.rotated" and event["actor"] == "cli"
    old, new = rotation_keys(event["payload"])  # both signatures verify
    assert (old.fingerprint, new.fingerprint) == (before, rotated["new_fingerprint"])
    daemon.stop()

    offline = json.loads(cli(home, "identity", "rotate", "--yes", "--json").stdout)
    assert offline["old_fingerprint"] == rotated["new_fingerprint"]
    shown = json.loads(cli(home, "identity", "show", "--json").stdout)
    assert shown["current"]["fingerprint"] == offline["new_fingerprint"]
    assert [key["fingerprint"] for key in shown["retired"]] == [before, offline["old_fingerprint"]]

    with sqlite3.connect(home.audit_path) as conn:
        signers = {checkpoint.seq: checkpoint.fingerprint for checkpoint in read_all(conn)}
    assert signers[1] == before  # signed before the rotation, still verifies below
    assert signers[rotated["event_seq"]] == rotated["new_fingerprint"]
    assert signers[offline["event_seq"]] == offline["new_fingerprint"]
    code, report = verify(home)
    assert code == 0 and report["checkpoints"]["checked"] == len(signers), report
    text = cli(home, "identity", "show")
    assert offline["new_fingerprint"] in text.stdout and before in text.stdout
