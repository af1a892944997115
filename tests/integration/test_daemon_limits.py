"""Hostile or broken requests get a clear 4xx, never a verdict, and never hang the daemon."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable
from typing import Any

import pytest
from tests.daemon_support import DaemonProcess, tool_call

from stockade.client import Client

pytestmark = pytest.mark.integration

JSON = {"Content-Type": "application/json"}
MISSING_TOOL_NAME = {k: v for k, v in tool_call().items() if k != "tool_name"}
HEAD = b"POST /api/v1/decide HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"


def _post(raw_request: Any, body: bytes, headers: dict[str, str] | None = None) -> Any:
    return raw_request("POST", "/api/v1/decide", body, {**JSON, **(headers or {})})


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (b"{not json", 400, "invalid_json"),
        (b"[1, 2]", 400, "invalid_json"),
        (b"", 400, "invalid_json"),
        (json.dumps({**tool_call(), "extra": 1}).encode(), 422, "invalid_request"),
        (json.dumps(tool_call(tool_input="rm -rf /")).encode(), 422, "invalid_request"),
        (json.dumps(tool_call(cwd=1)).encode(), 422, "invalid_request"),
        (json.dumps(tool_call(cwd="relative/dir")).encode(), 422, "invalid_request"),
        (json.dumps(tool_call(harness="cursor")).encode(), 422, "invalid_request"),
        (json.dumps(tool_call(session_id="")).encode(), 422, "invalid_request"),
        (json.dumps(MISSING_TOOL_NAME).encode(), 422, "invalid_request"),
    ],
)
def test_invalid_bodies_are_rejected(
    daemon: Client, raw_request: Any, body: bytes, status: int, code: str
) -> None:
    answer_status, answer = _post(raw_request, body)
    assert (answer_status, answer["error"]["code"]) == (status, code)
    assert "verdict" not in answer


def test_schema_errors_name_the_field_but_not_the_value(daemon: Client, raw_request: Any) -> None:
    secret = "sk-ant-" + "x" * 30
    body = {**tool_call(), "tool_input": secret, "surplus": secret}
    status, answer = _post(raw_request, json.dumps(body).encode())
    assert status == 422
    locs = sorted(tuple(detail["loc"]) for detail in answer["error"]["details"])
    assert locs == [("surplus",), ("tool_input",)]
    assert secret not in json.dumps(answer)


def test_oversized_body_is_413_before_it_is_read(daemon: Client, raw_exchange: Any) -> None:
    size = 2 * 1024 * 1024
    head = HEAD + f"Content-Length: {size}\r\n\r\n".encode()
    reply = raw_exchange(head, [b"x" * 65536 for _ in range(size // 65536)])
    assert reply.startswith(b"HTTP/1.1 413") and b"body_too_large" in reply
    assert daemon.request("GET", "/health")["status"] == "ok"


def test_oversized_chunked_body_is_413(daemon: Client, raw_exchange: Any) -> None:
    chunk = b"10000\r\n" + b"x" * 65536 + b"\r\n"
    reply = raw_exchange(HEAD + b"Transfer-Encoding: chunked\r\n\r\n", [chunk] * 40)
    assert reply.startswith(b"HTTP/1.1 413") and b"body_too_large" in reply


def test_wrong_content_type_is_415(daemon: Client, raw_request: Any) -> None:
    body = json.dumps(tool_call()).encode()
    status, answer = _post(raw_request, body, {"Content-Type": "text/plain"})
    assert (status, answer["error"]["code"]) == (415, "unsupported_media_type")


@pytest.mark.parametrize(
    "bad_header",
    [
        b"Content-Type: text/plain\r\n",
        b"Content-Type: application/json\r\nStockade-API-Version: 2\r\n",
    ],
)
def test_a_refused_body_leaves_the_connection_usable(daemon: Client, bad_header: bytes) -> None:
    """The daemon reads a refused request's (bounded) body before it answers: a client that
    is still sending gets its 4xx instead of a broken pipe, and may go on with the next one."""
    body = json.dumps(tool_call()).encode()
    length = b"Content-Length: %d\r\n" % len(body)
    refused = b"POST /api/v1/decide HTTP/1.1\r\nHost: x\r\n" + bad_header + length + b"\r\n"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(10)
        sock.connect(str(daemon.socket_path))
        sock.sendall(refused)
        time.sleep(0.2)  # the headers alone reach the daemon first, as from a slow client
        sock.sendall(body + HEAD + length + b"\r\n" + body)
        reply = b""
        while reply.count(b"HTTP/1.1 ") < 2 or not reply.rstrip().endswith(b"}"):
            chunk = sock.recv(65536)
            assert chunk, f"the daemon hung up after: {reply[:200]!r}"
            reply += chunk
    first, second = reply.split(b"HTTP/1.1 ")[1:3]
    assert first.startswith((b"415", b"400")) and second.startswith(b"200")


def test_slow_client_gets_408(spawn_daemon: Callable[..., DaemonProcess]) -> None:
    process = spawn_daemon(body_timeout_s=1.0)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(10)
        sock.connect(str(process.home.socket_path))
        sock.sendall(HEAD + b'Content-Length: 500\r\n\r\n{"harness": ')
        started = time.monotonic()
        reply = b""
        while chunk := sock.recv(65536):  # the daemon answers, then hangs up
            reply += chunk
        elapsed = time.monotonic() - started
    assert reply.startswith(b"HTTP/1.1 408") and b"body_timeout" in reply
    assert 0.8 < elapsed < 5
    with process.client() as client:
        assert client.request("GET", "/health")["status"] == "ok"
