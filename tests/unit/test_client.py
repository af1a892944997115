"""The stdlib client against a tiny stdlib HTTP server on a Unix socket (no daemon)."""

from __future__ import annotations

import json
import socket
import socketserver
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest

from stockade.client import ApiError, Client
from stockade.errors import DaemonUnavailable, StockadeError


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def do_GET(self) -> None:
        self._answer()

    def do_POST(self) -> None:
        self._answer()

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.server.seen.append((self.command, self.path, dict(self.headers), body))
        if self.path.startswith("/api/v1/error"):
            error = {"code": "invalid_request", "message": "bad", "hint": "fix", "details": [1]}
            self._send(422, json.dumps({"error": error}).encode())
        elif self.path.startswith("/api/v1/garbage"):
            self._send(200, b"<html>")
        elif self.path.startswith("/api/v1/bare-error"):
            self._send(500, b"{}")
        elif self.path.startswith("/api/v1/close"):
            self._send(200, b'{"closing": true}', close=True)
        elif self.path.startswith("/api/v1/silent-close"):
            self._send(200, b'{"closing": true}')
            self.close_connection = True  # as an idle keep-alive timeout would
        else:
            self._send(200, json.dumps({"path": self.path, "echo": body.decode()}).encode())

    def _send(self, status: int, payload: bytes, *, close: bool = False) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        return None


class _Server(socketserver.ThreadingUnixStreamServer):
    daemon_threads = True

    def __init__(self, path: str) -> None:
        super().__init__(path, _Handler)
        self.seen: list[tuple[str, str, dict[str, str], bytes]] = []
        self.connections = 0

    def get_request(self) -> tuple[socket.socket, Any]:
        self.connections += 1
        return super().get_request()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[_Server]:
    srv = _Server(str(tmp_path / "s.sock"))
    thread = threading.Thread(target=srv.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()
    thread.join()


def _client(server: _Server) -> Client:
    return Client(server.server_address, timeout=2.0)  # type: ignore[arg-type]


def test_json_round_trip_with_version_header_and_query(server: _Server) -> None:
    with _client(server) as client:
        answer = client.request("POST", "/decide", {"a": 1}, query={"after": 3, "kind": "x y"})
    assert answer == {"path": "/api/v1/decide?after=3&kind=x+y", "echo": '{"a": 1}'}
    method, _, headers, _ = server.seen[0]
    assert method == "POST"
    assert headers["Stockade-API-Version"] == "1"
    assert headers["Content-Type"] == "application/json"


def test_keep_alive_reuses_one_connection(server: _Server) -> None:
    with _client(server) as client:
        for _ in range(5):
            client.request("GET", "/health")
    assert server.connections == 1


def test_reconnects_after_the_server_closes(server: _Server) -> None:
    with _client(server) as client:
        client.request("GET", "/close")
        assert client.request("GET", "/health")["path"] == "/api/v1/health"
    assert server.connections == 2


def test_retries_once_when_a_kept_alive_connection_went_stale(server: _Server) -> None:
    with _client(server) as client:
        client.request("GET", "/silent-close")
        assert client.request("GET", "/health")["path"] == "/api/v1/health"
    assert server.connections == 2


def test_error_answer_becomes_api_error(server: _Server) -> None:
    with _client(server) as client, pytest.raises(ApiError) as caught:
        client.request("POST", "/error", {})
    error = caught.value
    assert (error.status, error.code, error.message, error.hint) == (
        422,
        "invalid_request",
        "bad",
        "fix",
    )
    assert error.details == [1]


@pytest.mark.parametrize("path", ["/garbage", "/bare-error"])
def test_malformed_answer_is_a_stockade_error(server: _Server, path: str) -> None:
    with _client(server) as client, pytest.raises(StockadeError) as caught:
        client.request("GET", path)
    assert not isinstance(caught.value, ApiError)


def test_missing_socket_is_daemon_unavailable(tmp_path: Path) -> None:
    with pytest.raises(DaemonUnavailable) as caught:
        Client(tmp_path / "nope.sock").request("GET", "/health")
    assert "does not exist" in caught.value.message
    assert caught.value.hint == "start it with `stockade serve`"


def test_stale_socket_is_daemon_unavailable(tmp_path: Path) -> None:
    path = tmp_path / "stale.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(str(path))
    sock.close()
    with pytest.raises(DaemonUnavailable) as caught:
        Client(path).request("GET", "/health")
    assert "refused" in caught.value.message


def test_import_pulls_in_no_heavy_dependencies() -> None:
    code = (
        "import sys, stockade.client; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & "
        "{'pydantic', 'starlette', 'uvicorn', 'typer', 'rich', 'uvloop', 'anyio'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
