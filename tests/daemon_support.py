"""A real daemon in a subprocess on a temporary home, for integration tests and benchmarks.

The daemon runs as its own process (not a thread) so that tests can signal it,
SIGKILL it mid-write and restart it, exactly as an operator or a crash would.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from stockade.client import Client
from stockade.errors import StockadeError
from stockade.home import Home

# What the CLI's `stockade serve` will do: run serve() and print a StockadeError's diagnostics.
_SERVE = """
import sys
from pathlib import Path
from stockade.daemon.lifecycle import serve
from stockade.daemon.limits import Limits
from stockade.errors import StockadeError
from stockade.home import Home
try:
    code = serve(Home(Path(sys.argv[1])), limits=Limits(body_timeout_s=float(sys.argv[2])))
except StockadeError as exc:
    print(exc.diagnostics(), file=sys.stderr)
    code = exc.exit_code
sys.exit(code)
"""


def serve_command(home: Home, body_timeout_s: float = 10.0) -> list[str]:
    return [sys.executable, "-c", _SERVE, str(home.root), str(body_timeout_s)]


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
    agent's HOME, so that ``~`` names the same directory to both.
    """

    def __init__(
        self,
        home: Home,
        log_path: Path,
        *,
        body_timeout_s: float = 10.0,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.home = home
        self.log_path = log_path
        self.body_timeout_s = body_timeout_s
        self.env = dict(env or {})
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, *, ready_timeout: float = 20.0) -> DaemonProcess:
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                serve_command(self.home, self.body_timeout_s),
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
