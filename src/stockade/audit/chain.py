"""The chain hash: pure, so that the writer and the verifier cannot disagree.

Each event's hash covers the previous event's hash, so editing, deleting,
inserting or reordering any event breaks every later link. The encoding is
unambiguous without any parsing: every field is a netstring of its UTF-8 bytes,
and an absent session is a single ``~`` (a netstring always starts with a digit)::

    hash = hex(SHA-256( b"stockade.audit.v1"
                        || N(prev_hash) || N(str(seq)) || N(ts) || N(kind)
                        || N(actor) || (b"~" if session is None else N(session))
                        || N(payload_json) ))
    N(x) = ascii(decimal len(utf8(x))) || b":" || utf8(x) || b","

``seq`` is plain decimal ASCII; ``payload_json`` is the stored text exactly
(:func:`stockade.audit.events.canonical_payload`). The golden vectors in
``tests/golden/audit_vectors.json`` pin this; changing it means a new tag (``v2``)
and a migration, never a silent edit.
"""

from __future__ import annotations

from hashlib import sha256

GENESIS_HASH = "0" * 64
TAG = b"stockade.audit.v1"

_WITH_SESSION = TAG + b"%d:%b,%d:%b,%d:%b,%d:%b,%d:%b,%d:%b,%d:%b,"
_WITHOUT_SESSION = TAG + b"%d:%b,%d:%b,%d:%b,%d:%b,%d:%b,~%d:%b,"


def event_hash(
    prev_hash: str,
    seq: int,
    ts: str,
    kind: str,
    actor: str,
    session: str | None,
    payload_json: str,
) -> str:
    """The hex hash of one event (see the module docstring for the encoding)."""
    return event_hash_raw(
        prev_hash.encode(),
        seq,
        ts.encode(),
        kind.encode(),
        actor.encode(),
        None if session is None else session.encode(),
        payload_json.encode(),
    )


def event_hash_raw(
    prev_hash: bytes,
    seq: int,
    ts: bytes,
    kind: bytes,
    actor: bytes,
    session: bytes | None,
    payload: bytes,
) -> str:
    """:func:`event_hash` over the stored bytes, so the verifier never decodes text."""
    seq_text = b"%d" % seq
    if session is None:
        framed = _WITHOUT_SESSION % (
            len(prev_hash), prev_hash, len(seq_text), seq_text, len(ts), ts,
            len(kind), kind, len(actor), actor, len(payload), payload,
        )  # fmt: skip
    else:
        framed = _WITH_SESSION % (
            len(prev_hash), prev_hash, len(seq_text), seq_text, len(ts), ts,
            len(kind), kind, len(actor), actor, len(session), session,
            len(payload), payload,
        )  # fmt: skip
    return sha256(framed).hexdigest()
