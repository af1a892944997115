"""Raw HTTP over the daemon's socket, for requests the well-behaved client never sends."""

from __future__ import annotations

import http.client
import json
import socket
from collections.abc import Callable
from typing import Any

import pytest

from stockade.home import Home

RawRequest = Callable[..., tuple[int, Any]]


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float = 15.0) -> None:
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self._path)


@pytest.fixture
def raw_request(home: Home) -> RawRequest:
    """Send exactly the given method, path, body and headers; return (status, JSON body)."""

    def send(
        method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
    ) -> tuple[int, Any]:
        conn = UnixHTTPConnection(str(home.socket_path))
        try:
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            raw = response.read()
            return response.status, json.loads(raw)
        finally:
            conn.close()

    return send


RawExchange = Callable[[bytes, list[bytes]], bytes]


@pytest.fixture
def raw_exchange(home: Home) -> RawExchange:
    """Write ``head`` then each chunk (tolerating the daemon hanging up), return its reply."""

    def exchange(head: bytes, chunks: list[bytes]) -> bytes:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(15)
            sock.connect(str(home.socket_path))
            try:
                sock.sendall(head)
                for chunk in chunks:
                    sock.sendall(chunk)
            except (BrokenPipeError, ConnectionResetError):
                pass
            reply = b""
            try:
                while chunk := sock.recv(65536):
                    reply += chunk
            except ConnectionResetError:
                pass
            return reply

    return exchange
