"""Ed25519 keys: the daemon's signing key, public keys, and their fingerprints.

Ed25519 because signatures are small (64 bytes), deterministic (the same statement
always gets the same signature, so golden vectors can pin them) and fast to make
and check (tens of microseconds), and because keys cannot be weak by choice of
parameters. Public keys travel as standard base64 (RFC 4648 §4, padded) of their raw
32 bytes; signatures likewise of their 64 bytes.

A **fingerprint** names a public key the way OpenSSH does::

    "SHA256:" + base64(sha256(raw 32-byte public key)) without "=" padding

(43 characters after the prefix), so ``ssh-keygen -l``-style comparisons read alike.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from hashlib import sha256

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ALGORITHM = "ed25519"
PUBLIC_KEY_BYTES = 32
SIGNATURE_BYTES = 64


def b64encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def b64decode(text: str, size: int, what: str) -> bytes:
    """Strict standard base64 of exactly ``size`` bytes; ``ValueError`` naming ``what``."""
    try:
        data = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise ValueError(f"{what} is not base64") from None
    if len(data) != size:
        raise ValueError(f"{what} must be {size} bytes, not {len(data)}")
    return data


def fingerprint(raw_public_key: bytes) -> str:
    """``SHA256:`` + unpadded base64 of the key's SHA-256 (see the module docstring)."""
    return "SHA256:" + b64encode(sha256(raw_public_key).digest()).rstrip("=")


@dataclass(frozen=True, slots=True)
class PublicKey:
    """A verifying key; only ever checks signatures."""

    raw: bytes

    def __post_init__(self) -> None:
        if len(self.raw) != PUBLIC_KEY_BYTES:
            raise ValueError(f"an ed25519 public key is {PUBLIC_KEY_BYTES} bytes")

    @classmethod
    def from_b64(cls, text: str) -> PublicKey:
        return cls(b64decode(text, PUBLIC_KEY_BYTES, "public key"))

    @property
    def b64(self) -> str:
        return b64encode(self.raw)

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.raw)

    def verify(self, signature: bytes, message: bytes) -> bool:
        """True when ``signature`` is this key's over exactly ``message``."""
        try:
            Ed25519PublicKey.from_public_bytes(self.raw).verify(signature, message)
        except InvalidSignature:
            return False
        return True


class SigningKey:
    """The private half. Its repr never shows key material."""

    __slots__ = ("_private", "public")

    def __init__(self, private: Ed25519PrivateKey) -> None:
        self._private = private
        self.public = PublicKey(
            private.public_key().public_bytes(
                serialization.Encoding.Raw, serialization.PublicFormat.Raw
            )
        )

    @classmethod
    def generate(cls) -> SigningKey:
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def from_seed(cls, seed: bytes) -> SigningKey:
        """A key from its 32-byte seed (golden tests use a fixed one)."""
        return cls(Ed25519PrivateKey.from_private_bytes(seed))

    @classmethod
    def from_pem(cls, data: bytes) -> SigningKey:
        """A PKCS#8 PEM private key; ``ValueError`` when it is not an unencrypted ed25519 one."""
        try:
            private = serialization.load_pem_private_key(data, password=None)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"not a PKCS#8 PEM private key ({type(exc).__name__})") from None
        if not isinstance(private, Ed25519PrivateKey):
            raise ValueError("the private key is not an ed25519 key")
        return cls(private)

    def to_pem(self) -> bytes:
        return self._private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    @property
    def fingerprint(self) -> str:
        return self.public.fingerprint

    def sign(self, message: bytes) -> bytes:
        return self._private.sign(message)

    def __repr__(self) -> str:
        return f"SigningKey({self.fingerprint})"
