"""A capability token: one grant to one agent, signed by the daemon's identity.

A token is a JSON object ``{"statement": {...}, "signature": "<base64>"}``. The
signature is ed25519 over the RFC 8785 (JCS) bytes of ``statement``
(:func:`stockade.identity.canonical_json`), the same encoding checkpoints and key
rotations use (``docs/adr/0007-capability-tokens.md``)::

    {"type": "stockade.capability.v1", "version": 1, "id": "cap_<16 hex>",
     "agent": "ci-bot", "capability": "shell.exec",
     "constraints": {"commands": ["git", "make test"]},
     "issued_at": "2026-12-04T23:00:00.000000Z", "expires_at": null | "<same form>",
     "key_fingerprint": "SHA256:<43 base64>"}

``type`` separates these statements from every other thing the key signs, so that no
checkpoint signature can pass for a grant. The token's **sha256** (the hex SHA-256 of
the JCS bytes of the whole token, signature included) is what the ``cap.granted``
event records, so the drift check can tell the file is the one the log granted.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from stockade.audit.checkpoints import Signer
from stockade.audit.events import format_ts
from stockade.caps.agents import check_agent_name
from stockade.caps.grant import Constraints, Grant, make_grant
from stockade.identity import KeyRing, canonical_json
from stockade.identity.keys import SIGNATURE_BYTES, b64decode, b64encode

TOKEN_TYPE = "stockade.capability.v1"  # noqa: S105  (a statement type, not a secret)
TOKEN_VERSION = 1
_ID = re.compile(r"cap_[0-9a-f]{16}")
_TS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z")
_FIELDS = frozenset(
    {
        "type",
        "version",
        "id",
        "agent",
        "capability",
        "constraints",
        "issued_at",
        "expires_at",
        "key_fingerprint",
    }
)


class TokenError(ValueError):
    """A token that is not well-formed; the message says what is wrong."""


def new_token_id() -> str:
    return "cap_" + secrets.token_hex(8)


def is_token_id(text: str) -> bool:
    return _ID.fullmatch(text) is not None


@dataclass(frozen=True, slots=True)
class Token:
    """A parsed token; well-formed, but not yet checked against any key."""

    statement: dict[str, Any]
    signature: str
    grant: Grant

    @property
    def id(self) -> str:
        return str(self.statement["id"])

    @property
    def agent(self) -> str:
        return str(self.statement["agent"])

    @property
    def key_fingerprint(self) -> str:
        return str(self.statement["key_fingerprint"])

    @property
    def issued_at(self) -> str:
        return str(self.statement["issued_at"])

    @property
    def expires_at(self) -> str | None:
        value = self.statement["expires_at"]
        return None if value is None else str(value)

    @property
    def expires_epoch(self) -> float | None:
        """``expires_at`` in seconds since the epoch (``None``: it does not expire)."""
        value = self.expires_at
        if value is None:
            return None
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()

    def to_json(self) -> dict[str, Any]:
        return {"statement": self.statement, "signature": self.signature}

    @property
    def sha256(self) -> str:
        """Hex SHA-256 of the token's JCS bytes: what ``cap.granted`` records."""
        return hashlib.sha256(canonical_json(self.to_json())).hexdigest()

    def signature_problem(self, ring: KeyRing, *, allow_retired: bool = False) -> str | None:
        """Why the signature does not count, or ``None`` when it does.

        Only the current key counts unless ``allow_retired`` (the drift check, which
        asks whether the daemon ever signed it): after a rotation the old key signs
        nothing that still grants (ADR 0007).
        """
        public = ring.find(self.key_fingerprint)
        if public is None:
            return f"signed by {self.key_fingerprint[:60]}, a key this daemon never had"
        try:
            signature = b64decode(self.signature, SIGNATURE_BYTES, "the signature")
        except ValueError as exc:
            return str(exc)
        if not public.verify(signature, canonical_json(self.statement)):
            return "its signature does not verify: the token was edited or forged"
        current = ring.current
        if not allow_retired and (current is None or current.fingerprint != public.fingerprint):
            return "signed by a retired key; re-issue it (`stockade identity rotate --reissue`)"
        return None


def issue(
    key: Signer,
    *,
    token_id: str,
    agent: str,
    grant: Grant,
    issued_at: datetime,
    expires_at: datetime | None,
) -> Token:
    """Sign a new token for ``grant`` with ``key``."""
    statement = {
        "type": TOKEN_TYPE,
        "version": TOKEN_VERSION,
        "id": token_id,
        "agent": agent,
        "capability": grant.capability,
        "constraints": grant.constraints.to_json(),
        "issued_at": format_ts(issued_at),
        "expires_at": None if expires_at is None else format_ts(expires_at),
        "key_fingerprint": key.fingerprint,
    }
    return Token(statement, b64encode(key.sign(canonical_json(statement))), grant)


def resign(token: Token, key: Signer) -> Token:
    """The same grant (id, agent, expiry, issue time) signed by ``key`` instead."""
    statement = {**token.statement, "key_fingerprint": key.fingerprint}
    return Token(statement, b64encode(key.sign(canonical_json(statement))), token.grant)


def parse_token(data: Any) -> Token:
    """A :class:`Token` from its JSON form; :class:`TokenError` saying what is malformed.

    The statement must be exactly what :func:`issue` writes: its fields, types, and
    the constraints in their validated form (a hand-written ``~/`` or ``git  status``
    is malformed, not reinterpreted).
    """
    if not isinstance(data, dict) or set(data) != {"statement", "signature"}:
        raise TokenError("a token is an object of exactly statement and signature")
    statement, signature = data["statement"], data["signature"]
    if not isinstance(statement, dict) or set(statement) != _FIELDS:
        raise TokenError(f"the statement must have exactly: {', '.join(sorted(_FIELDS))}")
    if not isinstance(signature, str):
        raise TokenError("the signature must be a base64 string")
    if statement["type"] != TOKEN_TYPE or statement["version"] != TOKEN_VERSION:
        raise TokenError(f"not a {TOKEN_TYPE} statement (version {TOKEN_VERSION})")
    if not (isinstance(statement["id"], str) and is_token_id(statement["id"])):
        raise TokenError("the id must be cap_ and 16 hex digits")
    for name in ("agent", "capability", "key_fingerprint", "issued_at"):
        if not isinstance(statement[name], str):
            raise TokenError(f"{name} must be a string")
    for name in ("issued_at", "expires_at"):
        value = statement[name]
        if not (value is None and name == "expires_at") and not (
            isinstance(value, str) and _TS.fullmatch(value)
        ):
            raise TokenError(f"{name} must be a UTC time like 2026-01-02T03:04:05.000000Z")
    try:
        check_agent_name(statement["agent"])
        constraints = Constraints.from_json(statement["constraints"])
        grant = make_grant(statement["capability"], constraints, user_home="/")
    except ValueError as exc:
        raise TokenError(str(exc)) from None
    if (
        grant.constraints.to_json() != statement["constraints"]
        or grant.capability != (statement["capability"])
    ):
        raise TokenError("the capability or its constraints are not in their canonical form")
    return Token(dict(statement), signature, grant)
