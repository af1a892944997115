"""The shim's one-request HTTP exchange: every malformed reply is an error, never a value."""

from __future__ import annotations

import pytest

from stockade.errors import StockadeError
from stockade.shim.wire import _decode

REFUSED = b'{"error":{"message":"bad cwd field"}}'


def reply(status: bytes, headers: bytes, body: bytes) -> bytes:
    return b"HTTP/1.1 " + status + b"\r\n" + headers + b"\r\n\r\n" + body


def test_a_good_reply_decodes() -> None:
    body = b'{"verdict":"deny"}'
    assert _decode(reply(b"200 OK", b"content-length: %d" % len(body), body)) == {"verdict": "deny"}


@pytest.mark.parametrize(
    ("raw", "needle"),
    [
        (b"", "not HTTP"),
        (b"garbage\r\n\r\n{}", "not HTTP"),
        (reply(b"xx OK", b"content-length: 2", b"{}"), "no status"),
        (reply(b"200 OK", b"content-length: 50", b"{}"), "truncated"),
        (reply(b"200 OK", b"", b"{}"), "truncated"),
        (reply(b"200 OK", b"content-length: x", b"{}"), "Content-Length"),
        (reply(b"200 OK", b"transfer-encoding: chunked", b"2\r\n{}\r\n0\r\n\r\n"), "encoding"),
        (reply(b"200 OK", b"content-length: 3", b"{x}"), "not JSON"),
        (reply(b"422 No", b"content-length: %d" % len(REFUSED), REFUSED), "422: bad cwd field"),
    ],
)
def test_malformed_or_refused_replies_raise(raw: bytes, needle: str) -> None:
    with pytest.raises(StockadeError) as info:
        _decode(raw)
    assert needle in info.value.message
