"""The identity files and the checkpoint writer, on a real temporary home and SQLite file."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from stockade.audit import AuditEvent, SqliteAuditStore, verify_database
from stockade.audit.checkpoints import Checkpointer, read_all
from stockade.errors import UnsafeHomeError
from stockade.home import Home
from stockade.identity import IdentityError, IdentityFiles, PublicKey, SigningKey

NOW = "2026-01-01T00:00:00.000000Z"


def test_created_private_and_loaded_again(home: Home) -> None:
    files = IdentityFiles(home)
    key = files.load_or_create(NOW)
    assert stat.S_IMODE(os.stat(files.directory).st_mode) == 0o700
    for path in (files.private_path, files.public_path):
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert files.load_or_create(NOW).fingerprint == key.fingerprint
    ring = files.keyring()
    assert ring.current is not None and ring.current.fingerprint == key.fingerprint
    assert ring.find(key.fingerprint) == key.public and ring.find("SHA256:other") is None
    assert b"PRIVATE KEY" not in repr(key).encode() and key.fingerprint in repr(key)
    assert home.problems() == []


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o620, 0o604])
def test_a_key_others_can_read_or_write_is_refused(home: Home, mode: int) -> None:
    files = IdentityFiles(home)
    files.load_or_create(NOW)
    os.chmod(files.private_path, mode)
    with pytest.raises(UnsafeHomeError) as raised:
        files.load_or_create(NOW)
    assert f"chmod 600 {files.private_path}" in str(raised.value.hint)
    assert any(problem.path == files.private_path for problem in home.problems())
    assert f"chmod 0600 {files.private_path}" in home.fix_permissions()
    assert files.load_signing_key().fingerprint == files.keyring().current.fingerprint  # type: ignore[union-attr]


def test_a_symlinked_or_foreign_key_is_refused(home: Home, tmp_path: Path) -> None:
    files = IdentityFiles(home)
    key = files.load_or_create(NOW)
    outside = tmp_path / "elsewhere.pem"
    os.replace(files.private_path, outside)
    files.private_path.symlink_to(outside)
    with pytest.raises(UnsafeHomeError, match="symlink"):
        files.load_signing_key()
    files.private_path.unlink()
    os.replace(outside, files.private_path)
    if os.geteuid() != 0:
        pytest.skip("chown to another user needs root")
    os.chown(files.private_path, 65534, -1)
    with pytest.raises(UnsafeHomeError, match="owned by uid 65534"):
        files.load_signing_key()
    os.chown(files.private_path, 0, -1)
    assert files.load_signing_key().fingerprint == key.fingerprint


def test_rotation_keeps_the_old_public_key_and_repairs_a_half_done_one(home: Home) -> None:
    files = IdentityFiles(home)
    old = files.load_or_create(NOW)
    new = SigningKey.generate()
    files.replace(old, new, "2026-02-01T00:00:00.000000Z")
    ring = files.keyring()
    assert ring.current is not None and ring.current.fingerprint == new.fingerprint
    assert [known.fingerprint for known in ring.retired] == [old.fingerprint]
    assert ring.retired[0].created_at == NOW and ring.find(old.fingerprint) == old.public
    # a crash after the new private key was written, before its public file
    files.public_path.write_text(json.dumps(ring.retired[0].to_json()))
    assert files.load_or_create(NOW).fingerprint == new.fingerprint
    assert files.keyring().current.fingerprint == new.fingerprint  # type: ignore[union-attr]


def test_unusable_files_are_named(home: Home) -> None:
    files = IdentityFiles(home)
    with pytest.raises(IdentityError, match="no identity key"):
        files.load_signing_key()
    files.load_or_create(NOW)
    files.private_path.write_bytes(b"not a key")
    with pytest.raises(IdentityError, match="not a usable identity key"):
        files.load_signing_key()
    files.public_path.write_text('{"algorithm": "ed25519", "public_key": "AAAA"}')
    with pytest.raises(IdentityError, match="public.json is invalid"):
        files.keyring()
    with pytest.raises(ValueError, match="32 bytes"):
        PublicKey.from_b64("AAAA")
    with pytest.raises(ValueError, match="not base64"):
        PublicKey.from_b64("@@@@")


def _events(n: int) -> list[AuditEvent]:
    return [AuditEvent("decision", "test", "s", {"n": i}) for i in range(n)]


def _signed(path: Path) -> list[int]:
    with sqlite3.connect(path) as conn:
        return [checkpoint.seq for checkpoint in read_all(conn)]


def test_the_writer_signs_first_commit_every_n_events_idle_time_and_close(tmp_path: Path) -> None:
    key = SigningKey.generate()
    path = tmp_path / "audit.db"
    store = SqliteAuditStore(path, checkpointer=Checkpointer(key, every_events=4, every_s=0.3))
    store.open()
    try:
        for event in _events(10):
            store.append_blocking(event)
        deadline = time.monotonic() + 5  # seq 10 is not due by count: it is, once idle 0.3 s
        while _signed(path)[-1] != 10:
            assert time.monotonic() < deadline, _signed(path)
            time.sleep(0.05)
        assert store.checkpoint() is None  # the head has not moved since
        store.append_blocking(_events(1)[0])
        assert store.checkpoint() is not None
        store.append_blocking(_events(1)[0])
    finally:
        store.close()
    assert _signed(path) == [1, 5, 9, 10, 11, 12]  # the first commit, every 4, idle, asked, close
    ring = IdentityFiles(Home(tmp_path)).keyring()
    assert ring.current is None
    report = verify_database(path, keys=ring)
    assert report.check == "checkpoint.signature"  # no identity in this home knows the key


def test_a_failing_signer_does_not_stop_the_log(tmp_path: Path) -> None:
    class Broken:
        fingerprint = "SHA256:broken"

        def sign(self, message: bytes) -> bytes:
            raise RuntimeError("no signing today")

    path = tmp_path / "audit.db"
    store = SqliteAuditStore(path, checkpointer=Checkpointer(Broken(), every_events=1, every_s=60))
    store.open()
    try:
        assert [store.append_blocking(event).seq for event in _events(3)] == [1, 2, 3]
        with pytest.raises(RuntimeError, match="no signing today"):
            store.checkpoint()
    finally:
        store.close()
    assert verify_database(path).ok


def test_a_purged_log_still_verifies_its_checkpoints(tmp_path: Path) -> None:
    home = Home(tmp_path)
    key = IdentityFiles(home).load_or_create(NOW)
    days = iter(datetime(2026, 1, day, tzinfo=UTC) for day in range(1, 40))
    store = SqliteAuditStore(
        home.audit_path,
        clock=lambda: next(days),
        checkpointer=Checkpointer(key, every_events=3, every_s=60),
    )
    store.open()
    try:
        for event in _events(10):
            store.append_blocking(event)
        base = store.purge_before("2026-01-08T00:00:00Z").base_seq
    finally:
        store.close()
    signed = _signed(home.audit_path)
    assert signed[:3] == [1, 4, 7] and signed[0] < base - 1  # some now cover purged events
    report = verify_database(home.audit_path, keys=IdentityFiles(home).keyring())
    assert report.ok, report.problem


def test_a_lost_private_key_is_replaced_and_its_public_key_retired(home: Home) -> None:
    files = IdentityFiles(home)
    lost = files.load_or_create(NOW)
    files.private_path.unlink()
    fresh = files.load_or_create("2026-03-01T00:00:00.000000Z")
    ring = files.keyring()
    assert fresh.fingerprint != lost.fingerprint
    assert ring.find(lost.fingerprint) == lost.public and ring.retired[0].created_at == NOW


def test_the_identity_api_for_capabilities_is_pinned() -> None:
    import stockade.identity

    assert sorted(stockade.identity.__all__) == [
        "IdentityError",
        "IdentityFiles",
        "KeyRing",
        "KnownKey",
        "PublicKey",
        "SigningKey",
        "canonical_json",
        "fingerprint",
    ]
