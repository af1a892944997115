"""A real daemon in a subprocess on a temporary home, for integration tests and benchmarks.

The daemon runs as its own process (not a thread) so that tests can signal it,
SIGKILL it mid-write and restart it, exactly as an operator or a crash would.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stockade.client import Client
from stockade.errors import StockadeError
from stockade.home import Home, atomic_write

# What the CLI's `stockade serve` will do: run serve() and print a StockadeError's diagnostics.
_SERVE = """
import sys
from pathlib import Path
from stockade.daemon.lifecycle import serve
from stockade.daemon.limits import Limits
from stockade.errors import StockadeError
from stockade.home import Home, atomic_write
try:
    limits = Limits(body_timeout_s=float(sys.argv[2]))
    code = serve(Home(Path(sys.argv[1])), limits=limits, http=sys.argv[3] or None)
except StockadeError as exc:
    print(exc.diagnostics(), file=sys.stderr)
    code = exc.exit_code
sys.exit(code)
"""


def serve_command(home: Home, body_timeout_s: float = 10.0, http: str | None = None) -> list[str]:
    """``http`` is ``stockade serve --http HOST:PORT``."""
    return [sys.executable, "-c", _SERVE, str(home.root), str(body_timeout_s), http or ""]


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on right now (the kernel's choice)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


def daemon_env(home: Home, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The test runner's environment on ``home``, with ``extra`` (e.g. another HOME) over it."""
    return {
        **os.environ,
        "STOCKADE_HOME": str(home.root),
        "PYTHONUNBUFFERED": "1",
        **(extra or {}),
    }


class DaemonProcess:
    """One daemon subprocess; its stdout and stderr go to ``log_path`` (outside the home).

    ``env`` is merged over :func:`daemon_env`: the end-to-end tests give the daemon the
    agent's HOME, so that ``~`` names the same directory to both. ``http`` serves the
    gateway there too (``stockade serve --http``).
    """

    def __init__(
        self,
        home: Home,
        log_path: Path,
        *,
        body_timeout_s: float = 10.0,
        env: Mapping[str, str] | None = None,
        http: str | None = None,
    ) -> None:
        self.home = home
        self.log_path = log_path
        self.body_timeout_s = body_timeout_s
        self.env = dict(env or {})
        self.http = http
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, *, ready_timeout: float = 20.0) -> DaemonProcess:
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                serve_command(self.home, self.body_timeout_s, self.http),
                stdout=log,
                stderr=subprocess.STDOUT,
                env=daemon_env(self.home, self.env),
            )
        self.wait_ready(ready_timeout)
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        with Client(self.home.socket_path, timeout=1.0) as client:
            while True:
                assert self.proc is not None
                if self.proc.poll() is not None:
                    raise RuntimeError(f"daemon exited {self.proc.returncode}:\n{self.log()}")
                try:
                    health: dict[str, Any] = client.request("GET", "/health")
                except StockadeError:
                    health = {}
                if health.get("pid") == self.proc.pid:
                    return
                if time.monotonic() > deadline:
                    raise RuntimeError(f"daemon not ready after {timeout} s:\n{self.log()}")
                time.sleep(0.02)

    def client(self, timeout: float = 5.0) -> Client:
        return Client(self.home.socket_path, timeout=timeout)

    def signal(self, signum: int) -> None:
        assert self.proc is not None
        self.proc.send_signal(signum)

    def wait(self, timeout: float = 15.0) -> int:
        assert self.proc is not None
        return self.proc.wait(timeout)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it does not go; safe to call when already stopped."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def tool_call(session: str = "s-1", **overrides: Any) -> dict[str, Any]:
    """A valid ``ToolCallBody``."""
    body: dict[str, Any] = {
        "harness": "claude-code",
        "session_id": session,
        "tool_name": "Read",
        "tool_input": {"file_path": "/tmp/project/README.md"},
        "cwd": "/tmp/project",
        "project_root": "/tmp/project",
    }
    body.update(overrides)
    return body


@dataclass(frozen=True, slots=True)
class Reply:
    """One HTTP answer from the gateway: status, headers (lower-case names), decoded body."""

    status: int
    headers: dict[str, str]
    body: Any

    @property
    def code(self) -> str | None:
        """The error ``code`` of an error answer."""
        if isinstance(self.body, dict) and isinstance(self.body.get("error"), dict):
            return str(self.body["error"]["code"])
        return None


def tcp_request(
    port: int,
    method: str,
    path: str,
    *,
    body: Any = None,
    headers: Mapping[str, str] | None = None,
    token: str | None = None,
    context: ssl.SSLContext | None = None,
    host: str = "127.0.0.1",
) -> Reply:
    """One request to the gateway on ``host:port`` (HTTPS with ``context``); a JSON ``body``
    is encoded, bytes are sent as they are; ``token`` becomes the bearer header."""
    sent = dict(headers or {})
    if token is not None:
        sent["Authorization"] = f"Bearer {token}"
    if body is not None and not isinstance(body, bytes):
        body = json.dumps(body).encode()
        sent.setdefault("Content-Type", "application/json")
    conn: http.client.HTTPConnection = (
        http.client.HTTPSConnection(host, port, timeout=15, context=context)
        if context is not None
        else http.client.HTTPConnection(host, port, timeout=15)
    )
    try:
        conn.request(method, path, body=body, headers=sent)
        response = conn.getresponse()
        raw = response.read()
        answer = {name.lower(): value for name, value in response.getheaders()}
    finally:
        conn.close()
    is_json = answer.get("content-type", "").startswith("application/json")
    return Reply(response.status, answer, json.loads(raw) if is_json and raw else raw)


STOCKADE = str(Path(sys.executable).with_name("stockade"))


def run_cli(home: Home, *args: str) -> subprocess.CompletedProcess[str]:
    """The real console script on ``home``, as a user would run it."""
    return subprocess.run(
        [STOCKADE, *args],
        env=daemon_env(home),
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def write_gateway_settings(home: Home, settings: Mapping[str, Any]) -> None:
    """``stockade.toml`` with just a ``[gateway]`` table (strings, numbers, string lists)."""
    lines = ["[gateway]", *(f"{key} = {json.dumps(value)}" for key, value in settings.items())]
    atomic_write(home.config_path, ("\n".join(lines) + "\n").encode())


@dataclass(frozen=True, slots=True)
class GatewayDaemon:
    """A daemon serving the gateway on 127.0.0.1:``port``, and the token it created."""

    process: DaemonProcess
    port: int
    token: str

    def request(self, method: str, path: str, **options: Any) -> Reply:
        return tcp_request(self.port, method, path, **options)

    def audit(self, kind: str) -> list[dict[str, Any]]:
        """The audit events of ``kind`` (asked over the socket)."""
        with self.process.client() as client:
            found = client.request("GET", "/audit/events", query={"kind": kind, "limit": 1000})
        events: list[dict[str, Any]] = found["events"]
        return events


def start_gateway(
    process: DaemonProcess, settings: Mapping[str, Any] | None = None
) -> GatewayDaemon:
    """Start ``process`` (not yet started) with ``[gateway] settings`` and ``--http`` on a
    free loopback port; the token is read the way `stockade gateway token` reads it."""
    from stockade.daemon.gateway.token import TokenStore

    port = free_port()
    write_gateway_settings(process.home, settings or {})
    process.http = f"127.0.0.1:{port}"
    process.start()
    return GatewayDaemon(process, port, TokenStore(process.home).load_or_create())
