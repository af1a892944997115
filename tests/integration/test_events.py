"""``GET /api/v1/events`` and the new ``/audit/events`` filters against a real daemon.

Streams are read with the real client (:meth:`Client.stream`) over the daemon's real
socket. A stream that is opened and not read is a slow subscriber: the socket fills,
the daemon's queue for it overflows, and it must still receive every event once it
reads again. One daemon serves the module; stopping and restarting one is in
``test_events_lifecycle.py``.
"""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from tests.daemon_support import DaemonProcess, daemon_env, tool_call
from tests.integration.test_approvals import (  # noqa: F401 - one daemon per module
    READ_ENV,
    Hold,
    daemon_process,
    hold,
    home,
    pool,
    wait_pending,
)

from stockade.client import ApiError, Client, EventStream
from stockade.daemon.events import MAX_SUBSCRIBERS, QUEUE_EVENTS
from stockade.home import Home

pytestmark = pytest.mark.integration

STOCKADE = str(Path(sys.executable).with_name("stockade"))


class Cli:
    """A long-running ``stockade`` command whose output lines are read with a deadline."""

    def __init__(self, on: Home, *args: str) -> None:
        env = daemon_env(on, {"NO_COLOR": "1", "COLUMNS": "200"})
        self.proc = subprocess.Popen(
            [STOCKADE, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))

    def expect(self, wanted: Callable[[str], bool], timeout: float = 10) -> str:
        """The first new line ``wanted`` accepts; fails with everything seen at the deadline."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                break
            self.seen.append(line)
            if wanted(line):
                return line
        raise AssertionError(f"no such line within {timeout} s; got {self.seen}")

    def expect_json(self, keys: Sequence[tuple[str, Any]], timeout: float = 10) -> dict[str, Any]:
        line = self.expect(lambda text: _matches(json.loads(text), keys), timeout)
        found: dict[str, Any] = json.loads(line)
        return found

    def stop(self) -> str:
        """Ctrl-C, as a person would; returns stderr. It must exit 0 at once."""
        self.proc.send_signal(2)
        _, err = self.proc.communicate(timeout=10)
        assert self.proc.returncode == 0, err
        return err


def _matches(record: Any, keys: Sequence[tuple[str, Any]]) -> bool:
    return isinstance(record, dict) and all(record.get(key) == value for key, value in keys)


def session_events(client: Client, count: int, prefix: str = "ev") -> None:
    """``count`` small audit events (session starts), one request each."""
    for n in range(count):
        body = {"harness": "codex", "session_id": f"{prefix}-{n}", "event": "start"}
        client.request("POST", "/sessions", body)


def read(stream: EventStream, count: int) -> list[dict[str, Any]]:
    """The next ``count`` events of ``stream`` (each checked to be one SSE message)."""
    got: list[dict[str, Any]] = []
    for message in stream:
        event = json.loads(message.data)
        assert (message.id, message.event) == (str(event["seq"]), event["kind"])
        got.append(event)
        if len(got) == count:
            break
    return got


def head(client: Client) -> int:
    return int(client.request("GET", "/audit/head")["seq"])


def test_resume_by_last_event_id_or_after_has_no_gap_and_no_duplicate(daemon: Client) -> None:
    session_events(daemon, 5)
    with daemon.stream("/events", query={"after": 0}) as stream:
        first = read(stream, 4)
    session_events(daemon, 5, "more")  # while nobody listens
    last = first[-1]["seq"]
    # Last-Event-ID (what an EventSource sends) and ?after: the larger wins.
    resume = {"Last-Event-ID": str(last)}
    with daemon.stream("/events", query={"after": 1}, headers=resume) as stream:
        rest = read(stream, head(daemon) - last)
    seqs = [event["seq"] for event in first + rest]
    assert seqs == list(range(1, head(daemon) + 1))
    assert rest[-1]["kind"] == "session.started" and rest[-1]["session"] == "more-4"
    # Without a cursor the stream starts now: only what happens next.
    with daemon.stream("/events") as stream:
        session_events(daemon, 1, "now")
        (live,) = read(stream, 1)
    assert (live["seq"], live["session"]) == (head(daemon), "now-0")


def test_a_slow_subscriber_still_gets_every_event_in_order(
    daemon: Client,
    daemon_process: DaemonProcess,  # noqa: F811 - the module's fixture, imported above
) -> None:
    start = head(daemon)
    padding = "x" * 8000  # few events fill the socket buffers, then the daemon's queue
    count = QUEUE_EVENTS * 3
    with daemon_process.client() as reader:
        stream = reader.stream("/events", query={"after": start})
        with stream, ThreadPoolExecutor(max_workers=8) as pool:
            bodies = [
                tool_call(f"slow-{n % 8}", tool_input={"file_path": "/tmp/a", "pad": padding})
                for n in range(count)
            ]

            def decide(body: dict[str, Any]) -> None:
                with daemon_process.client() as client:
                    client.request("POST", "/decide", body)

            list(pool.map(decide, bodies))  # meanwhile the stream is not read at all
            got = read(stream, count)
    assert [event["seq"] for event in got] == list(range(start + 1, start + count + 1))
    assert all(event["kind"] == "decision" for event in got)


def test_kinds_filter_and_invalid_stream_requests(daemon: Client) -> None:
    start = head(daemon)
    daemon.request("POST", "/check", tool_call("kinds"))  # no event
    daemon.request("POST", "/decide", tool_call("kinds"))
    session_events(daemon, 1, "kinds")
    daemon.request("POST", "/decide", tool_call("kinds"))
    query: dict[str, str | int] = {"after": start, "kinds": "decision, session.*"}
    with daemon.stream("/events", query=query) as stream:
        got = read(stream, 3)
    assert [e["kind"] for e in got] == ["decision", "session.started", "decision"]
    with daemon.stream("/events", query={"after": start, "kinds": "session.*"}) as stream:
        (only,) = read(stream, 1)
    assert only["kind"] == "session.started"
    # ?session= keeps one session's events (the decisions of "kinds", not "kinds-0"'s start).
    with daemon.stream("/events", query={"after": start, "session": "kinds"}) as stream:
        mine = read(stream, 2)
    assert [(e["kind"], e["session"]) for e in mine] == [("decision", "kinds")] * 2
    malformed: list[dict[str, str | int]] = [
        {"session": ""},
        {"session": "x" * 1000},
        {"kinds": "Decision"},
        {"kinds": "*"},
        {"kinds": "decision.**"},
        {"kinds": ",".join(["decision"] * 33)},
        {"after": -1},
        {"after": "x"},
        {"after": 2**63},  # beyond SQLite's integers
        {"since": "2026-01-01T00:00:00Z"},
    ]
    for bad in malformed:
        with pytest.raises(ApiError) as refused:
            daemon.stream("/events", query=bad)
        assert (refused.value.status, refused.value.code) == (422, "invalid_request")
    for garbage in ["abc", "-1", "1e3", "²", "9" * 40, str(2**63), "0" * 20 + "1"]:
        with pytest.raises(ApiError) as refused:
            daemon.stream("/events", headers={"Last-Event-ID": garbage})
        assert refused.value.status == 422


def test_the_number_of_streams_is_capped(
    daemon_process: DaemonProcess,  # noqa: F811 - the module's fixture, imported above
) -> None:
    clients = [daemon_process.client() for _ in range(MAX_SUBSCRIBERS + 1)]
    try:
        streams = [client.stream("/events") for client in clients[:MAX_SUBSCRIBERS]]
        with pytest.raises(ApiError) as refused:
            clients[-1].stream("/events")
        assert (refused.value.status, refused.value.code) == (503, "too_many_streams")
        streams.pop().close()  # the daemon sees the hang-up and frees the slot
        deadline = time.monotonic() + 5
        while True:
            try:
                streams.append(clients[-1].stream("/events"))
                break
            except ApiError:
                assert time.monotonic() < deadline, "a closed stream kept its slot"
                time.sleep(0.02)
        # The API still answers everything else while every stream is taken.
        with daemon_process.client() as client:
            assert client.request("GET", "/health")["status"] == "ok"
        for stream in streams:
            stream.close()
    finally:
        for client in clients:
            client.close()


def test_audit_events_filter_by_tool_verdict_and_harness(daemon: Client) -> None:
    for body in [
        tool_call("f-1"),
        tool_call("f-1", tool_name="Bash", tool_input={"command": "rm -rf ~"}),
        tool_call("f-2", harness="codex", tool_name="shell", tool_input={"command": "ls"}),
        tool_call("f-2", harness="codex", tool_name="shell", tool_input={"command": "rm -rf /"}),
    ]:
        daemon.request("POST", "/decide", body)

    def seen(**query: str) -> list[tuple[str | None, str, str]]:
        events = daemon.request("GET", "/audit/events", query={"limit": 1000, **query})
        return [
            (e["session"], e["payload"].get("tool"), e["payload"].get("verdict"))
            for e in events["events"]
            if e["session"] in ("f-1", "f-2")
        ]

    assert seen(tool="Bash") == [("f-1", "Bash", "deny")]
    assert seen(harness="codex") == [("f-2", "shell", "allow"), ("f-2", "shell", "deny")]
    assert seen(verdict="deny") == [("f-1", "Bash", "deny"), ("f-2", "shell", "deny")]
    assert seen(verdict="allow", harness="claude-code", kind="decision", session="f-1") == [
        ("f-1", "Read", "allow")
    ]
    assert seen(tool="Read", harness="codex") == []
    newest = daemon.request("GET", "/audit/events", query={"tool": "shell", "order": "desc"})
    assert [e["payload"]["verdict"] for e in newest["events"][:2]] == ["deny", "allow"]
    malformed: list[dict[str, str | int]] = [
        {"verdict": "maybe"},
        {"harness": "vim"},
        {"tool": ""},
        {"tool": "t" * 201},
        {"after": 2**63},
    ]
    for bad in malformed:
        with pytest.raises(ApiError) as refused:
            daemon.request("GET", "/audit/events", query=bad)
        assert (refused.value.status, refused.value.code) == (422, "invalid_request")


def test_approvals_watch_prints_each_call_as_held_and_as_resolved(
    daemon: Client,
    hold: Hold,  # noqa: F811 - the module's fixture, imported above
    home: Home,  # noqa: F811 - the module's fixture, imported above
) -> None:
    early = hold("w-1", READ_ENV)
    first = wait_pending(daemon, "w-1")["id"]
    watch_json = Cli(home, "approvals", "watch", "--json")
    watch_text = Cli(home, "approvals", "watch")
    try:
        # Already pending when the watch started: shown at once, without an audit seq.
        held = watch_json.expect_json([("event", "held"), ("approval_id", first)])
        assert (held["seq"], held["tool"], held["session"]) == (None, "Read", "w-1")
        assert held["input"] == READ_ENV["tool_input"] and held["reason"]
        watch_text.expect(lambda line: line.startswith("held") and first in line)
        daemon.request("POST", f"/approvals/{first}/approve", headers={"Stockade-Client": "cli"})
        done = watch_json.expect_json([("event", "resolved"), ("approval_id", first)])
        assert (done["resolution"], done["by"]) == ("approved", "cli")
        watch_text.expect(lambda line: line.startswith("approved") and first in line)
        assert early.result(5)["verdict"] == "allow"

        later = hold("w-2", READ_ENV)
        second = wait_pending(daemon, "w-2")["id"]
        held = watch_json.expect_json([("event", "held"), ("approval_id", second)])
        assert held["seq"] > done["seq"] and held["harness"] == "claude-code"
        daemon.request("POST", f"/approvals/{second}/deny", {"note": "no"})
        done = watch_json.expect_json([("event", "resolved"), ("approval_id", second)])
        assert (done["resolution"], done["by"]) == ("denied", "api")
        assert later.result(5)["verdict"] == "deny"
    finally:
        watch_text.stop()
        watch_json.stop()
    assert [json.loads(line)["event"] for line in watch_json.seen] == [
        "held",
        "resolved",
        "held",
        "resolved",
    ]
