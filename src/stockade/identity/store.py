"""The daemon's identity on disk: ``$STOCKADE_HOME/identity/``.

::

    identity/           0700
      private.pem       0600  the signing key, PKCS#8 PEM, unencrypted
      public.json       0600  {"algorithm", "public_key", "fingerprint", "created_at"}
      retired.json      0600  {"retired": [… the same, plus "retired_at" …]}

The private key is the only secret; the public files exist so that ``identity show``,
``audit verify`` and a copy of the home can check signatures without reading it.
Every write is atomic (:func:`stockade.home.atomic_write`). A private key that is a
symlink, not ours, or open to group or others is refused: anyone who can read it can
sign checkpoints as this daemon. Keys are created and rotated only under the home's
``daemon.lock`` (the running daemon holds it for its whole life).
"""

from __future__ import annotations

import errno
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stockade.errors import StockadeError, UnsafeHomeError
from stockade.home import DIR_MODE, Home, atomic_write, stat_problems
from stockade.identity.keys import ALGORITHM, PublicKey, SigningKey

PRIVATE_FILE = "private.pem"
PUBLIC_FILE = "public.json"
RETIRED_FILE = "retired.json"
_MAX_KEY_FILE = 64 * 1024


class IdentityError(StockadeError):
    """The identity is missing or its files cannot be read."""


@dataclass(frozen=True, slots=True)
class KnownKey:
    """A public key the daemon has signed with, and when it did."""

    public: PublicKey
    created_at: str | None
    retired_at: str | None = None

    @property
    def fingerprint(self) -> str:
        return self.public.fingerprint

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "algorithm": ALGORITHM,
            "public_key": self.public.b64,
            "fingerprint": self.fingerprint,
            "created_at": self.created_at,
        }
        if self.retired_at is not None:
            data["retired_at"] = self.retired_at
        return data

    @classmethod
    def from_json(cls, data: Any) -> KnownKey:
        if not isinstance(data, dict) or data.get("algorithm") != ALGORITHM:
            raise ValueError(f"not an {ALGORITHM} key record")
        public = PublicKey.from_b64(str(data.get("public_key")))
        if data.get("fingerprint") not in (None, public.fingerprint):
            raise ValueError("its fingerprint does not match its public key")
        created, retired = data.get("created_at"), data.get("retired_at")
        return cls(
            public,
            created if isinstance(created, str) else None,
            retired if isinstance(retired, str) else None,
        )


@dataclass(frozen=True, slots=True)
class KeyRing:
    """The keys signatures are checked against: the current one and the retired ones."""

    current: KnownKey | None
    retired: tuple[KnownKey, ...] = ()

    def find(self, fingerprint: str) -> PublicKey | None:
        """The public key with this fingerprint, current or retired."""
        for known in (self.current, *self.retired):
            if known is not None and known.fingerprint == fingerprint:
                return known.public
        return None

    def to_json(self) -> dict[str, Any]:
        return {
            "current": None if self.current is None else self.current.to_json(),
            "retired": [known.to_json() for known in self.retired],
        }


class IdentityFiles:
    """Reads and writes one home's identity directory (see the module docstring)."""

    def __init__(self, home: Home) -> None:
        self.directory = home.identity_dir
        self.private_path = self.directory / PRIVATE_FILE
        self.public_path = self.directory / PUBLIC_FILE
        self.retired_path = self.directory / RETIRED_FILE

    def exists(self) -> bool:
        return os.path.lexists(self.private_path)

    def load_signing_key(self) -> SigningKey:
        """The private key, refused unless it is a regular file private to us."""
        try:
            fd = os.open(self.private_path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        except FileNotFoundError:
            raise IdentityError(
                f"no identity key at {self.private_path}",
                "`stockade serve` creates one when it first starts",
            ) from None
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                _refuse(stat_problems(self.private_path, os.lstat(self.private_path)))
            raise
        try:
            _refuse(stat_problems(self.private_path, os.fstat(fd)))
            with os.fdopen(fd, "rb", closefd=False) as handle:
                data = handle.read(_MAX_KEY_FILE)
        finally:
            os.close(fd)
        try:
            return SigningKey.from_pem(data)
        except ValueError as exc:
            raise IdentityError(
                f"{self.private_path} is not a usable identity key: {exc}",
                "restore it from a backup; checkpoints it signed still verify with its public key",
            ) from None

    def load_or_create(self, now: str) -> SigningKey:
        """The signing key, created on first use; the caller holds ``daemon.lock``.

        Also repairs what an interrupted rotation can leave: a ``public.json`` that does
        not match the private key, or the current key listed as retired. When the private
        key is gone, its public key is retired, so what it signed still verifies.
        """
        self._ensure_directory()
        if not self.exists():
            key = SigningKey.generate()
            lost = self.keyring()
            if lost.current is not None:  # the private key is gone: keep its public key
                current = lost.current
                self._write_retired(
                    [*lost.retired, KnownKey(current.public, current.created_at, now)]
                )
            atomic_write(self.private_path, key.to_pem())
            atomic_write(self.public_path, _dump(KnownKey(key.public, now).to_json()))
            return key
        key = self.load_signing_key()
        ring = self.keyring()
        if ring.current is None or ring.current.fingerprint != key.fingerprint:
            atomic_write(self.public_path, _dump(KnownKey(key.public, now).to_json()))
        if any(known.fingerprint == key.fingerprint for known in ring.retired):
            kept = [known for known in ring.retired if known.fingerprint != key.fingerprint]
            self._write_retired(kept)
        return key

    def keyring(self) -> KeyRing:
        """The public keys from ``public.json`` and ``retired.json`` (empty when absent)."""
        current_data = self._read_json(self.public_path)
        retired_data = self._read_json(self.retired_path)
        try:
            current = None if current_data is None else KnownKey.from_json(current_data)
        except ValueError as exc:
            raise IdentityError(f"{self.public_path} is invalid: {exc}") from None
        retired: list[KnownKey] = []
        if retired_data is not None:
            entries = retired_data.get("retired") if isinstance(retired_data, dict) else None
            if not isinstance(entries, list):
                raise IdentityError(f"{self.retired_path} has no list of retired keys")
            try:
                retired = [KnownKey.from_json(entry) for entry in entries]
            except ValueError as exc:
                raise IdentityError(f"{self.retired_path} is invalid: {exc}") from None
        return KeyRing(current, tuple(retired))

    def replace(self, old: SigningKey, new: SigningKey, now: str) -> None:
        """Make ``new`` the key and keep ``old``'s public key as retired.

        Order matters for a crash: the old public key is retired first, then the new
        private key and its public file replace the old ones; :meth:`load_or_create`
        mends any state in between, and no state loses a key that signed something.
        """
        ring = self.keyring()
        created = ring.current.created_at if ring.current is not None else None
        kept = [known for known in ring.retired if known.fingerprint != old.fingerprint]
        self._write_retired([*kept, KnownKey(old.public, created, now)])
        atomic_write(self.private_path, new.to_pem())
        atomic_write(self.public_path, _dump(KnownKey(new.public, now).to_json()))

    def _write_retired(self, retired: list[KnownKey]) -> None:
        atomic_write(self.retired_path, _dump({"retired": [known.to_json() for known in retired]}))

    def _ensure_directory(self) -> None:
        try:
            os.mkdir(self.directory, DIR_MODE)
        except FileExistsError:
            _refuse(stat_problems(self.directory, os.lstat(self.directory)))

    def _read_json(self, path: Path) -> Any:
        try:
            with open(path, "rb") as handle:  # public data: no mode check needed to read it
                return json.loads(handle.read(_MAX_KEY_FILE))
        except FileNotFoundError:
            return None
        except ValueError:
            raise IdentityError(f"{path} is not valid JSON") from None


def _refuse(problems: list[Any]) -> None:
    if problems:
        raise UnsafeHomeError(
            "refusing to use the identity key: "
            + "; ".join(f"{problem.path} {problem.problem}" for problem in problems),
            "; ".join(dict.fromkeys(problem.fix for problem in problems)),
        )


def _dump(data: dict[str, Any]) -> bytes:
    return (json.dumps(data, indent=2, sort_keys=True) + "\n").encode()
