"""Shared fixtures for the end-to-end tests: real harness CLIs, a real daemon, a fresh HOME.

The CLIs are installed by ``make e2e-deps`` (``npm ci`` in ``tests/e2e/node``, pinned
in its ``package-lock.json``); ``make test`` and CI do it first. Missing CLIs fail the
tests with that hint rather than skipping them, so a broken setup cannot pass silently.
The helpers the tests share are in :mod:`tests.e2e.support`.

Every test in this directory is marked ``e2e`` (and ``integration``): they take
seconds each, and ``pytest -m "not e2e"`` leaves them out for a quick local loop.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from tests.daemon_support import DaemonProcess
from tests.e2e.support import NODE_BIN, VENV_BIN, Workspace

from stockade.home import Home


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.e2e)
            item.add_marker(pytest.mark.integration)


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
def spawn_daemon(
    spawn_daemon: Callable[..., DaemonProcess], workspace: Workspace
) -> Callable[..., DaemonProcess]:
    """The suite's daemon factory, its daemons run with the workspace's HOME.

    The agent's CLI runs with that HOME, so ``~`` (and ``$HOME``) must name the same
    directory to the daemon judging its calls as to the shell running them. Overrides
    the suite's fixture of the same name, so ``daemon_process`` gets it too.
    """

    def spawn(**options: object) -> DaemonProcess:
        return spawn_daemon(env={"HOME": str(workspace.home_dir)}, **options)

    return spawn


@pytest.fixture
def running_daemon(daemon_process: DaemonProcess) -> DaemonProcess:
    """The suite's daemon on the workspace's ``STOCKADE_HOME`` and HOME (stopped at teardown)."""
    return daemon_process
