"""Event streams across the daemon's stop and restart, with the client and with the CLI.

Each test runs its own daemons on a fresh home: they stop them. A stream open at
shutdown must end at once (uvicorn would otherwise wait 10 s for it), and a follower
(:meth:`Client.follow`, ``stockade audit tail -f``) must come back after a restart
and carry on after the last seq it gave out: no gap, no repeat.
"""

from __future__ import annotations

import json
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from tests.daemon_support import DaemonProcess, daemon_env, tool_call
from tests.integration.test_events import STOCKADE, Cli, head, session_events

from stockade.client import Client

pytestmark = pytest.mark.integration


def test_open_streams_end_promptly_at_sigterm(
    daemon: Client, daemon_process: DaemonProcess
) -> None:
    streams = [daemon.stream("/events", query={"after": 0}) for _ in range(3)]
    started = time.monotonic()
    daemon_process.signal(signal.SIGTERM)
    assert daemon_process.wait(10) == 0
    assert time.monotonic() - started < 3  # not uvicorn's 10 s graceful wait
    for stream in streams:
        with stream:
            events = [message.event for message in stream]  # ends: no ConnectionLost
        assert events == ["daemon.started"]  # daemon.stopped is written after streams end


def test_a_stream_that_is_not_read_does_not_hold_the_stop(
    daemon: Client, daemon_process: DaemonProcess
) -> None:
    """A client that stopped reading (its socket full) cannot keep the daemon from stopping:
    its connection is cut once the stop has waited a moment for it to drain."""
    stalled = daemon_process.client().stream("/events", query={"after": 0})
    padding = "x" * 60_000  # a few events fill both socket buffers
    for n in range(60):
        daemon.request("POST", "/decide", tool_call(f"stall-{n}", tool_input={"pad": padding}))
    started = time.monotonic()
    daemon_process.signal(signal.SIGTERM)
    assert daemon_process.wait(10) == 0
    assert time.monotonic() - started < 5  # not uvicorn's 10 s graceful wait
    stalled.close()
    assert "stalled" in daemon_process.log()  # the log says which connection it cut


def test_followers_resume_across_a_daemon_restart(
    spawn_daemon: Callable[..., DaemonProcess],
) -> None:
    first = spawn_daemon()
    with first.client() as client:
        session_events(client, 2, "old")
    got: list[dict[str, Any]] = []
    lost: list[str] = []
    follower = threading.Thread(target=_follow_until_done, args=(first, got, lost), daemon=True)
    follower.start()
    tail = Cli(first.home, "audit", "tail", "-n", "1", "-f", "--json")
    try:
        tail.expect(lambda line: json.loads(line)["seq"] == 3)  # the newest: old-1
        with first.client() as client:
            session_events(client, 3, "before")
        tail.expect(lambda line: json.loads(line)["session"] == "before-2")
        started = time.monotonic()
        stopped = subprocess.run(
            [STOCKADE, "stop"], env=daemon_env(first.home), capture_output=True, timeout=30
        )
        assert stopped.returncode == 0 and time.monotonic() - started < 5, stopped.stderr
        second = spawn_daemon()
        with second.client() as client:
            session_events(client, 3, "after")
            session_events(client, 1, "done")
            final = head(client)
        tail.expect(lambda line: json.loads(line)["session"] == "done-0")
    finally:
        err = tail.stop()
    assert "waiting for the daemon" in err  # told once, on stderr; stdout stays JSON
    printed = [json.loads(line)["seq"] for line in tail.seen]
    assert printed == list(range(3, final + 1))  # from the last line shown, once each
    follower.join(15)
    assert not follower.is_alive()
    assert [event["seq"] for event in got] == list(range(1, final + 1))
    kinds = [event["kind"] for event in got]
    assert kinds.count("daemon.started") == 2 and kinds.count("daemon.stopped") == 1
    assert len(lost) == 1  # one outage, reported once


def _follow_until_done(daemon: DaemonProcess, got: list[dict[str, Any]], lost: list[str]) -> None:
    with daemon.client() as client:
        for event in client.follow(after=0, on_lost=lambda problem: lost.append(problem.message)):
            got.append(event)
            if event["session"] == "done-0":
                return
