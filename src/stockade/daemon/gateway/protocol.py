"""The HTTP protocol of the gateway: uvicorn's httptools protocol plus a read deadline.

uvicorn bounds only the idle time between requests (``timeout_keep_alive``); a
client that opens a connection and then sends its headers one byte a minute
(slowloris) holds the connection, and a file descriptor, forever — harmless on a
private socket, not on a TCP port. This subclass gives each request
``read_timeout_s`` from its first byte (for the first request of a connection: from
the connect) to arrive whole. When the headers are not complete by then it answers
``408 read_timeout`` and closes; when the body is still arriving (the route already
runs) it closes the connection, and the route sees the client go.
"""

from __future__ import annotations

import asyncio
import json
from typing import ClassVar

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

_BODY = json.dumps(
    {
        "error": {
            "code": "read_timeout",
            "message": "the request did not arrive within the gateway's read timeout",
            "hint": "send the whole request at once",
            "details": [],
        }
    }
).encode()
TIMEOUT_RESPONSE = (
    b"HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\n"
    + f"content-length: {len(_BODY)}\r\n".encode()
    + b"connection: close\r\n\r\n"
    + _BODY
)


class DeadlineProtocol(HttpToolsProtocol):
    """Set ``read_timeout_s`` on a subclass (see :func:`with_read_timeout`)."""

    read_timeout_s: ClassVar[float] = 10.0
    _read_timer: asyncio.TimerHandle | None = None
    _in_headers = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_headers = True
        self._arm()

    def on_headers_complete(self) -> None:
        self._in_headers = False
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._disarm()
        super().on_message_complete()

    def _arm(self) -> None:
        if self._read_timer is None:
            self._read_timer = self.loop.call_later(self.read_timeout_s, self._expired)

    def _disarm(self) -> None:
        if self._read_timer is not None:
            self._read_timer.cancel()
            self._read_timer = None

    def _expired(self) -> None:
        self._read_timer = None
        if self.transport.is_closing():
            return
        # Answer only when no response is on its way (a pipelined one could be).
        if self.cycle is None or (self._in_headers and self.cycle.response_complete):
            self.transport.write(TIMEOUT_RESPONSE)
        self.transport.close()


def with_read_timeout(read_timeout_s: float) -> type[DeadlineProtocol]:
    """The protocol class uvicorn instantiates per connection, with this deadline."""
    return type("GatewayProtocol", (DeadlineProtocol,), {"read_timeout_s": read_timeout_s})
