"""Many clients at once, and a SIGKILL mid-burst: every answered decision is in the log."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable

import pytest
from tests.daemon_support import DaemonProcess, tool_call

from stockade.audit import SqliteAuditStore, verify_database
from stockade.errors import StockadeError

pytestmark = pytest.mark.integration

THREADS = 16


def test_concurrent_clients_are_all_answered(daemon_process: DaemonProcess) -> None:
    per_thread = 50
    seqs: list[list[int]] = [[] for _ in range(THREADS)]
    errors: list[BaseException] = []

    def worker(index: int) -> None:
        try:
            with daemon_process.client(timeout=30) as client:
                for n in range(per_thread):
                    answer = client.request(
                        "POST", "/decide", tool_call(f"c-{index}", tool_input={"n": n})
                    )
                    seqs[index].append(answer["event_seq"])
        except BaseException as exc:  # reported below, in the test thread
            errors.append(exc)

    _run_threads(worker)
    assert errors == []
    answered = [seq for thread_seqs in seqs for seq in thread_seqs]
    assert len(answered) == THREADS * per_thread
    assert len(set(answered)) == len(answered)
    for thread_seqs in seqs:
        assert thread_seqs == sorted(thread_seqs)


def test_sigkill_mid_burst_loses_no_answered_decision(
    spawn_daemon: Callable[..., DaemonProcess],
) -> None:
    process = spawn_daemon()
    answered = _burst_until_stopped(process, signal.SIGKILL)
    assert process.wait() == -signal.SIGKILL
    home = process.home
    assert home.socket_path.exists()  # left behind, stale

    restarted = spawn_daemon()
    with restarted.client() as client:
        assert client.request("GET", "/health")["pid"] == restarted.pid
    restarted.stop()
    _assert_all_logged(process, answered)


def test_sigterm_mid_burst_drains_and_logs_every_answer(
    daemon_process: DaemonProcess,
) -> None:
    answered = _burst_until_stopped(daemon_process, signal.SIGTERM)
    assert daemon_process.wait() == 0
    kinds = _assert_all_logged(daemon_process, answered)
    assert kinds[-1] == "daemon.stopped"


def _burst_until_stopped(process: DaemonProcess, signum: int) -> list[int]:
    """Decide from every thread until the daemon goes; send ``signum`` mid-burst."""
    answered: list[int] = []
    lock = threading.Lock()
    enough = threading.Event()

    def worker(index: int) -> None:
        with process.client(timeout=10) as client:
            while True:
                try:
                    seq = client.request("POST", "/decide", tool_call(f"k-{index}"))["event_seq"]
                except StockadeError:
                    return  # the daemon is gone
                with lock:
                    answered.append(seq)
                    if len(answered) >= 300:
                        enough.set()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    assert enough.wait(60), "the burst never got going"
    process.signal(signum)
    for thread in threads:
        thread.join(30)
    return answered


def _assert_all_logged(process: DaemonProcess, answered: list[int]) -> list[str]:
    """The chain verifies and holds every answered decision; returns the kinds in order."""
    report = verify_database(process.home.audit_path)
    assert report.ok, report.to_json()
    store = SqliteAuditStore(process.home.audit_path)
    store.open()
    try:
        events = {seq: store.get(seq) for seq in answered}
        kinds = [event.kind for event in store.iter_all()]
    finally:
        store.close()
    missing = [seq for seq, event in events.items() if event is None or event.kind != "decision"]
    assert missing == []
    return kinds


def _run_threads(target: Callable[[int], None]) -> None:
    threads = [threading.Thread(target=target, args=(i,)) for i in range(THREADS)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120 - (time.monotonic() - started))
