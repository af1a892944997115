"""The vault fails safe: every damaged, moved or wrongly keyed record is refused, clearly.

Each refusal is a :class:`VaultError` whose message and hint name the secret and what
to do, and never carry the value or the key (checked on every error here). Files are
real files in a temporary home; the keychain is keyring's own ``fail`` backend (set for
the whole suite in ``tests/conftest.py``), so the key-source order is tested for real
down to the environment variable and the key file. The keychain source itself is
**untested here**: the installed ``keyring`` ships no in-memory backend, and no test
may touch the keychain of whoever runs the suite.
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import pytest

from stockade.errors import StockadeError, UnsafeHomeError
from stockade.home import Home
from stockade.vault.format import (
    InvalidSecret,
    VaultError,
    VaultFormatError,
    check_name,
    key_id,
    seal,
    unseal,
)
from stockade.vault.handles import handle, handle_name
from stockade.vault.master_key import (
    ENV_VAR,
    EnvSource,
    FileSource,
    choose_source,
    keychain_usable,
)
from stockade.vault.store import SecretExists, UnknownSecret, VaultFiles, unlock

KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))
VALUE = "hunter2-very-secret"


def _clean(exc: StockadeError, *secrets: str) -> None:
    """Neither the message nor the hint carries a value or a key."""
    text = f"{exc.message} {exc.hint}"
    for secret in (VALUE, KEY.hex(), base64.b64encode(KEY).decode(), *secrets):
        assert secret not in text


def test_a_record_opens_only_with_its_key_and_its_name() -> None:
    record = seal(KEY, "DEPLOY", VALUE)
    assert unseal(KEY, "DEPLOY", record) == VALUE
    assert record[0] == 1 and len(record) == 1 + 12 + len(VALUE) + 16
    assert seal(KEY, "DEPLOY", VALUE) != record  # a fresh nonce every time
    for key, name in ((OTHER_KEY, "DEPLOY"), (KEY, "TEST")):
        with pytest.raises(VaultFormatError) as refused:
            unseal(key, name, record)
        assert "wrong master key, or the record was altered or moved" in refused.value.message
        _clean(refused.value)


def test_every_flipped_bit_and_every_truncation_is_refused() -> None:
    record = seal(KEY, "N", VALUE)
    for position in range(len(record)):
        flipped = bytearray(record)
        flipped[position] ^= 0x01
        with pytest.raises(VaultFormatError) as refused:
            unseal(KEY, "N", bytes(flipped))
        _clean(refused.value)
    for length in range(len(record)):
        with pytest.raises(VaultFormatError) as refused:
            unseal(KEY, "N", record[:length])
        _clean(refused.value)
    with pytest.raises(VaultFormatError, match="format version 2"):
        unseal(KEY, "N", b"\x02" + record[1:])


@pytest.mark.parametrize("name", ["", "1ABC", "a b", "a/b", "é", "x" * 129, "secret://A", "A\n"])
def test_bad_names_are_refused(name: str) -> None:
    with pytest.raises(InvalidSecret, match="invalid secret name"):
        check_name(name)


def test_empty_oversized_and_non_text_values_are_refused() -> None:
    for value, problem in (("", "empty"), ("x" * (64 * 1024 + 1), "at most"), ("\udc80", "UTF-8")):
        with pytest.raises(InvalidSecret, match=problem):
            seal(KEY, "N", value)


def test_handles() -> None:
    assert handle_name("secret://GITHUB_TOKEN") == "GITHUB_TOKEN"
    assert handle_name("plain text") is None and handle_name("SECRET://X") is None
    assert handle("db.password") == "secret://db.password"
    with pytest.raises(InvalidSecret, match="invalid handle"):
        handle_name("secret://two words")


def test_the_key_source_order_on_a_box_without_a_keychain(home: Home) -> None:
    assert not keychain_usable()  # keyring's own fail backend: detected without a call
    env_key = base64.b64encode(KEY).decode()
    source = choose_source(home, {ENV_VAR: env_key})
    assert isinstance(source, EnvSource) and source.load() == KEY
    fallback = choose_source(home, {})
    assert isinstance(fallback, FileSource) and fallback.load() is None
    assert fallback.describe() == f"the key file {home.root}/vault/master.key"
    with pytest.raises(VaultError, match="is not a master key") as refused:
        EnvSource("not-base64-but-a-password").load()
    _clean(refused.value, "not-base64-but-a-password")
    with pytest.raises(VaultError, match="cannot change"):
        source.stage(OTHER_KEY)


def test_the_key_file_must_be_private(home: Home) -> None:
    files = VaultFiles(home)
    vault = unlock(files, {})
    vault.add("N", VALUE)
    key_file = files.directory / "master.key"
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    assert oct(files.directory.stat().st_mode & 0o777) == "0o700"
    assert oct(files.path.stat().st_mode & 0o777) == "0o600"
    os.chmod(key_file, 0o644)  # noqa: S103  (the unsafe state under test)
    with pytest.raises(UnsafeHomeError, match="has mode 0644"):
        unlock(files, {})
    os.chmod(key_file, 0o600)
    moved = files.directory / "elsewhere.key"
    key_file.rename(moved)
    key_file.symlink_to(moved)
    with pytest.raises(UnsafeHomeError, match="symlink"):
        unlock(files, {})


def test_add_replace_remove_and_what_the_file_holds(home: Home) -> None:
    files = VaultFiles(home)
    vault = unlock(files, {})
    assert vault.add("A", VALUE) is False
    with pytest.raises(SecretExists):
        vault.add("A", "other")
    assert vault.add("A", "second-value", replace_old=True) is True
    vault.add("B", VALUE)
    raw = files.path.read_bytes()
    assert VALUE.encode() not in raw and b"second-value" not in raw
    assert unlock(files, {}).values == {"A": "second-value", "B": VALUE}
    vault.remove("A")
    with pytest.raises(UnknownSecret):
        vault.remove("A")
    assert unlock(files, {}).values == {"B": VALUE}


def test_a_damaged_vault_file_fails_safe(home: Home) -> None:
    files = VaultFiles(home)
    vault = unlock(files, {})
    vault.add("A", VALUE)
    vault.add("B", "the-other-value")
    good = files.path.read_bytes()

    files.path.write_bytes(good[: len(good) // 2])
    with pytest.raises(VaultFormatError, match="not complete JSON") as refused:
        unlock(files, {})
    _clean(refused.value)

    document = json.loads(good)
    secrets = document["secrets"]
    secrets["A"]["record"], secrets["B"]["record"] = secrets["B"]["record"], secrets["A"]["record"]
    files.path.write_text(json.dumps(document))
    with pytest.raises(VaultFormatError, match="moved from another name") as refused:
        unlock(files, {})
    _clean(refused.value, "the-other-value")

    files.path.write_text(json.dumps({**json.loads(good), "version": 9}))
    with pytest.raises(VaultFormatError, match="format version 9"):
        unlock(files, {})
    files.path.write_bytes(good)
    assert unlock(files, {}).values == {"A": VALUE, "B": "the-other-value"}  # nothing lost


def test_a_wrong_master_key_names_both_key_ids_and_neither_key(home: Home) -> None:
    files = VaultFiles(home)
    unlock(files, {}).add("A", VALUE)
    sealed_with = json.loads(files.path.read_text())["key_id"]
    wrong = base64.b64encode(OTHER_KEY).decode()
    FileSource(files.directory).store(OTHER_KEY)
    for env in ({}, {ENV_VAR: wrong}):
        with pytest.raises(VaultError) as refused:
            unlock(files, env)
        assert f"sealed with key {sealed_with}" in refused.value.message
        assert key_id(OTHER_KEY) in refused.value.message
        _clean(refused.value, wrong)


def test_an_interrupted_rotation_is_rolled_back_or_finished(home: Home) -> None:
    """The two states a crash can leave (the real kill -9 is in tests/integration)."""
    files = VaultFiles(home)
    vault = unlock(files, {})
    vault.add("A", VALUE)
    source = FileSource(files.directory)
    old = source.load()
    assert old is not None

    source.stage(OTHER_KEY)  # died after staging: the vault is still under the old key
    reopened = unlock(files, {}, recover=False)
    assert reopened.values == {"A": VALUE} and source.load_pending() == OTHER_KEY
    assert unlock(files, {}).values == {"A": VALUE}
    assert source.load_pending() is None and source.load() == old  # rolled back

    vault = unlock(files, {})
    vault.rotate()
    new = source.load()
    assert new is not None and new != old and source.load_pending() is None
    document = vault.document
    source.store(old)  # as if it died after the switch, before the new key was stored
    source.stage(new)
    assert unlock(files, {}).values == {"A": VALUE}
    assert source.load() == new and source.load_pending() is None  # finished
    assert json.loads(files.path.read_text())["key_id"] == document.key_id == key_id(new)


def test_list_needs_no_key(home: Home, tmp_path: Path) -> None:
    files = VaultFiles(home)
    unlock(files, {}).add("A", VALUE)
    (files.directory / "master.key").unlink()
    assert [item["name"] for item in files.read().listing()] == ["A"]


def test_the_service_tells_subscribers_and_audits_resolutions(home: Home) -> None:
    """The daemon's side, on a real audit store: subscribers (the redactor, once wired)
    get every name -> value at once and after each change; a resolution is audited
    without its value; an unknown handle names itself and resolves nothing."""
    import asyncio

    from stockade.audit import SqliteAuditStore
    from stockade.vault.service import VaultService

    seen: list[dict[str, str]] = []

    async def scenario(store: SqliteAuditStore) -> dict[str, str]:
        service = VaultService.open(home, store.append)
        service.subscribe(lambda values: seen.append(dict(values)))
        await service.add("A", VALUE, replace=False, by="cli")
        await service.add("B", "bee-value", replace=False, by="cli")
        await service.remove("B", by="cli")
        await service.rotate(by="cli")
        with pytest.raises(UnknownSecret, match="unknown handle secret://B"):
            await service.resolve_env({"X": "secret://B"}, for_whom="cli", why="test")
        env = {"X": "secret://A", "Y": "plain"}
        return await service.resolve_env(env, for_whom="mcp:github", why="start server")

    store = SqliteAuditStore(home.audit_path)
    store.open()
    try:
        assert asyncio.run(scenario(store)) == {"X": VALUE, "Y": "plain"}
        events = store.query(after=0, limit=100)
    finally:
        store.close()
    assert seen == [{}, {"A": VALUE}, {"A": VALUE, "B": "bee-value"}, {"A": VALUE}, {"A": VALUE}]
    assert [event.kind for event in events] == [
        "secret.added",
        "secret.added",
        "secret.removed",
        "secret.key_rotated",
        "secret.resolved",
    ]
    assert events[-1].payload == {
        "handles": ["secret://A"],
        "vars": ["X"],
        "for": "mcp:github",
        "why": "start server",
    }
    assert not any(VALUE in json.dumps(event.to_json()) for event in events)
