"""The vault with no daemon running: the CLI changes it on disk, under ``daemon.lock``.

Holding the lock keeps a daemon from starting meanwhile (it takes the same lock for
its whole life), so a daemon always starts from what was written here and never
misses a change. Each change is audited to the same log, as the daemon would.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any

from stockade.audit import AuditEvent, SqliteAuditStore
from stockade.errors import DaemonAlreadyRunning
from stockade.home import Home
from stockade.vault import events
from stockade.vault.store import Progress, Vault, VaultFiles, unlock


@contextlib.contextmanager
def locked_vault(home: Home) -> Iterator[Vault]:
    """The unlocked vault of ``home`` while this process holds ``daemon.lock``."""
    home.ensure()
    home.check_safe()
    try:
        fd = home.lock_exclusive()
    except BlockingIOError:
        raise DaemonAlreadyRunning(
            "a Stockade daemon is starting on this home", "run the command again once it answers"
        ) from None
    try:
        yield unlock(VaultFiles(home), os.environ)
    finally:
        os.close(fd)


def add(home: Home, name: str, value: str, *, replace: bool, by: str) -> dict[str, Any]:
    with locked_vault(home) as vault:
        replaced = vault.add(name, value, replace_old=replace)
        seq = _record(home, events.added(name, replaced, by))
        entry = vault.document.entries[name]
    return {**entry.metadata(name), "replaced": replaced, "event_seq": seq}


def remove(home: Home, name: str, *, by: str) -> dict[str, Any]:
    with locked_vault(home) as vault:
        vault.remove(name)
        seq = _record(home, events.removed(name, by))
    return {"removed": name, "event_seq": seq}


def rotate(home: Home, *, by: str, progress: Progress | None = None) -> dict[str, Any]:
    with locked_vault(home) as vault:
        old, new = vault.rotate(progress)
        count = len(vault.values)
        seq = _record(home, events.key_rotated(old, new, count, vault.source.name, by))
    return {
        "rotated": True,
        "old_key_id": old,
        "new_key_id": new,
        "secrets": count,
        "event_seq": seq,
    }


def listing(home: Home) -> dict[str, Any]:
    """Names and times straight from the file: no key is needed, none is read."""
    files = VaultFiles(home)
    return {"secrets": files.read().listing(), "key_source": files.source(os.environ).name}


def _record(home: Home, event: AuditEvent) -> int:
    store = SqliteAuditStore(home.audit_path)
    store.open()
    try:
        return store.append_blocking(event).seq
    finally:
        store.close()
