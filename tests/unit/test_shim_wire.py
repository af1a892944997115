"""The shim's one-request HTTP exchange: every malformed reply is an error, never a value."""

from __future__ import annotations

import pytest

from stockade.errors import StockadeError
from stockade.shim.wire import MAX_BODY_BYTES, _decode, post_json

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


def test_a_body_over_the_daemon_limit_is_refused_before_connecting() -> None:
    # No socket exists at this path: refusing to send is what raises, not the connect.
    body = {"output": "a" * MAX_BODY_BYTES}
    with pytest.raises(StockadeError) as info:
        post_json("/nonexistent/stockade.sock", "/tool-results", body, 1.0)
    assert "larger than the 1 MiB" in info.value.message
    assert type(info.value) is StockadeError  # not DaemonUnavailable: nothing was tried
