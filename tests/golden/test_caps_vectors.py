"""The capability token format is pinned: a granted token must keep verifying after any refactor.

``caps_vectors.json`` holds tokens issued with the RFC 8032 test-vector-1 seed: the
RFC 8785 bytes of each statement, the token (ed25519 is deterministic, so the
signature is fixed) and the sha256 a ``cap.granted`` event records. Tampering with a
pinned token in any way must make it grant nothing.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from stockade.caps.grant import Constraints, make_grant
from stockade.caps.token import TokenError, issue, parse_token
from stockade.identity import KeyRing, KnownKey, SigningKey, canonical_json
from stockade.identity.keys import b64encode

VECTORS: dict[str, Any] = json.loads(
    (Path(__file__).parent / "caps_vectors.json").read_text(encoding="utf-8")
)
KEY = SigningKey.from_seed(bytes.fromhex(VECTORS["seed_hex"]))
OTHER = SigningKey.from_seed(
    bytes.fromhex("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb")
)
RING = KeyRing(KnownKey(KEY.public, None))
TOKENS = VECTORS["tokens"]


def _moment(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.mark.parametrize("vector", TOKENS, ids=lambda v: v["token"]["statement"]["capability"])
def test_issuing_reproduces_the_pinned_bytes_signature_and_sha256(vector: dict[str, Any]) -> None:
    statement = vector["token"]["statement"]
    grant = make_grant(
        statement["capability"],
        Constraints.from_json(statement["constraints"]),
        user_home="/home/u",
    )
    issued_at = _moment(statement["issued_at"])
    assert issued_at is not None
    token = issue(
        KEY,
        token_id=statement["id"],
        agent=statement["agent"],
        grant=grant,
        issued_at=issued_at,
        expires_at=_moment(statement["expires_at"]),
    )
    assert canonical_json(token.statement) == vector["canonical"].encode()
    assert token.to_json() == vector["token"]
    assert token.sha256 == vector["sha256"]


@pytest.mark.parametrize("vector", TOKENS, ids=lambda v: v["token"]["statement"]["id"])
def test_a_pinned_token_parses_and_verifies(vector: dict[str, Any]) -> None:
    token = parse_token(vector["token"])
    assert token.signature_problem(RING) is None
    assert token.sha256 == vector["sha256"]


@pytest.mark.parametrize(
    ("index", "field", "value"),
    [
        (0, "agent", "other-bot"),
        (2, "capability", "fs.write"),
        (0, "constraints", {"commands": ["git", "make test", "rm"]}),
        (0, "constraints", {}),
        (1, "constraints", {"args": {"path": "/**"}}),
        (1, "expires_at", "2099-01-01T00:00:00.000000Z"),
        (0, "expires_at", "2099-01-01T00:00:00.000000Z"),
        (0, "issued_at", "2026-12-05T23:00:00.000000Z"),
        (0, "id", "cap_0123456789abcdee"),
    ],
)
def test_an_edited_statement_no_longer_verifies(index: int, field: str, value: object) -> None:
    data = json.loads(json.dumps(TOKENS[index]["token"]))
    data["statement"][field] = value
    token = parse_token(data)
    assert token.signature_problem(RING) == (
        "its signature does not verify: the token was edited or forged"
    )


def test_a_token_signed_by_another_key_grants_nothing() -> None:
    statement = dict(TOKENS[0]["token"]["statement"])
    # Signed by a stranger under its own fingerprint: a key this daemon never had.
    own = {**statement, "key_fingerprint": OTHER.fingerprint}
    signed = {"statement": own, "signature": b64encode(OTHER.sign(canonical_json(own)))}
    assert "a key this daemon never had" in str(parse_token(signed).signature_problem(RING))
    # ... and claiming the daemon's fingerprint: the signature does not verify.
    forged = {"statement": statement, "signature": b64encode(OTHER.sign(canonical_json(statement)))}
    assert "does not verify" in str(parse_token(forged).signature_problem(RING))


def test_a_token_signed_by_a_retired_key_grants_nothing_but_was_ours() -> None:
    ring = KeyRing(KnownKey(OTHER.public, None), (KnownKey(KEY.public, None, "2026-12-05"),))
    token = parse_token(TOKENS[0]["token"])
    assert "retired key" in str(token.signature_problem(ring))
    assert token.signature_problem(ring, allow_retired=True) is None


@pytest.mark.parametrize(
    "edit",
    [
        lambda t: t.update(extra=1),
        lambda t: t["statement"].update(type="stockade.checkpoint.v1"),
        lambda t: t["statement"].update(version=2),
        lambda t: t["statement"].update(id="cap_XYZ"),
        lambda t: t["statement"].update(agent="Not A Name"),
        lambda t: t["statement"].update(capability="shell.exec.anything"),
        lambda t: t["statement"].update(constraints={"commands": ["git; rm -rf ~"]}),
        lambda t: t["statement"].update(constraints={"paths": ["~/secret"]}),
        lambda t: t["statement"].update(constraints={"commands": ["git  status"]}),
        lambda t: t["statement"].update(expires_at="tomorrow"),
        lambda t: t["statement"].pop("key_fingerprint"),
        lambda t: t.update(signature=7),
    ],
)
def test_a_malformed_token_is_refused_before_any_key_is_tried(edit: Any) -> None:
    data = json.loads(json.dumps(TOKENS[0]["token"]))
    edit(data)
    with pytest.raises(TokenError):
        parse_token(data)


def test_a_signature_that_is_not_base64_is_a_problem_not_a_crash() -> None:
    data = {**TOKENS[0]["token"], "signature": "not base64!"}
    assert "base64" in str(parse_token(data).signature_problem(RING))
