"""Live audit events: the hub the store feeds, and ``GET /api/v1/events`` as Server-Sent Events.

The audit store tells the :class:`EventHub` of every event once it is durable (its
``on_stored`` hook, on the writer thread, in seq order), whoever appended it: the
pipeline, the daemon's own ``daemon.started``, a purge's ``audit.purged``. The hub
hands each batch to the event loop and copies it into every subscriber's bounded queue.

A stream never trusts the queue alone. :func:`follow` first reads the backlog after the
client's cursor from the store, then takes live events from the queue, skipping any
seq it has already sent: the subscription is registered before the store is read, so
an event is either in that read or in the queue (or both), and none falls between.
A subscriber too slow to keep up (a full queue: the client does not read, the socket
is full) is not cut off: its queue is dropped and it reads the store again from its
cursor, so it still gets every event, once, in seq order.

Why Starlette's own ``StreamingResponse`` and not ``sse-starlette``: the frames are three
lines each; the package's shutdown detection hooks uvicorn's signal handlers, which this
daemon replaces (``lifecycle.py``); and streams must end when the daemon stops, which
:meth:`EventHub.close` does here, before uvicorn's graceful shutdown starts waiting for
in-flight responses. Under ASGI spec 2.3 (uvicorn's) the response also watches for the
client hanging up, which ends an idle stream at once and frees its slot. A client that
has stopped reading altogether (its socket full) cannot be ended from here: a closing
transport first flushes what it holds and an ASGI app cannot abort it (cancelling the
response does not help). The server does it instead (``lifecycle._Server.shutdown``):
a stop cuts a connection whose unsent output has not shrunk for a second (it held the
stop for uvicorn's whole 10 s graceful timeout before).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
from collections import deque
from collections.abc import AsyncIterator, Callable, Sequence

from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from stockade.audit import SqliteAuditStore, StoredEvent
from stockade.daemon.problems import ApiProblem

logger = logging.getLogger(__name__)

KEEPALIVE_S = 15.0
MAX_SUBSCRIBERS = 64
QUEUE_EVENTS = 256
PAGE = 500
KEEPALIVE_FRAME = b": keepalive\n\n"
RETRY_FRAME = b"retry: 1000\n\n"  # an EventSource reconnects after 1 s (its default is ~3 s)

EventMatcher = Callable[[StoredEvent], bool]


class Subscription:
    """One stream's live queue; the hub fills it, :func:`follow` drains it (loop only)."""

    def __init__(self) -> None:
        self.pending: deque[StoredEvent] = deque()
        self.wake = asyncio.Event()
        self.lagging = False  # the queue overflowed: read the store again from the cursor
        self.closed = False


class EventHub:
    """Fans durable audit events out to at most ``max_subscribers`` streams."""

    def __init__(
        self,
        *,
        max_subscribers: int = MAX_SUBSCRIBERS,
        queue_events: int = QUEUE_EVENTS,
        keepalive_s: float = KEEPALIVE_S,
    ) -> None:
        self.keepalive_s = keepalive_s
        self._max_subscribers = max_subscribers
        self._queue_events = queue_events
        self._subscribers: set[Subscription] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False

    def notify(self, events: Sequence[StoredEvent]) -> None:
        """The store's ``on_stored``: called on its writer thread, in seq order.

        Without subscribers this costs nothing: one that subscribes later reads these
        events from the store, where they already are.
        """
        loop = self._loop
        if loop is None or not self._subscribers:
            return
        with contextlib.suppress(RuntimeError):  # the loop has closed: nobody listens
            loop.call_soon_threadsafe(self._publish, tuple(events))

    def open(self) -> Subscription:
        """A live queue for one stream; 503 when the daemon stops or too many are open.

        Every subscription opened must be given back to :meth:`release`.
        """
        if self._closed:
            raise ApiProblem(503, "daemon_stopping", "the daemon is stopping", "reconnect shortly")
        if len(self._subscribers) >= self._max_subscribers:
            raise ApiProblem(
                503,
                "too_many_streams",
                f"{self._max_subscribers} event streams are already open",
                "close another stream, or poll GET /api/v1/audit/events",
            )
        self._loop = asyncio.get_running_loop()
        subscription = Subscription()
        self._subscribers.add(subscription)
        return subscription

    def release(self, subscription: Subscription) -> None:
        self._subscribers.discard(subscription)

    def close(self) -> None:
        """End every stream and refuse new ones: the daemon is stopping."""
        self._closed = True
        self.end_streams()

    def end_streams(self) -> int:
        """End every open stream; how many. Their clients must reconnect, and so show
        their credentials again (the gateway's token was rotated)."""
        for subscription in self._subscribers:
            subscription.closed = True
            subscription.wake.set()
        return len(self._subscribers)

    def _publish(self, events: tuple[StoredEvent, ...]) -> None:
        for subscription in self._subscribers:
            if subscription.lagging:
                continue  # it reads the store next, where these events already are
            if len(subscription.pending) + len(events) > self._queue_events:
                subscription.lagging = True
                subscription.pending.clear()
                logger.debug("an event stream fell behind; it catches up from the audit log")
            else:
                subscription.pending.extend(events)
            subscription.wake.set()


async def follow(
    store: SqliteAuditStore,
    subscription: Subscription,
    after: int,
    wanted: EventMatcher,
    keepalive_s: float,
) -> AsyncIterator[StoredEvent | None]:
    """Every wanted event after seq ``after``, in seq order, until the subscription closes.

    Yields ``None`` after ``keepalive_s`` without an event (time for a keepalive).
    """
    cursor = after
    caught_up = False
    while not subscription.closed:
        if subscription.lagging or not caught_up:
            subscription.lagging = False
            subscription.pending.clear()  # all committed already: the read below has them
            page = await asyncio.to_thread(store.query, after=cursor, limit=PAGE)
            caught_up = len(page) < PAGE
            for event in page:
                cursor = event.seq
                if wanted(event):
                    yield event
            continue
        if not subscription.pending:
            subscription.wake.clear()
            try:
                async with asyncio.timeout(keepalive_s):
                    await subscription.wake.wait()
            except TimeoutError:
                yield None
            continue
        event = subscription.pending.popleft()
        if event.seq > cursor:
            cursor = event.seq
            if wanted(event):
                yield event


def event_matcher(kinds: Sequence[str] = (), session: str | None = None) -> EventMatcher:
    """Matches an event whose kind is named in ``kinds`` or under a ``prefix.*`` (any kind
    when empty) and, given a ``session``, that belongs to it."""
    exact = frozenset(p for p in kinds if not p.endswith(".*"))
    prefixes = tuple(p[:-1] for p in kinds if p.endswith(".*"))

    def wanted(event: StoredEvent) -> bool:
        if session is not None and event.session != session:
            return False
        return not kinds or event.kind in exact or event.kind.startswith(prefixes)

    return wanted


def frame(event: StoredEvent) -> bytes:
    """One SSE message: the seq as its id, the kind as its event, the API's Event as data."""
    data = json.dumps(event.to_json(), ensure_ascii=False, separators=(",", ":"))
    return f"id: {event.seq}\nevent: {event.kind}\ndata: {data}\n\n".encode()


class _EventStreamResponse(StreamingResponse):
    """A stream that gives its subscription back however it ends (even never started)."""

    def __init__(self, hub: EventHub, subscription: Subscription, frames: AsyncIterator[bytes]):
        headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
        super().__init__(frames, media_type="text/event-stream", headers=headers)
        self._release = functools.partial(hub.release, subscription)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._release()


def event_stream(
    hub: EventHub, store: SqliteAuditStore, after: int | None, wanted: EventMatcher
) -> StreamingResponse:
    """The ``GET /api/v1/events`` response; 503 at once when no stream can be opened.

    Without a cursor the stream starts at the head, read once subscribed so that
    nothing committed in between is missed.
    """
    subscription = hub.open()
    start = store.head().seq if after is None else after

    async def frames() -> AsyncIterator[bytes]:
        yield RETRY_FRAME
        async for event in follow(store, subscription, start, wanted, hub.keepalive_s):
            yield KEEPALIVE_FRAME if event is None else frame(event)

    return _EventStreamResponse(hub, subscription, frames())
