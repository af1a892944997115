"""Startup refusals, the private socket, signals, and shutdown, with a real daemon process."""

from __future__ import annotations

import fcntl
import os
import signal
import socket
import stat
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from tests.daemon_support import DaemonProcess, daemon_env, serve_command, tool_call

from stockade.audit import SqliteAuditStore
from stockade.client import ApiError, Client
from stockade.errors import DaemonAlreadyRunning, DaemonUnavailable, UnsafeHomeError
from stockade.home import Home, atomic_write

pytestmark = pytest.mark.integration


def _serve_once(home: Home) -> subprocess.CompletedProcess[str]:
    """Run the daemon the way `stockade serve` would, expecting it to refuse and exit."""
    return subprocess.run(
        serve_command(home), capture_output=True, text=True, env=daemon_env(home), timeout=30
    )


def _kinds(home: Home) -> list[str]:
    store = SqliteAuditStore(home.audit_path)
    store.open()
    try:
        return [event.kind for event in store.query(limit=1000)]
    finally:
        store.close()


def test_socket_is_private_and_pid_file_written(daemon_process: DaemonProcess) -> None:
    home = daemon_process.home
    assert stat.S_IMODE(os.stat(home.root).st_mode) == 0o700
    info = os.lstat(home.socket_path)
    assert stat.S_ISSOCK(info.st_mode)
    assert stat.S_IMODE(info.st_mode) == 0o600
    assert info.st_uid == os.geteuid()
    assert home.pid_path.read_text().strip() == str(daemon_process.pid)
    assert stat.S_IMODE(os.stat(home.pid_path).st_mode) == 0o600


@pytest.mark.parametrize("flaw", ["symlinked-home", "open-home", "open-file"])
def test_unsafe_home_is_refused_with_the_fix(tmp_path: Path, flaw: str) -> None:
    real = Home(tmp_path / "real")
    real.ensure()
    home = real
    if flaw == "symlinked-home":
        home = Home(tmp_path / "link")
        os.symlink(real.root, home.root)
        fix = "replace the link"
    elif flaw == "open-home":
        os.chmod(real.root, 0o755)  # noqa: S103 - the flaw under test
        fix = "chmod 700"
    else:
        (real.root / "stockade.toml").write_text("")
        os.chmod(real.root / "stockade.toml", 0o644)
        fix = "chmod 600"
    result = _serve_once(home)
    assert result.returncode == UnsafeHomeError.exit_code
    assert "not private" in result.stderr and fix in result.stderr
    assert not real.socket_path.exists()


def test_second_daemon_refuses_and_first_keeps_serving(
    daemon_process: DaemonProcess,
) -> None:
    result = _serve_once(daemon_process.home)
    assert result.returncode == DaemonAlreadyRunning.exit_code
    assert str(daemon_process.pid) in result.stderr
    with daemon_process.client() as client:
        assert client.request("GET", "/health")["pid"] == daemon_process.pid


def test_live_socket_is_not_taken_over_even_without_the_lock(home: Home) -> None:
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old = os.umask(0o177)
    try:
        listener.bind(str(home.socket_path))
    finally:
        os.umask(old)
    listener.listen(1)
    try:
        result = _serve_once(home)
    finally:
        listener.close()
    assert result.returncode == DaemonAlreadyRunning.exit_code
    assert "already answers" in result.stderr
    assert home.socket_path.exists()


def test_held_lock_refuses_a_concurrent_start(home: Home) -> None:
    fd = os.open(home.root / "daemon.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        result = _serve_once(home)
    finally:
        os.close(fd)
    assert result.returncode == DaemonAlreadyRunning.exit_code
    assert "another Stockade daemon" in result.stderr


def test_stale_socket_is_removed_and_daemon_starts(
    home: Home, spawn_daemon: Callable[..., DaemonProcess]
) -> None:
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old = os.umask(0o177)
    try:
        stale.bind(str(home.socket_path))
    finally:
        os.umask(old)
    stale.close()  # the file stays: what a SIGKILLed daemon leaves behind
    process = spawn_daemon()
    assert "removing stale socket" in process.log()
    with process.client() as client:
        assert client.request("GET", "/health")["pid"] == process.pid


def test_sigterm_stops_cleanly(daemon_process: DaemonProcess) -> None:
    home = daemon_process.home
    daemon_process.signal(signal.SIGTERM)
    assert daemon_process.wait() == 0
    assert not home.socket_path.exists()
    assert not home.pid_path.exists()
    kinds = _kinds(home)
    assert kinds[0] == "daemon.started" and kinds[-1] == "daemon.stopped"
    with pytest.raises(DaemonUnavailable):
        daemon_process.client().request("GET", "/health")


def test_post_shutdown_stops_cleanly(daemon_process: DaemonProcess) -> None:
    with daemon_process.client() as client:
        assert client.request("POST", "/shutdown", {}) == {"stopping": True}
    assert daemon_process.wait() == 0
    assert not daemon_process.home.socket_path.exists()
    assert _kinds(daemon_process.home)[-1] == "daemon.stopped"


def test_sighup_reloads_configuration(daemon_process: DaemonProcess) -> None:
    daemon_process.signal(signal.SIGHUP)
    with daemon_process.client() as client:
        _wait_for_kind(client, "config.reloaded")
        assert client.request("GET", "/health")["status"] == "ok"


def test_broken_config_on_reload_keeps_the_running_policy(daemon_process: DaemonProcess) -> None:
    home = daemon_process.home
    atomic_write(home.config_path, b"this is [not toml")
    with daemon_process.client() as client:
        with pytest.raises(ApiError) as caught:
            client.request("POST", "/reload", {})
        assert (caught.value.status, caught.value.code) == (422, "invalid_config")
        assert "stockade.toml" in caught.value.message
        daemon_process.signal(signal.SIGHUP)
        _wait_for_kind(client, "config.reload_failed", count=2)
        assert client.request("GET", "/health")["status"] == "ok"
        assert client.request("POST", "/check", tool_call())["verdict"] in {"allow", "ask", "deny"}


def _wait_for_kind(client: Client, kind: str, count: int = 1, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while len(client.request("GET", "/audit/events", query={"kind": kind})["events"]) < count:
        assert time.monotonic() < deadline, f"no {kind} event after {timeout} s"
        time.sleep(0.05)


def test_credential_taint_survives_a_restart(
    spawn_daemon: Callable[..., DaemonProcess], tmp_path: Path
) -> None:
    project = tmp_path / "proj"
    project.mkdir()
    (project / ".env").write_text("TOKEN=x\n")
    where = {"cwd": str(project), "project_root": str(project)}
    read = tool_call("tainted", tool_input={"file_path": str(project / ".env")}, **where)
    fetch = tool_call(
        "tainted", tool_name="WebFetch", tool_input={"url": "https://example.com/"}, **where
    )
    first = spawn_daemon()
    with first.client() as client:
        assert client.request("POST", "/decide", read)["rule_id"] == "guard:credential-read"
        events = client.request("GET", "/audit/events", query={"kind": "session.tainted"})
        assert [e["session"] for e in events["events"]] == ["tainted"]
    first.stop()
    second = spawn_daemon()
    with second.client() as client:
        answer = client.request("POST", "/decide", fetch)
        assert answer["verdict"] == "deny"
        assert answer["rule_id"] == "flow:credential-then-network"
        other = client.request("POST", "/decide", {**fetch, "session_id": "clean"})
        assert other["rule_id"] != "flow:credential-then-network"
