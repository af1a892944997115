"""Bounds on what a TCP client can make the gateway hold: body size, read time, idle time."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable

import pytest
from tests.daemon_support import DaemonProcess, GatewayDaemon, start_gateway

pytestmark = pytest.mark.integration

Spawn = Callable[..., DaemonProcess]
BIG = 2 * 1024 * 1024


def _exchange(gw: GatewayDaemon, head: str, body: bytes = b"") -> bytes:
    """Send ``head`` (Host added) and ``body``, tolerating a hang-up; the whole reply."""
    with socket.create_connection(("127.0.0.1", gw.port), timeout=10) as sock:
        try:
            sock.sendall(f"{head}Host: 127.0.0.1:{gw.port}\r\n\r\n".encode())
            for start in range(0, len(body), 65536):
                sock.sendall(body[start : start + 65536])
        except (BrokenPipeError, ConnectionResetError):
            pass
        return _read_all(sock)


def _read_all(sock: socket.socket) -> bytes:
    reply = b""
    try:
        while chunk := sock.recv(65536):
            reply += chunk
    except ConnectionResetError:
        pass
    return reply


def test_oversized_bodies_are_413_over_tcp_too(spawn_daemon: Spawn) -> None:
    gw = start_gateway(spawn_daemon(start=False))
    post = (
        "POST /api/v1/decide HTTP/1.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {BIG}\r\n"
    )
    authorized = _exchange(gw, f"{post}Authorization: Bearer {gw.token}\r\n", b"x" * BIG)
    assert authorized.startswith(b"HTTP/1.1 413") and b"body_too_large" in authorized
    # Without the token the body is never read: 401 at once.
    assert _exchange(gw, post, b"x" * BIG).startswith(b"HTTP/1.1 401")
    # The public login route has the same cap.
    login = "POST /ui/login HTTP/1.1\r\nContent-Type: application/json\r\n"
    refused = _exchange(gw, f"{login}Content-Length: {BIG}\r\n", b"x" * BIG)
    assert refused.startswith(b"HTTP/1.1 413")
    assert gw.request("GET", "/api/v1/health", token=gw.token).status == 200


def test_slow_and_idle_connections_are_closed(spawn_daemon: Spawn) -> None:
    gw = start_gateway(spawn_daemon(start=False), {"read_timeout_s": 1, "idle_timeout_s": 1})

    # Slowloris: headers that never end.
    with socket.create_connection(("127.0.0.1", gw.port), timeout=10) as sock:
        started = time.monotonic()
        sock.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        reply = _read_all(sock)
        elapsed = time.monotonic() - started
    assert reply.startswith(b"HTTP/1.1 408") and b"read_timeout" in reply
    assert 0.9 <= elapsed < 5

    # A connection that never sends anything.
    with socket.create_connection(("127.0.0.1", gw.port), timeout=10) as sock:
        assert _read_all(sock).startswith(b"HTTP/1.1 408")

    # A body that stops arriving: the connection is closed under the route.
    with socket.create_connection(("127.0.0.1", gw.port), timeout=10) as sock:
        started = time.monotonic()
        sock.sendall(
            f"POST /api/v1/decide HTTP/1.1\r\nHost: 127.0.0.1:{gw.port}\r\n"
            f"Authorization: Bearer {gw.token}\r\nContent-Type: application/json\r\n"
            "Content-Length: 100\r\n\r\n{".encode()
        )
        assert b"verdict" not in _read_all(sock)
        assert 0.9 <= time.monotonic() - started < 5

    # Keep-alive: one answer, then the idle connection is closed.
    with socket.create_connection(("127.0.0.1", gw.port), timeout=10) as sock:
        sock.sendall(
            f"GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1:{gw.port}\r\n"
            f"Authorization: Bearer {gw.token}\r\n\r\n".encode()
        )
        started = time.monotonic()
        reply = _read_all(sock)  # returns once the server closes the idle connection
        assert reply.startswith(b"HTTP/1.1 200") and b'"status":"ok"' in reply
        assert b"connection: close" not in reply.lower()
        assert 0.9 <= time.monotonic() - started < 5

    # A well-behaved client is unaffected.
    assert gw.request("GET", "/api/v1/health", token=gw.token).status == 200
