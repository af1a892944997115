"""The client's SSE reader against canned replies on a real Unix socket.

A one-shot server thread writes exact bytes, so the reader meets what the daemon never
sends (CRLF line ends, comments, multi-line data, an id that carries over, a stream cut
mid-message, an oversized line); the daemon's own streams are in the integration tests.
"""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import pytest

from stockade.client import (
    MAX_EVENT_BYTES,
    ApiError,
    Client,
    ConnectionLost,
    ServerSentEvent,
)
from stockade.errors import StockadeError

HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"


def chunked(*parts: bytes, end: bool = True) -> bytes:
    body = b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in parts)
    return body + (b"0\r\n\r\n" if end else b"")


def exchange(tmp_path: Path, reply: bytes) -> Client:
    """A client whose one stream request is answered with ``reply``."""
    path = tmp_path / "s.sock"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(path))
    listener.listen(1)

    def run() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.recv(65536)
            conn.sendall(reply)
        listener.close()

    threading.Thread(target=run, daemon=True).start()
    return Client(path, timeout=5)


def test_messages_are_parsed_as_the_sse_specification_says(tmp_path: Path) -> None:
    stream = b"".join(
        [
            b"retry: 1000\n\n",
            b": keepalive\n\n",
            b"id: 1\r\nevent: decision\r\ndata: {}\r\n\r\n",
            b"data: line one\ndata:line two\n\n",  # the id carries over; no event: "message"
            b"id: 3\nevent: x\nunknown: y\ndata\n\n",  # "data" alone is an empty line of data
            b"id: 4\nevent: cut\ndata: never ends",
        ]
    )
    with exchange(tmp_path, HEAD + chunked(stream[:50], stream[50:])) as client:
        with client.stream("/events") as events:
            got = list(events)
    assert got == [
        ServerSentEvent("1", "decision", "{}"),
        ServerSentEvent("1", "message", "line one\nline two"),
        ServerSentEvent("3", "x", ""),
    ]


def test_a_stream_cut_mid_chunk_is_a_lost_connection(tmp_path: Path) -> None:
    reply = HEAD + chunked(b"id: 1\nevent: a\ndata: {}\n\n", end=False) + b"40\r\nid: 2"
    with exchange(tmp_path, reply) as client, client.stream("/events") as events:
        iterator = iter(events)
        assert next(iterator).id == "1"
        with pytest.raises(ConnectionLost):
            next(iterator)


def test_an_oversized_line_is_refused(tmp_path: Path) -> None:
    line = b"data: " + b"x" * MAX_EVENT_BYTES + b"\n\n"
    with exchange(tmp_path, HEAD + chunked(line)) as client, client.stream("/events") as events:
        with pytest.raises(StockadeError, match="larger than"):
            list(events)


def test_an_error_answer_is_an_api_error(tmp_path: Path) -> None:
    body = b'{"error": {"code": "too_many_streams", "message": "64 open", "hint": "close one"}}'
    reply = b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
    with exchange(tmp_path, reply) as client, pytest.raises(ApiError) as refused:
        client.stream("/events")
    assert (refused.value.status, refused.value.code) == (503, "too_many_streams")
