"""The key-rotation statement: the old key hands over to the new one, both signing.

``identity.rotated`` events carry this payload::

    {"statement": {"new_fingerprint", "new_public_key", "old_fingerprint",
                   "old_public_key", "ts", "type": "stockade.identity.rotation.v1"},
     "old_signature": "<base64>", "new_signature": "<base64>"}

Both signatures cover the same RFC 8785 bytes of ``statement``: the old key's says
"I hand over to this key", the new key's says "I was there to accept it" (a statement
nobody could make with only the old key and a public key they do not hold).
"""

from __future__ import annotations

from typing import Any

from stockade.identity.canonical import canonical_json
from stockade.identity.keys import SIGNATURE_BYTES, PublicKey, SigningKey, b64decode, b64encode

ROTATION_TYPE = "stockade.identity.rotation.v1"
ROTATED_KIND = "identity.rotated"


def rotation_statement(old: PublicKey, new: PublicKey, ts: str) -> dict[str, Any]:
    return {
        "type": ROTATION_TYPE,
        "old_fingerprint": old.fingerprint,
        "old_public_key": old.b64,
        "new_fingerprint": new.fingerprint,
        "new_public_key": new.b64,
        "ts": ts,
    }


def sign_rotation(old: SigningKey, new: SigningKey, ts: str) -> dict[str, Any]:
    """The ``identity.rotated`` payload (see the module docstring)."""
    statement = rotation_statement(old.public, new.public, ts)
    message = canonical_json(statement)
    return {
        "statement": statement,
        "old_signature": b64encode(old.sign(message)),
        "new_signature": b64encode(new.sign(message)),
    }


def rotation_keys(payload: Any) -> tuple[PublicKey, PublicKey]:
    """The old and new keys of a rotation payload whose two signatures verify.

    Raises ``ValueError`` saying what is wrong: a malformed payload, a fingerprint
    that does not match its key, or a signature that does not verify.
    """
    if not isinstance(payload, dict) or not isinstance(payload.get("statement"), dict):
        raise ValueError("the payload has no rotation statement")
    statement = payload["statement"]
    if statement.get("type") != ROTATION_TYPE:
        raise ValueError(f"the statement is not a {ROTATION_TYPE}")
    message = canonical_json(statement)
    keys: list[PublicKey] = []
    for side in ("old", "new"):
        public = PublicKey.from_b64(str(statement.get(f"{side}_public_key")))
        if statement.get(f"{side}_fingerprint") != public.fingerprint:
            raise ValueError(f"the {side} fingerprint does not match the {side} public key")
        signature = b64decode(str(payload.get(f"{side}_signature")), SIGNATURE_BYTES, "signature")
        if not public.verify(signature, message):
            raise ValueError(f"the {side} key's signature does not verify")
        keys.append(public)
    return keys[0], keys[1]
