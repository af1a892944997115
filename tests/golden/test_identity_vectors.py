"""The signed formats are pinned: a kept anchor must keep verifying after any refactor.

``identity_vectors.json`` holds RFC 8785 canonical forms (two of them the RFC's own
examples), keys from RFC 8032 seeds with their fingerprints, a checkpoint's signed
bytes and signature (ed25519 is deterministic) and a rotation payload.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from stockade.audit.checkpoints import parse_anchor, sign_head
from stockade.audit.events import ChainHead
from stockade.identity import SigningKey, canonical_json
from stockade.identity.rotation import rotation_keys, sign_rotation

VECTORS: dict[str, Any] = json.loads(
    (Path(__file__).parent / "identity_vectors.json").read_text(encoding="utf-8")
)


def key(seed_hex: str) -> SigningKey:
    return SigningKey.from_seed(bytes.fromhex(seed_hex))


@pytest.mark.parametrize("vector", VECTORS["jcs"], ids=lambda v: v["canonical"][:24])
def test_canonical_json_is_pinned(vector: dict[str, str]) -> None:
    assert canonical_json(json.loads(vector["input"])) == vector["canonical"].encode()


@pytest.mark.parametrize("vector", VECTORS["keys"], ids=lambda v: v["fingerprint"])
def test_public_key_and_fingerprint_are_pinned(vector: dict[str, str]) -> None:
    signing = key(vector["seed_hex"])
    assert signing.public.b64 == vector["public_key"]
    assert signing.fingerprint == vector["fingerprint"]
    assert vector["fingerprint"].startswith("SHA256:") and len(vector["fingerprint"]) == 50


def test_checkpoint_bytes_and_signature_are_pinned() -> None:
    vector = VECTORS["checkpoint"]
    signing = key(vector["seed_hex"])
    checkpoint = sign_head(ChainHead(vector["seq"], vector["hash"]), signing, vector["ts"])
    assert canonical_json(checkpoint.statement()) == vector["canonical"].encode()
    assert checkpoint.anchor(signing.public) == vector["anchor"]
    parsed, public = parse_anchor(vector["anchor"])
    assert parsed == checkpoint and parsed.verifies_with(public)


def test_rotation_payload_is_pinned() -> None:
    vector = VECTORS["rotation"]
    old, new = key(vector["old_seed_hex"]), key(vector["new_seed_hex"])
    assert sign_rotation(old, new, vector["ts"]) == vector["payload"]
    assert rotation_keys(vector["payload"]) == (old.public, new.public)


@pytest.mark.parametrize(
    ("field", "value"),
    [("seq", 43), ("hash", "cd" * 32), ("ts", "2026-01-02T03:04:05.000007Z")],
)
def test_an_edited_anchor_no_longer_verifies(field: str, value: object) -> None:
    edited = {**VECTORS["checkpoint"]["anchor"], field: value}
    checkpoint, public = parse_anchor(edited)
    assert not checkpoint.verifies_with(public)


def test_an_edited_rotation_no_longer_verifies() -> None:
    payload = json.loads(json.dumps(VECTORS["rotation"]["payload"]))
    payload["statement"]["ts"] = "2030-01-01T00:00:00.000000Z"
    with pytest.raises(ValueError, match="signature does not verify"):
        rotation_keys(payload)
