"""Where the vault's master key lives: the OS keychain, ``STOCKADE_MASTER_KEY``, or a key file.

The sources are tried in this order, and the first that applies is *the* source:

1. **keychain** — the OS keychain through ``keyring``, when it has a usable backend.
   On a headless box ``keyring`` has none (its ``fail``/``null`` backends, or a
   chainer with nothing in it); that is detected without calling the backend, and
   every call to a real backend runs under a deadline, so a keychain that waits for
   an unlock prompt nobody sees cannot hang the daemon: it is reported as unusable.
2. **env** — ``STOCKADE_MASTER_KEY``: 32 bytes in base64 (``openssl rand -base64 32``),
   set from a secrets manager on servers. Stockade cannot change an environment
   variable, so ``rotate-key`` is refused with this source.
3. **file** — ``$STOCKADE_HOME/vault/master.key`` (0600, created on first use). The key
   sits next to the vault: the protection is reduced to file permissions, and
   ``stockade doctor`` says so.

A source also keeps a *pending* key while a rotation runs (a second keychain entry, or
``master.key.next``): see :mod:`stockade.vault.store` for how that makes a rotation
that is killed halfway lose nothing. Keys are never logged or put in a message.
"""

from __future__ import annotations

import base64
import binascii
import os
import queue
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Literal, Protocol, TypeVar

from stockade.home import Home, atomic_write
from stockade.vault.format import KEY_BYTES, VaultError
from stockade.vault.private import read_private

ENV_VAR = "STOCKADE_MASTER_KEY"
KEYRING_SERVICE = "stockade-vault"
KEYRING_TIMEOUT_S = 5.0
KEY_FILE = "master.key"
PENDING_SUFFIX = ".next"
SourceName = Literal["keychain", "env", "file"]
_T = TypeVar("_T")


class KeySource(Protocol):
    """One place a master key is kept, with room for a pending key during a rotation."""

    name: SourceName

    def describe(self) -> str: ...
    def load(self) -> bytes | None: ...
    def load_pending(self) -> bytes | None: ...
    def store(self, key: bytes) -> None: ...
    def stage(self, key: bytes) -> None: ...
    def discard_pending(self) -> None: ...


def generate_key() -> bytes:
    return os.urandom(KEY_BYTES)


def encode_key(key: bytes) -> str:
    return base64.b64encode(key).decode()


def decode_key(text: str, where: str) -> bytes:
    """A base64 (or base64url) 32-byte key; the error names ``where``, never the text."""
    cleaned = text.strip()
    try:
        key = base64.b64decode(cleaned.replace("-", "+").replace("_", "/"), validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != KEY_BYTES:
        raise VaultError(
            f"{where} is not a master key: it must be {KEY_BYTES} random bytes in base64",
            "make one with `openssl rand -base64 32`",
        )
    return key


def promote(source: KeySource, key: bytes) -> None:
    """Make the pending ``key`` the key: stored first, then the pending copy dropped."""
    source.store(key)
    source.discard_pending()


class EnvSource:
    """``STOCKADE_MASTER_KEY``: read only."""

    name: SourceName = "env"

    def __init__(self, value: str) -> None:
        self._value = value

    def describe(self) -> str:
        return f"the environment variable {ENV_VAR}"

    def load(self) -> bytes:
        return decode_key(self._value, ENV_VAR)

    def load_pending(self) -> None:
        return None

    def store(self, key: bytes) -> None:
        raise VaultError(
            f"the master key comes from {ENV_VAR}, which Stockade cannot change",
            f"set {ENV_VAR} before the first `stockade secret add`, and rotate it in your "
            "secrets manager together with a fresh vault",
        )

    stage = store

    def discard_pending(self) -> None:
        return None


class FileSource:
    """``$STOCKADE_HOME/vault/master.key``: a file private to you, beside the vault."""

    name: SourceName = "file"

    def __init__(self, directory: Path) -> None:
        self.path = directory / KEY_FILE
        self.pending_path = directory / (KEY_FILE + PENDING_SUFFIX)

    def describe(self) -> str:
        return f"the key file {self.path}"

    def load(self) -> bytes | None:
        return self._read(self.path)

    def load_pending(self) -> bytes | None:
        return self._read(self.pending_path)

    def store(self, key: bytes) -> None:
        atomic_write(self.path, (encode_key(key) + "\n").encode())

    def stage(self, key: bytes) -> None:
        atomic_write(self.pending_path, (encode_key(key) + "\n").encode())

    def discard_pending(self) -> None:
        try:
            os.unlink(self.pending_path)
        except FileNotFoundError:
            pass

    def _read(self, path: Path) -> bytes | None:
        raw = read_private(path, 1024)
        return None if raw is None else decode_key(raw.decode("ascii", "replace"), str(path))


class KeychainSource:
    """The OS keychain: one entry per Stockade home (its path is the account name)."""

    name: SourceName = "keychain"

    def __init__(self, home: Home) -> None:
        self.account = str(home.root)
        self.pending_account = self.account + PENDING_SUFFIX

    def describe(self) -> str:
        return f"the OS keychain (service {KEYRING_SERVICE!r}, account {self.account!r})"

    def load(self) -> bytes | None:
        return self._get(self.account)

    def load_pending(self) -> bytes | None:
        return self._get(self.pending_account)

    def store(self, key: bytes) -> None:
        self._set(self.account, key)

    def stage(self, key: bytes) -> None:
        self._set(self.pending_account, key)

    def discard_pending(self) -> None:
        import keyring.errors

        def delete() -> None:
            try:
                keyring.delete_password(KEYRING_SERVICE, self.pending_account)
            except keyring.errors.PasswordDeleteError:
                pass  # there was none

        _with_deadline(delete)

    def _get(self, account: str) -> bytes | None:
        import keyring

        text = _with_deadline(lambda: keyring.get_password(KEYRING_SERVICE, account))
        return None if text is None else decode_key(text, f"the keychain entry {account!r}")

    def _set(self, account: str, key: bytes) -> None:
        import keyring

        _with_deadline(lambda: keyring.set_password(KEYRING_SERVICE, account, encode_key(key)))


def keychain_usable() -> bool:
    """Whether ``keyring`` has a backend that can really keep a key.

    Only the backend's class is looked at (no key is read or written); choosing it runs
    under the deadline too, since a backend's probe may talk to D-Bus.
    """
    try:
        return _with_deadline(_real_backend)
    except VaultError:
        return False


def _real_backend() -> bool:
    try:
        import keyring
        from keyring.backends import chainer, fail, null

        backend = keyring.get_keyring()
    except Exception:  # a broken install or backend: not usable, and not our crash
        return False
    if isinstance(backend, fail.Keyring | null.Keyring):
        return False
    if isinstance(backend, chainer.ChainerBackend):
        return bool(backend.backends)
    return True


def choose_source(home: Home, env: Mapping[str, str]) -> KeySource:
    """The first source that applies, in the order of the module docstring."""
    if keychain_usable():
        return KeychainSource(home)
    value = env.get(ENV_VAR)
    if value:
        return EnvSource(value)
    return FileSource(home.root / "vault")


def _with_deadline(call: Callable[[], _T]) -> _T:
    """Run a keychain call in a thread; past :data:`KEYRING_TIMEOUT_S` it is abandoned."""
    answers: queue.Queue[tuple[bool, object]] = queue.Queue(maxsize=1)

    def run() -> None:
        try:
            answers.put((True, call()))
        except Exception as exc:
            answers.put((False, exc))

    threading.Thread(target=run, name="stockade-keychain", daemon=True).start()
    try:
        ok, answer = answers.get(timeout=KEYRING_TIMEOUT_S)
    except queue.Empty:
        raise VaultError(
            f"the OS keychain did not answer within {KEYRING_TIMEOUT_S:g} s (locked?)",
            "unlock the keychain, or set PYTHON_KEYRING_BACKEND=keyring.backends.fail.Keyring "
            f"to use {ENV_VAR} or the key file instead",
        ) from None
    if not ok:
        raise VaultError(
            f"the OS keychain refused: {type(answer).__name__}",
            "unlock the keychain, or set PYTHON_KEYRING_BACKEND=keyring.backends.fail.Keyring "
            f"to use {ENV_VAR} or the key file instead",
        )
    return answer  # type: ignore[return-value]  # the call's own result when ok
