"""The live event hub and :func:`follow` on a real audit store, without a server.

The store's writer thread calls the hub exactly as in the daemon; only the stream is
read directly instead of over HTTP (``tests/integration/test_events.py`` does that).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from stockade.audit import AuditEvent, SqliteAuditStore, StoredEvent
from stockade.daemon.events import EventHub, event_matcher, follow, frame
from stockade.daemon.problems import ApiProblem


def _event(n: int, kind: str = "test.event") -> AuditEvent:
    return AuditEvent(kind, "daemon", f"s-{n % 3}", {"n": n})


@pytest.fixture
def hub() -> EventHub:
    return EventHub(max_subscribers=2, queue_events=4, keepalive_s=0.05)


@pytest.fixture
def store(tmp_path: Path, hub: EventHub) -> Iterator[SqliteAuditStore]:
    opened = SqliteAuditStore(tmp_path / "audit.db", on_stored=hub.notify)
    opened.open()
    yield opened
    opened.close()


async def _collect(stream: AsyncIterator[StoredEvent | None], count: int) -> list[StoredEvent]:
    got: list[StoredEvent] = []
    async with asyncio.timeout(10):
        async for event in stream:
            if event is not None:
                got.append(event)
            if len(got) == count:
                return got
    return got


def test_backlog_then_live_events_arrive_once_each_in_seq_order(
    hub: EventHub, store: SqliteAuditStore
) -> None:
    async def scenario() -> list[int]:
        for n in range(10):
            await store.append(_event(n))
        subscription = hub.open()
        stream = follow(store, subscription, 3, event_matcher(()), hub.keepalive_s)

        async def append_more() -> None:
            for n in range(10, 40):  # interleaved with the backlog read, batches of one or more
                await store.append(_event(n))
                if n % 7 == 0:
                    await asyncio.sleep(0)

        async with asyncio.TaskGroup() as tasks:
            tasks.create_task(append_more())
            got = await _collect(stream, 37)
        hub.release(subscription)
        return [event.seq for event in got]

    assert asyncio.run(scenario()) == list(range(4, 41))


def test_an_overflowing_subscriber_catches_up_from_the_store(
    hub: EventHub, store: SqliteAuditStore
) -> None:
    async def scenario() -> list[int]:
        subscription = hub.open()
        stream = follow(store, subscription, 0, event_matcher(()), hub.keepalive_s)
        first = await _collect(stream, 1)  # caught up and idle on the live queue
        await asyncio.gather(*(store.append(_event(n)) for n in range(1, 200)))
        await asyncio.sleep(0.01)
        assert subscription.lagging  # a queue of 4 could not hold them
        rest = await _collect(stream, 199)
        return [event.seq for event in first + rest]

    async def first_event() -> None:
        await store.append(_event(0))

    asyncio.run(first_event())
    assert asyncio.run(scenario()) == list(range(1, 201))


def test_kinds_filter_the_stream_and_idle_streams_keep_alive(
    hub: EventHub, store: SqliteAuditStore
) -> None:
    kinds = ["decision", "session.started", "permission.request", "permission.resolved", "x"]

    async def scenario() -> list[StoredEvent | None]:
        for n, kind in enumerate(kinds):
            await store.append(_event(n, kind))
        wanted = event_matcher(("decision", "permission.*"))
        stream = follow(store, hub.open(), 0, wanted, hub.keepalive_s)
        return [await anext(stream) for _ in range(4)]

    first, second, third, idle = asyncio.run(scenario())
    assert [e.kind for e in (first, second, third) if e] == [kinds[0], kinds[2], kinds[3]]
    assert idle is None  # nothing for keepalive_s: time for a keepalive comment


def test_event_matcher() -> None:
    def stored(kind: str, session: str | None = "s-1") -> StoredEvent:
        ts = "2026-01-01T00:00:00.000000Z"
        return StoredEvent(1, ts, kind, "test", session, {}, "0" * 64, "1" * 64)

    everything = event_matcher(())
    assert everything(stored("anything.at.all")) and everything(stored("x", None))
    wanted = event_matcher(("decision", "permission.*"))
    assert wanted(stored("decision")) and wanted(stored("permission.request"))
    for kind in ("decision.error", "permission", "permissions.x"):
        assert not wanted(stored(kind))
    mine = event_matcher(("decision",), session="s-1")
    assert mine(stored("decision")) and not mine(stored("decision", "s-2"))
    assert not mine(stored("decision", None)) and not mine(stored("permission.request"))


def test_the_subscriber_cap_and_close(hub: EventHub, store: SqliteAuditStore) -> None:
    async def scenario() -> None:
        first, second = hub.open(), hub.open()
        with pytest.raises(ApiProblem) as full:
            hub.open()
        assert (full.value.status, full.value.code) == (503, "too_many_streams")
        hub.release(first)
        stream = follow(store, hub.open(), 0, event_matcher(()), 30.0)
        async with asyncio.timeout(1), asyncio.TaskGroup() as tasks:
            reading = tasks.create_task(_collect(stream, 1))
            await asyncio.sleep(0.01)
            hub.close()  # ends the stream without an event or a keepalive
        assert reading.result() == []
        with pytest.raises(ApiProblem) as stopping:
            hub.open()
        assert (stopping.value.status, stopping.value.code) == (503, "daemon_stopping")
        hub.release(second)

    asyncio.run(scenario())


def test_the_store_reports_every_commit_in_order(tmp_path: Path) -> None:
    reported: list[tuple[int, str]] = []

    def on_stored(events: object) -> None:
        assert isinstance(events, list | tuple)
        reported.extend((event.seq, event.kind) for event in events)

    store = SqliteAuditStore(tmp_path / "audit.db", on_stored=on_stored)
    store.open()
    try:
        for n in range(3):
            store.append_blocking(_event(n))
        store.purge_before("2999-01-01T00:00:00Z")
        store.append_blocking(_event(9))
    finally:
        store.close()
    assert reported == [(1, "test.event"), (2, "test.event"), (3, "test.event")] + [
        (4, "audit.purged"),
        (5, "test.event"),
    ]


def test_a_failing_listener_never_fails_an_append(tmp_path: Path) -> None:
    def on_stored(events: object) -> None:
        raise RuntimeError("listener bug")

    store = SqliteAuditStore(tmp_path / "audit.db", on_stored=on_stored)
    store.open()
    try:
        assert store.append_blocking(_event(1)).seq == 1
        assert store.get(1) is not None
    finally:
        store.close()


def test_a_frame_is_one_sse_message() -> None:
    payload = {"input": {"command": "echo 'a\n\nb'"}}
    event = StoredEvent(
        7, "2026-01-01T00:00:00.000000Z", "decision", "codex", "s", payload, "a", "b"
    )
    text = frame(event).decode()
    assert text.startswith("id: 7\nevent: decision\ndata: {") and text.endswith("}\n\n")
    assert text.count("\n") == 4  # the JSON is on one line whatever the payload holds
