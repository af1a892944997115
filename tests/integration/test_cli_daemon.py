"""The real console script against a real daemon: ``stockade serve`` in a subprocess.

Every command runs as its own process with ``STOCKADE_HOME`` pointing at a private
temporary home, exactly as a user or a script would run it.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip(
    "stockade.daemon.lifecycle", reason="daemon not built yet", exc_type=ImportError
)

from stockade.client import Client  # noqa: E402

pytestmark = pytest.mark.integration

STOCKADE = str(Path(sys.executable).with_name("stockade"))
START_TIMEOUT_S = 20.0


class Daemon:
    """A ``stockade serve`` subprocess and the environment that reaches it."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.env = {**os.environ, "STOCKADE_HOME": str(home)}
        self.process = subprocess.Popen(
            [STOCKADE, "serve", "--log-level", "debug"],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )

    def cli(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [STOCKADE, *args],
            env=self.env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )

    def json(self, *args: str) -> Any:
        result = self.cli(*args, "--json")
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    def wait_until_up(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while self.cli("status").returncode != 0:
            if self.process.poll() is not None:
                pytest.fail(f"stockade serve exited {self.process.returncode}: {self.stderr()}")
            if time.monotonic() > deadline:
                pytest.fail(f"stockade serve did not answer in {START_TIMEOUT_S} s")
            time.sleep(0.1)

    def stderr(self) -> str:
        assert self.process.stderr is not None
        return self.process.stderr.read() if self.process.poll() is not None else ""

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stderr is not None:
            self.process.stderr.close()


@pytest.fixture
def home() -> Iterator[Path]:
    # Short and private: a Unix socket path must fit in 108 bytes, pytest's tmp_path may not.
    root = Path(tempfile.mkdtemp(prefix="stk-"))
    try:
        yield root / "home"
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def daemon(home: Path) -> Iterator[Daemon]:
    running = Daemon(home)
    try:
        running.wait_until_up()
        yield running
    finally:
        running.kill()


def test_status_check_and_reload(daemon: Daemon, tmp_path: Path) -> None:
    status = daemon.json("status")
    assert status["running"] is True
    assert status["pid"] == daemon.process.pid
    assert status["socket"] == str(daemon.home / "stockade.sock")

    call = ["check", "--harness", "claude-code", "--tool", "Bash", "--cwd", str(tmp_path)]
    decision = daemon.json(*call, "--input", '{"command": "ls"}')
    assert decision["source"] == "daemon"
    assert decision["verdict"] in {"allow", "ask", "deny"}
    from_stdin = daemon.cli(*call, "--input", "-", "--json", stdin='{"command": "ls"}')
    assert json.loads(from_stdin.stdout)["verdict"] == decision["verdict"]
    assert "evaluated locally" not in from_stdin.stderr

    assert daemon.json("reload")["reloaded"] is True
    assert isinstance(daemon.json("policy", "show"), dict)


def test_audit_tail_show_export_verify(daemon: Daemon, tmp_path: Path) -> None:
    with Client(daemon.home / "stockade.sock") as client:
        for command in ("ls", "git status"):
            client.request(
                "POST",
                "/decide",
                {
                    "harness": "claude-code",
                    "session_id": "it-session",
                    "tool_name": "Bash",
                    "tool_input": {"command": command},
                    "cwd": str(tmp_path),
                },
            )
    tail = daemon.cli("audit", "tail", "-n", "1000", "--json")
    assert tail.returncode == 0, tail.stderr
    events = [json.loads(line) for line in tail.stdout.splitlines()]
    seqs = [event["seq"] for event in events]
    assert seqs == sorted(seqs) and len(seqs) >= 2
    mine = daemon.cli("audit", "tail", "--session", "it-session", "--json").stdout.splitlines()
    assert len(mine) == 2

    assert daemon.json("audit", "show", str(seqs[-1]))["hash"] == events[-1]["hash"]

    target = tmp_path / "audit.jsonl"
    export = daemon.cli("audit", "export", "--jsonl", "--output", str(target))
    assert export.returncode == 0, export.stderr
    assert [json.loads(line) for line in target.read_text().splitlines()] == events
    assert stat.S_IMODE(target.stat().st_mode) == 0o600

    report = daemon.json("audit", "verify")
    assert report["ok"] is True and report["checked"] >= len(events)

    refused = daemon.cli("audit", "purge", "--before", "2999-01-01")
    assert refused.returncode == 2 and "--yes" in refused.stderr
    after = daemon.cli("audit", "tail", "-n", "1000", "--json").stdout.splitlines()
    assert len(after) >= len(events)  # nothing purged


def test_stop_then_offline_commands(daemon: Daemon, tmp_path: Path) -> None:
    stopped = daemon.cli("stop", "--timeout", "15")
    assert stopped.returncode == 0, stopped.stderr
    assert daemon.process.wait(15) == 0
    assert not (daemon.home / "stockade.sock").exists()

    status = daemon.cli("status")
    assert status.returncode == 4 and "hint:" in status.stderr
    assert "not running" in daemon.cli("stop").stdout

    assert daemon.json("audit", "verify")["ok"] is True  # no daemon needed
    local = daemon.cli("check", "--tool", "Read", "--input", '{"file_path": "/etc/hostname"}')
    assert local.returncode == 0 and "evaluated locally" in local.stderr
    doctor = daemon.json("doctor")
    statuses = {check["id"]: check["status"] for check in doctor["checks"]}
    assert statuses["daemon.running"] == "warn" and statuses["audit.verify"] == "ok"


def test_second_daemon_refused(daemon: Daemon) -> None:
    second = daemon.cli("serve")
    assert second.returncode == 5
    assert "error:" in second.stderr and "hint:" in second.stderr
    assert "Traceback" not in second.stderr


def test_unsafe_home_refused(home: Path) -> None:
    home.mkdir(mode=0o700)
    os.chmod(home, 0o755)  # noqa: S103  (the unsafe state under test)
    result = subprocess.run(
        [STOCKADE, "serve"],
        env={**os.environ, "STOCKADE_HOME": str(home)},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 3
    assert "doctor --fix" in result.stderr and "Traceback" not in result.stderr


def test_invalid_config_stops_the_daemon_from_starting(home: Path) -> None:
    home.mkdir(mode=0o700)
    config = home / "stockade.toml"
    config.write_text('level = "lenient"\n[tools]\nalow = ["Bash"]\n')
    os.chmod(config, 0o600)
    result = subprocess.run(
        [STOCKADE, "serve"],
        env={**os.environ, "STOCKADE_HOME": str(home)},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2
    assert str(config) in result.stderr
    assert "key `level`" in result.stderr and "key `tools.alow`: unknown key" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (home / "stockade.sock").exists()
