"""The vault's bytes are pinned: a vault written today must open after any refactor.

``vault_vectors.json`` holds records sealed with a fixed key and fixed nonces (AES-GCM
is deterministic given both), the key's id, and a whole ``secrets.json``. The expected
bytes are also recomputed here straight from ``cryptography``'s AES-GCM, so that the
vectors check the layout (version byte, nonce, associated data) and not only that the
code agrees with itself.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from stockade.vault.format import key_id, seal, unseal
from stockade.vault.store import Document

VECTORS: dict[str, Any] = json.loads(
    (Path(__file__).parent / "vault_vectors.json").read_text(encoding="utf-8")
)
KEY = bytes.fromhex(VECTORS["key_hex"])


@pytest.mark.parametrize("vector", VECTORS["records"], ids=lambda v: v["name"])
def test_a_record_is_pinned_byte_for_byte(vector: dict[str, str]) -> None:
    nonce = bytes.fromhex(vector["nonce_hex"])
    record = bytes.fromhex(vector["record_hex"])
    assert seal(KEY, vector["name"], vector["value"], nonce) == record
    by_hand = AESGCM(KEY).encrypt(
        nonce, vector["value"].encode(), b"stockade-vault/v1\0" + vector["name"].encode()
    )
    assert record == b"\x01" + nonce + by_hand
    assert unseal(KEY, vector["name"], record) == vector["value"]


def test_the_key_id_is_pinned_and_is_not_the_key() -> None:
    expected = hmac.new(KEY, b"stockade-vault/key-id", hashlib.sha256).hexdigest()[:16]
    assert key_id(KEY) == VECTORS["key_id"] == expected


def test_the_golden_vault_file_opens() -> None:
    document = Document.from_bytes(VECTORS["vault_file"].encode(), Path("secrets.json"))
    assert document.key_id == VECTORS["key_id"]
    opened = {name: unseal(KEY, name, e.record) for name, e in document.entries.items()}
    assert opened == {vector["name"]: vector["value"] for vector in VECTORS["records"]}
    assert [item["name"] for item in document.listing()] == sorted(opened)
    assert document.to_bytes().decode() == VECTORS["vault_file"]  # written back unchanged
