"""The daemon's identity: an ed25519 key that signs what others must be able to check.

Today it signs audit checkpoints (:mod:`stockade.audit.checkpoints`) and key
rotations; capability tokens will be signed by the same key. The API for that:

- :class:`IdentityFiles` (``load_signing_key``, ``load_or_create``, ``keyring``) reads
  and writes ``$STOCKADE_HOME/identity/``;
- :class:`SigningKey` ``.sign(bytes)``; :class:`PublicKey` ``.verify(signature, bytes)``;
- :class:`KeyRing` ``.find(fingerprint)`` checks against the current and retired keys;
- :func:`canonical_json` gives the RFC 8785 bytes of a statement; :func:`fingerprint`.
"""

from stockade.identity.canonical import canonical_json
from stockade.identity.keys import PublicKey, SigningKey, fingerprint
from stockade.identity.store import IdentityError, IdentityFiles, KeyRing, KnownKey

__all__ = [
    "IdentityError",
    "IdentityFiles",
    "KeyRing",
    "KnownKey",
    "PublicKey",
    "SigningKey",
    "canonical_json",
    "fingerprint",
]
