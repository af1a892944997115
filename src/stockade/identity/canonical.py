"""The one byte form of a signed statement: RFC 8785 JSON canonicalization (JCS).

A signature covers bytes, not objects, so every signer and verifier must turn the same
object into the same bytes. JCS does that for plain JSON: keys sorted by their UTF-16
code units, no whitespace, strings escaped the way ECMAScript's ``JSON.stringify``
escapes them, numbers in ECMAScript's shortest form. It needs no schema, any JSON
library can reproduce it, and the signed text stays readable in an anchor or a ticket.

We use Trail of Bits' ``rfc8785`` package (the implementation sigstore-python relies
on) rather than our own subset: the escaping and number rules are easy to get subtly
wrong, and ``tests/golden/identity_vectors.json`` pins the bytes either way.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import rfc8785


def canonical_json(statement: Mapping[str, Any]) -> bytes:
    """The RFC 8785 bytes of ``statement``; ``ValueError`` for what JCS cannot encode.

    JCS refuses NaN, infinities and integers beyond ±2**53 (I-JSON), and so do we.
    """
    try:
        return rfc8785.dumps(dict(statement))
    except rfc8785.CanonicalizationError as exc:
        raise ValueError(f"cannot canonicalize: {exc}") from None
