"""The vault on disk, one file for every secret, and how a key rotation stays crash-safe.

::

    vault/                0700
      secrets.json        0600  {"format": "stockade-vault", "version": 1, "key_id": "...",
                                 "secrets": {NAME: {"created", "updated", "record"}}}
      master.key          0600  the key, when the key file is its source
      master.key.next     0600  the pending key, only while a rotation runs

Each ``record`` is a sealed value (:mod:`stockade.vault.format`, base64). The names and
times are in the clear, so that ``secret list`` needs no key; values never are.
``key_id`` names the key that sealed every record (a keyed fingerprint, not the key).

One file, because it makes a rotation one atomic step: every record is sealed again
under the new key into a new ``secrets.json`` that replaces the old one in a single
``rename``. The steps:

1. the new key is *staged* in the key source as the pending key;
2. ``secrets.json`` is replaced by the records sealed under it (the switch);
3. the new key is stored as the key, and the pending copy dropped.

Killed anywhere, the next :func:`unlock` sees which key ``key_id`` names and finishes
the job: the old key (before 2) — the pending key is dropped; the pending key (after 2)
— it is promoted. Both keys exist at every moment in between, so nothing is lost.
``STOCKADE_TEST_VAULT_CRASH_AT`` (``staged`` or ``switched``) makes the process kill
itself with SIGKILL right after that step: a test hook, see ``tests/integration/test_vault.py``.

Every write is atomic (:func:`stockade.home.atomic_write`), files are refused when they
are symlinks, not ours, or open to others, and only the holder of ``daemon.lock`` (the
daemon, or a CLI command while none runs) writes.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import signal
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from stockade.audit.events import format_ts
from stockade.home import DIR_MODE, Home, atomic_write
from stockade.vault.format import (
    VaultError,
    VaultFormatError,
    check_name,
    key_id,
    seal,
    unseal,
)
from stockade.vault.master_key import KeySource, choose_source, generate_key, promote
from stockade.vault.private import read_private, refuse_unsafe

FORMAT = "stockade-vault"
FORMAT_VERSION = 1
VAULT_FILE = "secrets.json"
CRASH_HOOK = "STOCKADE_TEST_VAULT_CRASH_AT"
_MAX_VAULT_BYTES = 64 * 1024 * 1024
Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class Entry:
    """One secret as stored: its times and its sealed record (never the value)."""

    created: str
    updated: str
    record: bytes

    def metadata(self, name: str) -> dict[str, str]:
        return {"name": name, "created": self.created, "updated": self.updated}


@dataclass(frozen=True, slots=True)
class Document:
    """The content of ``secrets.json``; ``key_id`` is None until the first key exists."""

    key_id: str | None = None
    entries: dict[str, Entry] = field(default_factory=dict)

    def listing(self) -> list[dict[str, str]]:
        return [self.entries[name].metadata(name) for name in sorted(self.entries)]

    def to_bytes(self) -> bytes:
        secrets = {
            name: {
                "created": entry.created,
                "updated": entry.updated,
                "record": base64.b64encode(entry.record).decode(),
            }
            for name, entry in sorted(self.entries.items())
        }
        data = {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "key_id": self.key_id,
            "secrets": secrets,
        }
        return (json.dumps(data, indent=2) + "\n").encode()

    @classmethod
    def from_bytes(cls, raw: bytes, path: Path) -> Document:
        """Parse ``secrets.json``; a damaged or foreign file is a :class:`VaultFormatError`."""
        try:
            data = json.loads(raw)
        except ValueError:
            raise _damaged(path, "it is not complete JSON (truncated?)") from None
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise _damaged(path, "it is not a Stockade vault")
        if data.get("version") != FORMAT_VERSION:
            raise VaultFormatError(
                f"{path} has vault format version {data.get('version')!r}; this Stockade "
                f"reads version {FORMAT_VERSION}",
                "upgrade Stockade",
            )
        found_key_id, secrets = data.get("key_id"), data.get("secrets")
        if not isinstance(found_key_id, str | None) or not isinstance(secrets, dict):
            raise _damaged(path, "its key_id or secrets are missing")
        entries = {name: _entry(name, value, path) for name, value in secrets.items()}
        if entries and found_key_id is None:
            raise _damaged(path, "it has secrets but no key_id")
        return cls(found_key_id, entries)


def _entry(name: Any, value: Any, path: Path) -> Entry:
    if not isinstance(name, str) or not isinstance(value, dict):
        raise _damaged(path, "a secret is not an object")
    check_name(name)
    created, updated, record = value.get("created"), value.get("updated"), value.get("record")
    if not (isinstance(created, str) and isinstance(updated, str) and isinstance(record, str)):
        raise _damaged(path, f"the secret {name!r} lacks created, updated or record")
    try:
        return Entry(created, updated, base64.b64decode(record, validate=True))
    except (binascii.Error, ValueError):
        raise _damaged(path, f"the record of {name!r} is not base64") from None


def _damaged(path: Path, why: str) -> VaultFormatError:
    return VaultFormatError(
        f"the vault {path} is damaged: {why}",
        "restore it from a backup; `stockade secret list` shows what it held",
    )


class VaultFiles:
    """Reads and writes one home's ``vault/`` directory."""

    def __init__(self, home: Home) -> None:
        self.home = home
        self.directory = home.root / "vault"
        self.path = self.directory / VAULT_FILE

    def read(self) -> Document:
        """The document; an empty one when there is no vault yet."""
        raw = read_private(self.path, _MAX_VAULT_BYTES)
        return Document() if raw is None else Document.from_bytes(raw, self.path)

    def write(self, document: Document) -> None:
        self.ensure_directory()
        atomic_write(self.path, document.to_bytes())

    def ensure_directory(self) -> None:
        self.home.ensure()
        try:
            os.mkdir(self.directory, DIR_MODE)
        except FileExistsError:
            refuse_unsafe(self.directory, os.lstat(self.directory))

    def source(self, env: Mapping[str, str]) -> KeySource:
        return choose_source(self.home, env)


@dataclass(slots=True)
class Vault:
    """An unlocked vault: the document, its key and the values, for the lock's holder."""

    files: VaultFiles
    source: KeySource
    document: Document
    key: bytes | None
    values: dict[str, str]

    def add(self, name: str, value: str, *, replace_old: bool = False) -> bool:
        """Seal ``value`` as ``name`` (a key is made on first use); True if it replaced one."""
        check_name(name)
        old = self.document.entries.get(name)
        if old is not None and not replace_old:
            raise SecretExists(name)
        key = self.key if self.key is not None else self._first_key()
        now = _now()
        entry = Entry(old.created if old else now, now, seal(key, name, value))
        entries = {**self.document.entries, name: entry}
        self._commit(Document(key_id(key), entries), {**self.values, name: value})
        return old is not None

    def remove(self, name: str) -> None:
        if name not in self.document.entries:
            raise UnknownSecret(name)
        entries = {k: v for k, v in self.document.entries.items() if k != name}
        values = {k: v for k, v in self.values.items() if k != name}
        self._commit(replace(self.document, entries=entries), values)

    def rotate(self, progress: Progress | None = None) -> tuple[str | None, str]:
        """Seal everything under a new key (crash-safe, see the module docstring)."""
        old_id = self.document.key_id
        new = generate_key()
        self.source.stage(new)
        _crash_point("staged")
        total = len(self.values)
        entries: dict[str, Entry] = {}
        for done, (name, entry) in enumerate(sorted(self.document.entries.items()), 1):
            entries[name] = replace(entry, record=seal(new, name, self.values[name]))
            if progress is not None:
                progress(done, total)
        document = Document(key_id(new), entries)
        self.files.write(document)
        _crash_point("switched")
        promote(self.source, new)
        self.document, self.key = document, new
        return old_id, document.key_id or ""

    def _first_key(self) -> bytes:
        key = self.source.load()
        if key is None:
            key = generate_key()
            self.files.ensure_directory()
            self.source.store(key)
        self.key = key
        return key

    def _commit(self, document: Document, values: dict[str, str]) -> None:
        self.files.write(document)
        self.document, self.values = document, values


def unlock(files: VaultFiles, env: Mapping[str, str], *, recover: bool = True) -> Vault:
    """Read the vault and open every record; finish or roll back a rotation that was cut
    short (when ``recover``: only the holder of ``daemon.lock`` may)."""
    document = files.read()
    source = files.source(env)
    key = source.load()
    if document.key_id is not None:
        key = _matching_key(source, document.key_id, key, recover=recover)
    values = {}
    if key is not None:
        values = {name: unseal(key, name, e.record) for name, e in document.entries.items()}
    return Vault(files, source, document, key, values)


def _matching_key(source: KeySource, wanted: str, current: bytes | None, *, recover: bool) -> bytes:
    pending = source.load_pending()
    if current is not None and key_id(current) == wanted:
        if pending is not None and recover:
            source.discard_pending()  # a rotation died before its switch: roll it back
        return current
    if pending is not None and key_id(pending) == wanted:
        if recover:
            promote(source, pending)  # a rotation died after its switch: finish it
        return pending
    held = "no key" if current is None else f"key {key_id(current)}"
    raise VaultError(
        f"the vault is sealed with key {wanted}, but {source.describe()} holds {held}",
        "restore the master key that sealed it (`stockade doctor` shows the key source); "
        "without it the secrets cannot be read",
    )


class UnknownSecret(VaultError):
    """No secret has this name."""

    def __init__(self, name: str, *, as_handle: bool = False) -> None:
        shown = repr(name[:130])  # a name from a URL may be anything
        what = f"unknown handle secret://{name}: no secret" if as_handle else "no secret"
        super().__init__(f"{what} named {shown}", "`stockade secret list` shows the names")


class SecretExists(VaultError):
    """``add`` without ``replace`` for a name that is taken."""

    def __init__(self, name: str) -> None:
        super().__init__(
            f"a secret named {name!r} exists already", "add --replace to replace its value"
        )


def _now() -> str:
    return format_ts(datetime.now(UTC))


def _crash_point(step: str) -> None:
    """The test hook of the module docstring: SIGKILL this process right after ``step``."""
    if os.environ.get(CRASH_HOOK) == step:
        os.kill(os.getpid(), signal.SIGKILL)
