"""Fixtures shared across the suite: a private home, and a real daemon running on it."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest
from tests.daemon_support import DaemonProcess

from stockade.client import Client
from stockade.home import Home

# No test may touch the OS keychain of whoever runs the suite, nor use their vault key:
# keyring's own "fail" backend makes the vault fall through to its key file (or to
# STOCKADE_MASTER_KEY where a test sets it). Every daemon and CLI the tests start inherits this.
os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
os.environ.pop("STOCKADE_MASTER_KEY", None)


@pytest.fixture
def home(tmp_path: Path) -> Home:
    """A fresh, private (0700) ``$STOCKADE_HOME`` under ``tmp_path``."""
    created = Home(tmp_path / "home")
    created.ensure()
    return created


@pytest.fixture
def spawn_daemon(home: Home, tmp_path: Path) -> Iterator[Callable[..., DaemonProcess]]:
    """Factory for daemon subprocesses on ``home``; every one is stopped at teardown."""
    started: list[DaemonProcess] = []

    def spawn(
        *, body_timeout_s: float = 10.0, start: bool = True, env: Mapping[str, str] | None = None
    ) -> DaemonProcess:
        """``env`` is merged over the test runner's environment (see ``daemon_env``)."""
        log_path = tmp_path / f"daemon-{len(started)}.log"
        process = DaemonProcess(home, log_path, body_timeout_s=body_timeout_s, env=env)
        started.append(process)
        return process.start() if start else process

    yield spawn
    for process in started:
        process.stop()


@pytest.fixture
def daemon_process(spawn_daemon: Callable[..., DaemonProcess]) -> DaemonProcess:
    return spawn_daemon()


@pytest.fixture
def daemon(daemon_process: DaemonProcess) -> Iterator[Client]:
    """A client connected to a running daemon on ``home``."""
    with daemon_process.client() as client:
        yield client
