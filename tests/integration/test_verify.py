"""``stockade verify`` end to end: a real daemon writes the home, the real CLI checks it.

One daemon run builds the home (checkpoints every 5 events, a config reload, a clean
stop) and checks ``verify`` beside the running daemon; each tamper test then edits a
copy of that home as an attacker with write access to its files would (the tamperings
of ``test_checkpoints``), and ``stockade verify --json`` must exit 6 naming the check.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from tests.daemon_support import DaemonProcess, tool_call
from tests.integration.test_approvals import wait_pending
from tests.integration.test_checkpoints import (
    EVERY,
    _edit_payload,
    _rehash_from,
    _resign,
    cli,
    copy_home,
    cut_tail,
    deleted_event,
    edited_event,
    rebuilt_chain,
)
from tests.integration.test_learned_rules import CURL, _hold

from stockade.home import Home
from stockade.identity import IdentityFiles, KnownKey, SigningKey
from stockade.verify.runner import CHECKS

pytestmark = pytest.mark.integration

DRIFT = 6
CONFIG = f"[audit]\ncheckpoint_every_events = {EVERY}\n"
OURS = ["home", "audit.chain", "audit.checkpoints", "config.recorded", "rules.recorded"]


def verify(home: Home, *args: str) -> tuple[int, dict[str, Any]]:
    """``stockade verify --json``: its exit code and its checks by name."""
    result = cli(home, "verify", "--json", *args)
    report = json.loads(result.stdout)
    assert report["ok"] is (result.returncode == 0), result
    return result.returncode, {check["name"]: check for check in report["checks"]}


def drifted(checks: dict[str, Any]) -> dict[str, list[dict[str, str]]]:
    return {name: check["drifts"] for name, check in checks.items() if not check["ok"]}


@pytest.fixture(scope="module")
def verified_home(tmp_path_factory: pytest.TempPathFactory) -> tuple[Home, dict[str, Any]]:
    """A home whose daemon decided 12 calls, learned a rule and reloaded; an anchor at seq 7.

    While the daemon runs, verify passes, catches stockade.toml edited without a reload,
    and passes again once it is reloaded.
    """
    root = tmp_path_factory.mktemp("verified")
    home = Home(root / "home")
    home.ensure()
    home.config_path.write_text(CONFIG)
    home.config_path.chmod(0o600)
    daemon = DaemonProcess(home, root / "daemon.log").start()
    try:
        with daemon.client() as client:
            for n in range(12):
                client.request("POST", "/decide", tool_call(f"s-{n % 3}"))
                if n == 5:
                    anchor = json.loads(cli(home, "audit", "anchor", "--json").stdout)
            with ThreadPoolExecutor(max_workers=1) as pool:
                answer = _hold(pool, daemon, "s-always", CURL)
                pending = wait_pending(client, "s-always")
                client.request("POST", f"/approvals/{pending['id']}/always", {})
                assert answer.result(10)["verdict"] == "allow"
        code, checks = verify(home)
        assert code == 0 and list(checks)[: len(OURS)] == OURS and len(checks) == len(CHECKS)
        assert checks["rules.recorded"]["detail"] == "1 rule(s)"
        home.config_path.write_text(CONFIG + "# edited while the daemon runs\n")
        code, checks = verify(home)
        (drift,) = drifted(checks)["config.recorded"]
        assert code == DRIFT and "stockade reload" in drift["repair"], drift
        home.config_path.write_text("[audit\n")  # a reload that fails keeps the old policy
        assert cli(home, "reload").returncode == 2
        (drift,) = drifted(verify(home)[1])["config.recorded"]
        assert "failed" in drift["problem"], drift
        home.config_path.write_text(CONFIG + "# edited while the daemon runs\n")
        assert cli(home, "reload").returncode == 0
        assert verify(home)[0] == 0
    finally:
        daemon.stop()
    assert daemon.wait() == 0
    return home, anchor


@pytest.fixture
def copy(verified_home: tuple[Home, dict[str, Any]], tmp_path: Path) -> Home:
    return copy_home(verified_home[0], tmp_path)


def test_a_clean_home_verifies(verified_home: tuple[Home, Any], tmp_path: Path) -> None:
    home, anchor = verified_home
    kept = tmp_path / "anchor.json"
    kept.write_text(json.dumps(anchor))
    code, checks = verify(home, "--anchor", str(kept))
    assert code == 0 and checks["audit.anchor"]["ok"], checks
    assert checks["audit.chain"]["detail"].startswith(f"{_events(home)} events")

    text = cli(home, "verify")
    assert text.returncode == 0, text.stderr
    for name in OURS:
        assert f"✓ {name}" in text.stdout
    assert f"no drift: {len(CHECKS)} checks passed" in text.stdout


def _events(home: Home) -> int:
    code, checks = verify(home)
    return int(checks["audit.chain"]["detail"].split("#")[1])


@pytest.mark.parametrize(
    ("tamper", "check", "also"),
    [
        (edited_event, "audit.chain", set()),
        (deleted_event, "audit.chain", set()),
        # the cut took the config.reloaded event with it: the edited file is unrecorded again
        (cut_tail, "audit.checkpoints", {"config.recorded"}),
        (rebuilt_chain, "audit.checkpoints", set()),
    ],
)
def test_audit_tampering_is_drift(
    copy: Home, tamper: Callable[[Home], tuple[str, int]], check: str, also: set[str]
) -> None:
    _, seq = tamper(copy)
    code, checks = verify(copy)
    found = drifted(checks)
    assert code == DRIFT and set(found) == {check, *also}, found
    first = found[check][0]
    assert f"seq {seq}" in first["subject"] or f"event {seq}" == first["subject"], first
    assert str(copy.audit_path) in first["repair"]


def test_an_exposed_or_mismatched_identity_key_is_drift(copy: Home) -> None:
    private = IdentityFiles(copy).private_path
    os.chmod(private, 0o644)  # noqa: S103  (the unsafe state under test)
    code, checks = verify(copy)
    (drift,) = drifted(checks)["home"]
    assert code == DRIFT and drift["subject"] == str(private)
    assert f"chmod 600 {private}" in drift["repair"] and "identity rotate" in drift["repair"]

    text = cli(copy, "verify")
    assert text.returncode == DRIFT and "✗ home" in text.stdout and "repair:" in text.stdout
    assert f"drift: 1 finding(s) in 1 of {len(CHECKS)} checks" in text.stdout

    os.chmod(private, 0o600)
    files = IdentityFiles(copy)
    files.public_path.write_text(json.dumps(KnownKey(SigningKey.generate().public, None).to_json()))
    code, checks = verify(copy)
    (drift,) = drifted(checks)["home"]
    assert code == DRIFT and drift["subject"] == str(files.public_path), drift
    assert "not the private key's" in drift["problem"]


def test_a_config_edited_without_reload_is_drift(copy: Home) -> None:
    copy.config_path.write_text(CONFIG + "# edited while the daemon was stopped\n")
    code, checks = verify(copy)
    assert code == DRIFT and list(drifted(checks)) == ["config.recorded"]
    copy.config_path.unlink()  # no file: the daemon would record the hash of nothing
    assert verify(copy)[0] == DRIFT


def test_a_learned_rule_added_or_edited_by_hand_is_drift(copy: Home) -> None:
    document = json.loads(copy.rules_path.read_text())
    (learned,) = document["rules"]
    learned["rules"][0]["command"] = "curl"  # widen the recorded rule ...
    smuggled = {**learned, "id": "always-0badc0de"}  # ... and add one nobody answered for
    document["rules"].append(smuggled)
    copy.rules_path.write_text(json.dumps(document))
    code, checks = verify(copy)
    found = drifted(checks)
    assert code == DRIFT and list(found) == ["rules.recorded"], found
    assert [drift["subject"] for drift in found["rules.recorded"]] == [
        learned["id"],
        "always-0badc0de",
    ]
    assert "never recorded" in found["rules.recorded"][1]["problem"]
    assert "stockade rules revoke always-0badc0de" in found["rules.recorded"][1]["repair"]


def test_verify_after_rotation_and_against_an_anchor(
    copy: Home, verified_home: tuple[Home, dict[str, Any]], tmp_path: Path
) -> None:
    assert cli(copy, "identity", "rotate", "--yes").returncode == 0
    code, checks = verify(copy)
    assert code == 0 and "1 retired key" in checks["audit.checkpoints"]["detail"], checks

    # whoever holds the key can rebuild and re-sign the log: only a kept anchor shows it
    seq = verified_home[1]["seq"]
    kept = tmp_path / "anchor.json"
    kept.write_text(json.dumps(verified_home[1]))
    _edit_payload(copy, seq - 1)
    _rehash_from(copy, seq - 1)
    _resign(copy, IdentityFiles(copy).load_signing_key())
    assert verify(copy)[0] == 0
    code, checks = verify(copy, "--anchor", str(kept))
    assert code == DRIFT and list(drifted(checks)) == ["audit.anchor"]


def test_a_damaged_or_missing_log_and_a_bad_anchor(copy: Home, tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.json"
    garbage.write_text('{"seq": "x"}')
    bad = cli(copy, "verify", "--anchor", str(garbage))
    assert bad.returncode == 2 and "anchor" in bad.stderr and "Traceback" not in bad.stderr

    # a damaged file is drift that names it, never a crash nor a pass
    copy.audit_path.write_bytes(b"not a database" * 100)
    for name in ("audit.db-wal", "audit.db-shm"):
        (copy.root / name).unlink(missing_ok=True)
    copy.rules_path.write_text('{"version": 1, "rules": [{"id": 1}]}')
    code, checks = verify(copy)
    found = drifted(checks)
    assert code == DRIFT and set(found) >= {"audit.chain", "config.recorded", "rules.recorded"}
    assert all(d[0]["problem"].startswith("could not be checked") for d in found.values())
    assert "rules.json: rules.0.id" in found["rules.recorded"][0]["problem"]

    copy.audit_path.unlink()
    copy.rules_path.unlink()
    code, checks = verify(copy)
    assert code == DRIFT and list(drifted(checks)) == ["audit.chain"], checks
    missing = cli(copy, "--home", str(tmp_path / "nowhere"), "verify")
    assert missing.returncode == 1 and "no Stockade home" in missing.stderr
