"""The vault inside the daemon: values held in memory only, changes audited, handles resolved.

The daemon unlocks the vault once at start (it holds ``daemon.lock``, so it also
finishes or rolls back a rotation that was cut short) and then serves every change
itself — `stockade secret add/rm/rotate-key` go through its socket while it runs — so
what it holds in memory is always what is on disk. Subscribers (the redactor, wired
by the daemon) get the whole ``name -> value`` mapping at once and after every change.

A vault that cannot be opened (wrong key, damaged file) does not stop the daemon:
every vault operation then answers that error, and no value is known to anyone.
``STOCKADE_MASTER_KEY`` is taken out of the daemon's environment when it is read, so
no process the daemon starts inherits it.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from stockade.audit import AuditEvent, StoredEvent
from stockade.errors import StockadeError
from stockade.home import Home
from stockade.vault import events
from stockade.vault.handles import handle, handle_name
from stockade.vault.master_key import ENV_VAR
from stockade.vault.store import UnknownSecret, Vault, VaultFiles, unlock

logger = logging.getLogger(__name__)

Subscriber = Callable[[Mapping[str, str]], None]
Append = Callable[[AuditEvent], Awaitable[StoredEvent]]


class VaultService:
    """One daemon's vault: see the module docstring."""

    def __init__(self, vault: Vault | None, problem: StockadeError | None, append: Append) -> None:
        self._vault = vault
        self._problem = problem
        self._append = append
        self._subscribers: list[Subscriber] = []
        self._lock = asyncio.Lock()

    @classmethod
    def open(cls, home: Home, append: Append) -> VaultService:
        """Unlock the vault of ``home`` with the daemon's environment (see the docstring)."""
        env = {ENV_VAR: os.environ.pop(ENV_VAR)} if ENV_VAR in os.environ else {}
        try:
            vault = unlock(VaultFiles(home), env)
        except StockadeError as exc:  # the daemon serves on; each vault operation says why
            logger.warning("the vault cannot be opened: %s", exc.message)
            return cls(None, exc, append)
        logger.info("vault: %d secret(s), key from %s", len(vault.values), vault.source.name)
        return cls(vault, None, append)

    def subscribe(self, callback: Subscriber) -> None:
        """Call ``callback`` with every ``name -> value`` now, and after each change."""
        self._subscribers.append(callback)
        callback(self._values())

    def listing(self) -> dict[str, Any]:
        """Names and times, and where the key comes from: never a value."""
        vault = self._require()
        return {"secrets": vault.document.listing(), "key_source": vault.source.name}

    async def add(self, name: str, value: str, *, replace: bool, by: str) -> dict[str, Any]:
        async with self._lock:
            vault = self._require()
            replaced = await asyncio.to_thread(vault.add, name, value, replace_old=replace)
            await self._publish()
            stored = await self._append(events.added(name, replaced, by))
        entry = vault.document.entries[name]
        return {**entry.metadata(name), "replaced": replaced, "event_seq": stored.seq}

    async def remove(self, name: str, *, by: str) -> dict[str, Any]:
        async with self._lock:
            vault = self._require()
            await asyncio.to_thread(vault.remove, name)
            await self._publish()
            stored = await self._append(events.removed(name, by))
        return {"removed": name, "event_seq": stored.seq}

    async def rotate(self, *, by: str) -> dict[str, Any]:
        async with self._lock:
            vault = self._require()
            old, new = await asyncio.to_thread(vault.rotate)
            await self._publish()
            count = len(vault.values)
            event = events.key_rotated(old, new, count, vault.source.name, by)
            stored = await self._append(event)
        return {
            "rotated": True,
            "old_key_id": old,
            "new_key_id": new,
            "secrets": count,
            "event_seq": stored.seq,
        }

    async def resolve_env(
        self, mapping: Mapping[str, str], *, for_whom: str, why: str
    ) -> dict[str, str]:
        """``mapping`` with every ``secret://NAME`` value replaced by the secret's value.

        The resolution is audited (``secret.resolved``: which handles, into which
        variables, for whom, why) and durable before the values are returned. An
        unknown or malformed handle is an error naming the handle; nothing is resolved.
        """
        names = {var: handle_name(value) for var, value in mapping.items()}
        wanted = sorted({name for name in names.values() if name is not None})
        if not wanted:
            return dict(mapping)
        vault = self._require()
        for name in wanted:
            if name not in vault.values:
                raise UnknownSecret(name, as_handle=True)
        variables = sorted(var for var, name in names.items() if name is not None)
        await self._append(events.resolved([handle(n) for n in wanted], variables, for_whom, why))
        return {
            var: mapping[var] if name is None else vault.values[name] for var, name in names.items()
        }

    def _require(self) -> Vault:
        if self._vault is None:
            assert self._problem is not None
            raise self._problem
        return self._vault

    def _values(self) -> dict[str, str]:
        return {} if self._vault is None else dict(self._vault.values)

    async def _publish(self) -> None:
        """Tell every subscriber before the change is answered; off the event loop, because
        the redactor compiles one regex of every value's forms (~0.1 s for 100 values)."""
        values = self._values()
        for callback in self._subscribers:
            await asyncio.to_thread(callback, values)
