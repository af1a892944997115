"""One sealed secret: the bytes that keep a value, and the only code that opens them.

A record is ``version (1 byte) || nonce (12 bytes) || AES-256-GCM ciphertext and tag``.
The associated data is ``b"stockade-vault/v1\\0" + name`` (UTF-8): the secret's name is
authenticated with its value, so a record copied under another name does not open — an
attacker who can write the vault file cannot make ``secret://DEPLOY_KEY`` hand out the
value stored as ``TEST_KEY``. The version byte is authenticated too (it selects the
associated-data prefix), and an unknown version is refused before any decryption.

Every way a record can fail to open — wrong key, truncated, a flipped bit, another name
— raises :class:`VaultFormatError` with the name and a hint, never the value or the key.
``tests/golden/vault_vectors.json`` pins the bytes.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from stockade.errors import StockadeError

VERSION = 1
KEY_BYTES = 32
NONCE_BYTES = 12
TAG_BYTES = 16
AD_PREFIX = b"stockade-vault/v1\0"
MAX_VALUE_BYTES = 64 * 1024
# Names are what `secret://NAME` handles and env-var-like uses can carry verbatim.
NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_.-]{0,127}$"
_NAME = re.compile(NAME_PATTERN)
_KEY_ID_LABEL = b"stockade-vault/key-id"
_HEADER = 1 + NONCE_BYTES


class VaultError(StockadeError):
    """The vault or its key cannot be used; the message never carries a value or a key."""


class InvalidSecret(VaultError):
    """A name or value the vault does not keep (the caller's mistake, not the vault's)."""


class VaultFormatError(VaultError):
    """A record or the vault file does not open: wrong key, damaged, or moved between names."""


def check_name(name: str) -> str:
    """``name`` if it is a valid secret name, else a :class:`VaultError` saying what is."""
    if not _NAME.fullmatch(name):
        shown = name if len(name) <= 60 and name.isprintable() else name[:60].encode()
        raise InvalidSecret(
            f"invalid secret name {shown!r}",
            "a name is 1-128 letters, digits, '_', '-' or '.', starting with a letter or '_'",
        )
    return name


def check_value(value: str) -> bytes:
    """The value's UTF-8 bytes, refused when empty or over :data:`MAX_VALUE_BYTES`."""
    try:
        data = value.encode()
    except UnicodeEncodeError:
        raise InvalidSecret(
            "the secret value is not UTF-8 text", "store text, e.g. base64"
        ) from None
    if not data:
        raise InvalidSecret(
            "the secret value is empty", "pipe the value in, or type it at the prompt"
        )
    if len(data) > MAX_VALUE_BYTES:
        raise InvalidSecret(
            f"the secret value is {len(data)} bytes; at most {MAX_VALUE_BYTES} are kept",
            "store a path or a reference to a larger blob instead",
        )
    return data


def key_id(key: bytes) -> str:
    """A 64-bit keyed fingerprint naming which key a vault is sealed with (not the key)."""
    return hmac.new(key, _KEY_ID_LABEL, hashlib.sha256).hexdigest()[:16]


def seal(key: bytes, name: str, value: str, nonce: bytes | None = None) -> bytes:
    """Encrypt ``value`` under ``key`` for ``name``; ``nonce`` is for golden vectors only."""
    check_name(name)
    data = check_value(value)
    nonce = os.urandom(NONCE_BYTES) if nonce is None else nonce
    if len(key) != KEY_BYTES or len(nonce) != NONCE_BYTES:
        raise ValueError("a vault key is 32 bytes and a nonce 12")
    sealed = AESGCM(key).encrypt(nonce, data, _associated_data(name))
    return bytes([VERSION]) + nonce + sealed


def unseal(key: bytes, name: str, record: bytes) -> str:
    """The value sealed in ``record`` for ``name``; :class:`VaultFormatError` otherwise."""
    if not record:
        raise _damaged(name, "it is empty")
    if record[0] != VERSION:
        raise VaultFormatError(
            f"the vault record of {name!r} has format version {record[0]}; this Stockade reads "
            f"version {VERSION}",
            "upgrade Stockade, or restore the vault from the backup it came with",
        )
    if len(record) < _HEADER + TAG_BYTES:
        raise _damaged(name, "it is truncated")
    nonce, sealed = record[1:_HEADER], record[_HEADER:]
    try:
        data = AESGCM(key).decrypt(nonce, sealed, _associated_data(name))
    except InvalidTag:
        raise VaultFormatError(
            f"the vault record of {name!r} does not open: wrong master key, or the record was "
            "altered or moved from another name",
            "check which master key is in use (`stockade doctor`); restore the vault from a "
            "backup if it was altered",
        ) from None
    try:
        return data.decode()
    except UnicodeDecodeError:  # sealed by something else than Stockade
        raise _damaged(name, "its value is not UTF-8 text") from None


def _associated_data(name: str) -> bytes:
    return AD_PREFIX + name.encode()


def _damaged(name: str, why: str) -> VaultFormatError:
    return VaultFormatError(
        f"the vault record of {name!r} is damaged: {why}",
        "restore the vault from a backup, or remove the secret and add it again",
    )
