"""Shared fixtures for the end-to-end tests: real harness CLIs, a real daemon, a fresh HOME.

The CLIs are installed by ``make e2e-deps`` (``npm ci`` in ``tests/e2e/node``, pinned
in its ``package-lock.json``); ``make test`` and CI do it first. Missing CLIs fail the
tests with that hint rather than skipping them, so a broken setup cannot pass silently.

Every test in this directory is marked ``e2e`` (and ``integration``): they take
seconds each, and ``pytest -m "not e2e"`` leaves them out for a quick local loop.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from tests.daemon_support import DaemonProcess

from stockade.client import Client
from stockade.home import Home

NODE_BIN = Path(__file__).parent / "node" / "node_modules" / ".bin"
VENV_BIN = Path(sys.executable).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.e2e)
            item.add_marker(pytest.mark.integration)


def harness_cli(name: str) -> Path:
    """The pinned CLI ``name`` (``claude``, ``codex``, ``gemini``); fails with the fix."""
    path = NODE_BIN / name
    if not path.exists():
        pytest.fail(f"{path} is missing: run `make e2e-deps` (npm ci in tests/e2e/node)")
    return path


@dataclass
class Workspace:
    """A fresh HOME, a project directory in it, and the clean environment a CLI runs with."""

    home_dir: Path
    project: Path
    stockade_home: Home
    env: dict[str, str]

    def stockade(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        """Run the real ``stockade`` console script with this workspace's environment."""
        return subprocess.run(
            [str(VENV_BIN / "stockade"), *args],
            env=self.env,
            cwd=self.project,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )


@pytest.fixture
def workspace(tmp_path: Path, home: Home) -> Workspace:
    """HOME under ``tmp_path`` with ``STOCKADE_HOME`` the suite's private home.

    The environment is built from nothing (no inherited API keys, proxies or
    config dirs): PATH holds the venv (for ``stockade``), the pinned CLIs and the
    system directories.
    """
    home_dir = tmp_path / "user"
    project = home_dir / "project"
    project.mkdir(parents=True)
    path = os.pathsep.join([str(VENV_BIN), str(NODE_BIN), "/usr/local/bin", "/usr/bin", "/bin"])
    env = {
        "HOME": str(home_dir),
        "PATH": path,
        "LANG": "C.UTF-8",
        "TERM": "dumb",
        "STOCKADE_HOME": str(home.root),
        "TMPDIR": str(tmp_path),
    }
    if shutil.which("node", path=path) is None:
        pytest.fail("node is not on PATH; install Node.js 20+ (Debian: nodejs npm)")
    return Workspace(home_dir=home_dir, project=project, stockade_home=home, env=env)


@pytest.fixture
def running_daemon(daemon_process: DaemonProcess) -> DaemonProcess:
    """The suite's daemon on the workspace's ``STOCKADE_HOME`` (stopped at teardown)."""
    return daemon_process


def audit_events(
    process: DaemonProcess, kind: str | None = None, session: str | None = None
) -> list[dict[str, object]]:
    """Every audit event (optionally of one kind / session), oldest first."""
    events: list[dict[str, object]] = []
    after = 0
    with Client(process.home.socket_path, timeout=5.0) as client:
        while True:
            query: dict[str, str | int] = {"after": after, "limit": 1000}
            if kind:
                query["kind"] = kind
            if session:
                query["session"] = session
            page = client.request("GET", "/audit/events", query=query)
            events.extend(page["events"])
            if len(page["events"]) < 1000:
                return events
            after = page["next_after"]


RunCli = Callable[..., subprocess.CompletedProcess[str]]
