"""The chain encoding is pinned: existing logs must keep verifying after any refactor."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from stockade.audit.chain import GENESIS_HASH, event_hash
from stockade.audit.events import canonical_payload

VECTORS: list[dict[str, Any]] = json.loads(
    (Path(__file__).parent / "audit_vectors.json").read_text(encoding="utf-8")
)["vectors"]


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: f"seq{v['seq']}-{v['kind']}")
def test_vector_hash_is_pinned(vector: dict[str, Any]) -> None:
    assert canonical_payload(vector["payload"]) == vector["payload_json"]
    recomputed = event_hash(
        vector["prev_hash"],
        vector["seq"],
        vector["ts"],
        vector["kind"],
        vector["actor"],
        vector["session"],
        vector["payload_json"],
    )
    assert recomputed == vector["hash"]


def test_vectors_form_one_chain() -> None:
    previous = GENESIS_HASH
    for expected_seq, vector in enumerate(VECTORS, start=1):
        assert vector["seq"] == expected_seq
        assert vector["prev_hash"] == previous
        previous = vector["hash"]


def test_encoding_matches_its_written_definition() -> None:
    """Rebuilt by hand from the docstring, so the vectors do not merely pin themselves."""
    vector = VECTORS[0]
    fields = [
        vector["prev_hash"],
        str(vector["seq"]),
        vector["ts"],
        vector["kind"],
        vector["actor"],
    ]
    framed = b"stockade.audit.v1"
    for text in fields:
        data = text.encode()
        framed += str(len(data)).encode() + b":" + data + b","
    framed += b"~"  # session is None
    payload = vector["payload_json"].encode()
    framed += str(len(payload)).encode() + b":" + payload + b","
    assert hashlib.sha256(framed).hexdigest() == vector["hash"]


def test_vectors_cover_the_tricky_cases() -> None:
    sessions = [v["session"] for v in VECTORS]
    assert None in sessions and "" in sessions
    assert any(not v["payload"] for v in VECTORS)
    assert any(not v["payload_json"].isascii() for v in VECTORS)
