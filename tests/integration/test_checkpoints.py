"""Signed checkpoints end to end: a real daemon signs, the real CLI verifies, tampering shows.

One daemon run builds a log (checkpoints every 5 events, a clean stop); each tamper
test edits a copy of that home the way an attacker with write access to the files
would, and ``stockade audit verify --json`` must name the failing check and seq.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tests.daemon_support import DaemonProcess, tool_call

from stockade.audit.chain import event_hash
from stockade.audit.checkpoints import read_all, sign_head
from stockade.audit.events import ChainHead
from stockade.home import Home
from stockade.identity import IdentityFiles, SigningKey

pytestmark = pytest.mark.integration

STOCKADE = str(Path(sys.executable).with_name("stockade"))
EVERY = 5


def cli(home: Home, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "STOCKADE_HOME": str(home.root)}
    return subprocess.run(
        [STOCKADE, *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )


def verify(home: Home, *args: str) -> tuple[int, dict[str, Any]]:
    result = cli(home, "audit", "verify", "--json", *args)
    return result.returncode, json.loads(result.stdout)


def rows(home: Home, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    with sqlite3.connect(home.audit_path) as conn:
        return conn.execute(sql, args).fetchall()


def execute(home: Home, *statements: tuple[str, tuple[Any, ...]]) -> None:
    conn = sqlite3.connect(home.audit_path, isolation_level=None)
    try:
        for sql, args in statements:
            conn.execute(sql, args)
    finally:
        conn.close()


@pytest.fixture(scope="module")
def signed_home(tmp_path_factory: pytest.TempPathFactory) -> tuple[Home, dict[str, Any]]:
    """A home whose daemon made 12 decisions and stopped cleanly; plus an anchor kept at seq 7."""
    root = tmp_path_factory.mktemp("signed")
    home = Home(root / "home")
    home.ensure()
    home.config_path.write_text(f"[audit]\ncheckpoint_every_events = {EVERY}\n")
    home.config_path.chmod(0o600)
    daemon = DaemonProcess(home, root / "daemon.log").start()
    try:
        with daemon.client() as client:
            for n in range(12):
                client.request("POST", "/decide", tool_call(f"s-{n % 3}"))
                if n == 5:
                    anchor = json.loads(cli(home, "audit", "anchor", "--json").stdout)
            report = client.request("POST", "/audit/verify", {})
        assert report["ok"] and report["checkpoints"]["checked"] >= 3, report
    finally:
        daemon.stop()
    assert daemon.wait() == 0
    return home, anchor


def copy_home(source: Home, tmp_path: Path) -> Home:
    """A copy of ``source`` to tamper with (the module's home stays intact for the next test)."""
    home = Home(tmp_path / "copy")
    shutil.copytree(source.root, home.root)
    return home


@pytest.fixture
def copy(signed_home: tuple[Home, dict[str, Any]], tmp_path: Path) -> Home:
    return copy_home(signed_home[0], tmp_path)


def test_a_clean_log_verifies_with_every_checkpoint(signed_home: tuple[Home, Any]) -> None:
    home, anchor = signed_home
    kinds = [kind for (kind,) in rows(home, "SELECT kind FROM events ORDER BY seq")]
    assert kinds[0] == "daemon.started" and kinds[-1] == "daemon.stopped"
    last = len(kinds)
    signed = [seq for (seq,) in rows(home, "SELECT seq FROM checkpoints ORDER BY seq")]
    # the first commit, every EVERY events, and daemon.stopped (signed after it was durable)
    assert signed[0] == 1 and signed[-1] == last
    assert all(b - a <= EVERY for a, b in zip(signed, signed[1:], strict=False))
    fingerprint = IdentityFiles(home).keyring().current
    assert fingerprint is not None
    started = json.loads(rows(home, "SELECT payload FROM events WHERE seq = 1")[0][0])
    assert started["identity"] == fingerprint.fingerprint

    code, report = verify(home, "--anchor", _write(home.root.parent / "a.json", anchor))
    assert code == 0 and report["ok"], report
    assert report["checkpoints"] == {"checked": len(signed), "newest_seq": last, "unsigned_tail": 0}
    assert report["anchor"]["seq"] == anchor["seq"]
    text = cli(home, "audit", "verify")
    assert text.returncode == 0 and f"{len(signed)} signed checkpoints verified" in text.stdout


def _write(path: Path, data: Any) -> str:
    path.write_text(json.dumps(data))
    return str(path)


def _rehash_from(home: Home, start: int) -> None:
    """Recompute every hash from ``start`` on: what an attacker without the key can do."""
    events = rows(home, "SELECT * FROM events WHERE seq >= ? ORDER BY seq", start)
    (prev,) = rows(home, "SELECT hash FROM events WHERE seq = ?", start - 1)[0]
    updates = []
    for seq, ts, kind, actor, session, payload, _, _ in events:
        digest = event_hash(prev, seq, ts, kind, actor, session, payload)
        updates.append(
            ("UPDATE events SET prev_hash = ?, hash = ? WHERE seq = ?", (prev, digest, seq))
        )
        prev = digest
    execute(home, *updates)


def _edit_payload(home: Home, seq: int) -> None:
    execute(home, ("UPDATE events SET payload = ? WHERE seq = ?", ('{"forged":true}', seq)))


def _last(home: Home) -> int:
    return int(rows(home, "SELECT max(seq) FROM events")[0][0])


def _resign(home: Home, key: SigningKey) -> None:
    """Replace every checkpoint with one signed by ``key`` over the current hashes."""
    with sqlite3.connect(home.audit_path) as conn:
        signed = read_all(conn)
    statements: list[tuple[str, tuple[Any, ...]]] = [("DELETE FROM checkpoints", ())]
    for old in signed:
        (digest,) = rows(home, "SELECT hash FROM events WHERE seq = ?", old.seq)[0]
        new = sign_head(ChainHead(old.seq, digest), key, old.ts)
        statements.append(
            (
                "INSERT INTO checkpoints VALUES (?, ?, ?, ?, ?)",
                (new.seq, new.hash, new.ts, new.fingerprint, new.signature),
            )
        )
    execute(home, *statements)


def edited_event(home: Home) -> tuple[str, int]:
    _edit_payload(home, 3)
    return "chain", 3


def deleted_event(home: Home) -> tuple[str, int]:
    execute(home, ("DELETE FROM events WHERE seq = 4", ()))
    return "chain", 4


def cut_tail(home: Home) -> tuple[str, int]:
    last = _last(home)
    execute(home, ("DELETE FROM events WHERE seq > ?", (last - 3,)))
    return "checkpoint.beyond_log", last - 2


def rebuilt_chain(home: Home) -> tuple[str, int]:
    _edit_payload(home, 8)
    _rehash_from(home, 8)
    proven = max(seq for (seq,) in rows(home, "SELECT seq FROM checkpoints") if seq < 8)
    return "checkpoint.event", proven + 1


def signed_by_another_key(home: Home) -> tuple[str, int]:
    _resign(home, SigningKey.generate())
    return "checkpoint.signature", 1


def checkpoints_deleted(home: Home) -> tuple[str, int]:
    execute(home, ("DELETE FROM checkpoints", ()))
    return "checkpoint.missing", 1


def stop_unsigned(home: Home) -> tuple[str, int]:
    last = _last(home)
    execute(home, ("DELETE FROM checkpoints WHERE seq = ?", (last,)))
    return "checkpoint.stop", last


@pytest.mark.parametrize(
    "tamper",
    [
        edited_event,
        deleted_event,
        cut_tail,
        rebuilt_chain,
        signed_by_another_key,
        checkpoints_deleted,
        stop_unsigned,
    ],
)
def test_tampering_is_caught(copy: Home, tamper: Callable[[Home], tuple[str, int]]) -> None:
    check, seq = tamper(copy)
    code, report = verify(copy)
    assert code == 6 and not report["ok"]
    assert (report["check"], report["first_bad_seq"]) == (check, seq), report["problem"]
    if tamper is rebuilt_chain:  # the human form says the same
        text = cli(copy, "audit", "verify")
        assert text.returncode == 6 and f"at seq {seq} ({check})" in text.stderr


def test_what_only_an_anchor_catches(
    copy: Home, signed_home: tuple[Home, dict[str, Any]], tmp_path: Path
) -> None:
    """Whoever reads the key can rebuild and re-sign; a kept anchor still shows it."""
    anchor = _write(tmp_path / "anchor.json", signed_home[1])
    seq = signed_home[1]["seq"]
    _edit_payload(copy, seq - 1)
    _rehash_from(copy, seq - 1)
    _resign(copy, IdentityFiles(copy).load_signing_key())
    assert verify(copy)[0] == 0  # the documented limit: the key holder re-signed everything
    code, report = verify(copy, "--anchor", anchor)
    assert code == 6 and (report["check"], report["first_bad_seq"]) == ("anchor.event", seq)

    fresh = Home(tmp_path / "cut")
    shutil.copytree(signed_home[0].root, fresh.root)
    execute(
        fresh,
        ("DELETE FROM events WHERE seq >= ?", (seq - 1,)),
        ("DELETE FROM checkpoints WHERE seq >= ?", (seq - 1,)),
    )
    code, report = verify(fresh, "--anchor", anchor)
    assert code == 6 and report["check"] == "anchor.beyond_log", report


def test_a_bad_anchor_is_refused(signed_home: tuple[Home, dict[str, Any]], tmp_path: Path) -> None:
    home, anchor = signed_home
    edited = _write(tmp_path / "edited.json", {**anchor, "hash": "0" * 64})
    code, report = verify(home, "--anchor", edited)
    assert code == 6 and report["check"] == "anchor.signature"

    other = SigningKey.generate()
    foreign = sign_head(ChainHead(anchor["seq"], anchor["hash"]), other, anchor["ts"])
    stranger = _write(tmp_path / "foreign.json", foreign.anchor(other.public))
    code, report = verify(home, "--anchor", stranger)
    assert code == 6 and report["check"] == "anchor.key"

    garbage = _write(tmp_path / "garbage.json", {"seq": "x"})
    result = cli(home, "audit", "verify", "--anchor", garbage)
    assert result.returncode == 2 and "anchor" in result.stderr and "Traceback" not in result.stderr
