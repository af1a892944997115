"""Held approvals that end without an answer: the configured hold runs out, the daemon stops.

Each test runs its own daemon (a configuration of its own, a daemon to stop).
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from tests.daemon_support import DaemonProcess, tool_call
from tests.integration.test_approvals import READ_ENV, events_of, kinds_of, wait_pending

from stockade.client import ApiError
from stockade.errors import StockadeError
from stockade.home import Home

pytestmark = pytest.mark.integration


@pytest.fixture
def pool() -> Iterator[ThreadPoolExecutor]:
    # Requested before the daemon, so torn down after it: a failed test's held
    # request ends when the daemon stops instead of blocking the teardown.
    with ThreadPoolExecutor(max_workers=4) as executor:
        yield executor


def held(pool: ThreadPoolExecutor, process: DaemonProcess, session: str, hold_s: float) -> Any:
    """A held ``/decide`` in a thread; its future is (seconds it took, the answer)."""

    def decide() -> tuple[float, dict[str, Any]]:
        started = time.monotonic()
        with process.client(timeout=30) as client:
            body = {**tool_call(session, **READ_ENV), "hold_s": hold_s}
            decision: dict[str, Any] = client.request("POST", "/decide", body)
            return time.monotonic() - started, decision

    return pool.submit(decide)


def test_unanswered_calls_expire_after_the_configured_hold(
    pool: ThreadPoolExecutor, spawn_daemon: Callable[..., DaemonProcess], home: Home
) -> None:
    home.config_path.write_text("[approvals]\nhold_timeout_s = 1\n")
    home.config_path.chmod(0o600)
    process = spawn_daemon()
    answer = held(pool, process, "s-late", hold_s=30)
    with process.client() as client:
        pending = wait_pending(client, "s-late")
        elapsed, decision = answer.result(10)
        assert 0.9 <= elapsed < 5
        assert decision["verdict"] == "deny" and decision["approval"]["status"] == "expired"
        assert "no one approved this call within 1 s" in decision["reason"]
        expired = client.request("GET", f"/approvals/{pending['id']}")
        assert (expired["status"], expired["resolved_by"]) == ("expired", "timeout")
        assert kinds_of(client, "s-late") == [
            "permission.request",
            "permission.resolved",
            "decision",
        ]
        with pytest.raises(ApiError) as late:
            client.request("POST", f"/approvals/{pending['id']}/approve")
        assert late.value.status == 409 and "it is expired" in late.value.message


def test_a_shorter_hold_s_wins_over_the_configured_hold(
    pool: ThreadPoolExecutor, daemon_process: DaemonProcess
) -> None:
    elapsed, decision = held(pool, daemon_process, "s-short", hold_s=0.3).result(10)
    assert 0.25 <= elapsed < 3
    assert decision["verdict"] == "deny" and "within 0.3 s" in decision["reason"]


def test_calls_held_when_the_daemon_is_killed_are_closed_at_the_next_start(
    pool: ThreadPoolExecutor, daemon_process: DaemonProcess
) -> None:
    """Approvals live in memory: after a SIGKILL the log would hold requests that nothing
    answered. The next start records each as expired, ``why: crash``, once."""
    answers = [held(pool, daemon_process, f"s-kill-{n}", hold_s=60) for n in range(2)]
    with daemon_process.client() as client:
        pending = [wait_pending(client, f"s-kill-{n}") for n in range(2)]
        deadline = time.monotonic() + 5
        while any("permission.request" not in kinds_of(client, p["session_id"]) for p in pending):
            assert time.monotonic() < deadline, "the requests were not audited"
            time.sleep(0.02)
    daemon_process.signal(signal.SIGKILL)
    assert daemon_process.wait(10) == -signal.SIGKILL
    for answer in answers:
        with pytest.raises(StockadeError):  # the connection broke: no verdict reached the hook
            answer.result(5)

    for _ in range(2):  # a second restart finds nothing left to close
        daemon_process.start()
        with daemon_process.client() as client:
            for approval in pending:
                session = approval["session_id"]
                assert kinds_of(client, session) == [
                    "permission.request",
                    "permission.resolved",
                ], session
                [closed] = events_of(client, session, "permission.resolved")
                assert closed["payload"] == {
                    "approval_id": approval["id"],
                    "harness": approval["harness"],
                    "session": session,
                    "tool": approval["tool_name"],
                    "input_sha256": approval["input_sha256"],
                    "resolution": "expired",
                    "why": "crash",
                }
                assert closed["actor"] == approval["harness"]
        daemon_process.stop()


def test_sigterm_while_held_answers_deny_and_stops_at_once(
    pool: ThreadPoolExecutor, daemon_process: DaemonProcess
) -> None:
    answers = [held(pool, daemon_process, f"s-stop-{n}", hold_s=60) for n in range(3)]
    with daemon_process.client() as client:
        for n in range(3):
            wait_pending(client, f"s-stop-{n}")
    started = time.monotonic()
    daemon_process.signal(signal.SIGTERM)
    assert daemon_process.wait(10) == 0
    assert time.monotonic() - started < 3
    for answer in answers:
        _, decision = answer.result(5)
        assert decision["verdict"] == "deny" and decision["approval"]["status"] == "expired"
        assert "daemon stopped" in decision["reason"]
