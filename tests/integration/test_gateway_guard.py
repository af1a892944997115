"""The gateway's guard against browsers and proxies: Host, Origin, CSRF, forwarded headers.

Each test attacks a real daemon over real TCP the way a hostile page (DNS rebinding,
cross-site posts) or a client lying about its address would.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from tests.daemon_support import DaemonProcess, GatewayDaemon, start_gateway, tool_call

pytestmark = pytest.mark.integration

Spawn = Callable[..., DaemonProcess]
READ_ENV: dict[str, Any] = {"tool_name": "Read", "tool_input": {"file_path": "/tmp/project/.env"}}


def _login(gw: GatewayDaemon) -> dict[str, str]:
    login = gw.request("POST", "/ui/login", body={"token": gw.token})
    assert login.status == 204
    return {"Cookie": login.headers["set-cookie"].split(";")[0]}


def _raw(port: int, head: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(head)
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
        return reply


def test_host_and_origin_allowlists_and_csrf(spawn_daemon: Spawn) -> None:
    settings = {"allowed_hosts": ["stockade.test"], "allowed_origins": ["https://ui.example"]}
    gw = start_gateway(spawn_daemon(start=False), settings)
    port, token = gw.port, gw.token

    def health(**headers: str) -> tuple[int, str | None]:
        reply = gw.request("GET", "/api/v1/health", token=token, headers=headers)
        return reply.status, reply.code

    # DNS rebinding: the right token, but a page on another name.
    assert health(Host=f"attacker.example:{port}") == (421, "bad_host")
    assert health(Host="127.0.0.1") == (421, "bad_host")  # another port's origin
    for host in (f"localhost:{port}", f"[::1]:{port}", f"LOCALHOST:{port}", "stockade.test"):
        assert health(Host=host) == (200, None), host
    no_host = _raw(port, b"GET /api/v1/health HTTP/1.1\r\nConnection: close\r\n\r\n")
    assert no_host.startswith(b"HTTP/1.1 400") and b"bad_host" in no_host
    two_hosts = f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nHost: evil\r\n\r\n".encode()
    assert b"bad_host" in _raw(port, two_hosts).partition(b"\r\n\r\n")[2]

    # Cross-site requests, even carrying the token.
    assert health(Origin="https://evil.example") == (403, "bad_origin")
    assert health(Origin="null") == (403, "bad_origin")
    assert health(Origin=f"http://localhost:{port}.evil.example") == (403, "bad_origin")
    assert health(Origin=f"http://localhost:{port}") == (200, None)
    assert health(Origin="https://ui.example") == (200, None)

    # CSRF: the cookie rides along on cross-site posts; only Origin tells them apart.
    session = _login(gw)
    verify = "/api/v1/audit/verify"
    no_origin = gw.request("POST", verify, body={}, headers=session)
    assert (no_origin.status, no_origin.code) == (403, "bad_origin")
    evil = gw.request(
        "POST", verify, body={}, headers={**session, "Origin": "https://evil.example"}
    )
    assert (evil.status, evil.code) == (403, "bad_origin")
    own = {**session, "Origin": f"http://127.0.0.1:{port}"}
    assert gw.request("POST", verify, body={}, headers=own).body["ok"] is True
    assert gw.request("GET", "/api/v1/audit/head", headers=session).status == 200
    assert gw.request("POST", verify, body={}, token=token).status == 200  # bearer: no Origin

    # None of that was a failed authentication.
    assert gw.audit("auth.failed") == []


def test_forwarded_headers_from_a_trusted_proxy_are_honoured(spawn_daemon: Spawn) -> None:
    # The test client plays the proxy: its address, 127.0.0.1, is configured as trusted.
    # (Untrusted: test_gateway_auth.py::test_lockout_refuses_failures_but_never_the_right_token.)
    settings = {"trusted_proxies": ["127.0.0.1", "10.0.0.0/8"], "max_failures": 2}
    gw = start_gateway(spawn_daemon(start=False), settings)

    def health(token: str, **headers: str) -> int:
        return gw.request("GET", "/api/v1/health", token=token, headers=headers).status

    # The leftmost entry is the client's own claim; the rightmost untrusted hop counts.
    chain = "127.0.0.1, 203.0.113.9, 10.1.2.3"
    assert health("guess", **{"X-Forwarded-For": chain}) == 401
    assert health("guess", **{"X-Forwarded-For": "203.0.113.9"}) == 429
    assert health("guess", **{"X-Forwarded-For": "203.0.113.9"}) == 429
    assert health(gw.token, **{"X-Forwarded-For": "203.0.113.9"}) == 200  # never the token
    # The proxy's other clients are not locked out with that one.
    assert health(gw.token, **{"X-Forwarded-For": "203.0.113.10"}) == 200
    assert health(gw.token) == 200  # the proxy itself
    assert health("guess", **{"X-Real-IP": "192.0.2.5"}) == 401

    failed = [(e["payload"]["client"], e["payload"]["forwarded"]) for e in gw.audit("auth.failed")]
    assert failed == [("203.0.113.9", True), ("203.0.113.9", True), ("192.0.2.5", True)]
    [locked] = gw.audit("auth.locked_out")
    assert locked["payload"]["client"] == "203.0.113.9"


def test_a_held_call_is_answered_over_the_gateway(spawn_daemon: Spawn) -> None:
    """Held and approved over TCP, as the UI does; a TCP client cannot pass for the CLI."""
    gw = start_gateway(spawn_daemon(start=False))
    body = {**tool_call("held", **READ_ENV), "hold_s": 10}
    with ThreadPoolExecutor(max_workers=1) as pool:
        held = pool.submit(gw.request, "POST", "/api/v1/decide", body=body, token=gw.token)
        deadline = time.monotonic() + 5
        pending: list[dict[str, Any]] = []
        while not pending:
            assert time.monotonic() < deadline, "the call was not held"
            pending = gw.request("GET", "/api/v1/approvals", token=gw.token).body["approvals"]
        headers = {**_login(gw), "Origin": f"http://localhost:{gw.port}", "Stockade-Client": "cli"}
        approve = f"/api/v1/approvals/{pending[0]['id']}/approve"
        resolved = gw.request("POST", approve, body={}, headers=headers)
        assert resolved.status == 200 and resolved.body["resolved_by"] == "api"
        answer = held.result(timeout=10)
    assert answer.status == 200 and answer.body["verdict"] == "allow"
