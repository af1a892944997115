"""A small synchronous client for the daemon's HTTP API over its Unix socket.

The per-tool-call hook shim imports this module on every tool call, so it uses the
standard library only (no pydantic, starlette or rich): its import time is part of
every agent action's latency. It keeps one HTTP/1.1 connection alive between calls
so that a process making many requests (the CLI, benchmarks) pays connect once.

:meth:`Client.stream` reads ``GET /api/v1/events`` (Server-Sent Events) on a connection
of its own, and :meth:`Client.follow` keeps reading it across a lost connection or a
daemon restart, resuming after the last event it gave out: the audit seq is the cursor,
so nothing is skipped and nothing repeated.

A :class:`Client` is not thread-safe; give each thread its own.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any, NamedTuple
from urllib.parse import urlencode

from stockade.errors import DaemonUnavailable, StockadeError

API_PREFIX = "/api/v1"
API_VERSION_HEADER = "Stockade-API-Version"
_START_HINT = "start it with `stockade serve`"
# A reused keep-alive connection the daemon has closed in the meantime fails with one of
# these before the request reaches it; one retry on a fresh connection is then safe.
_STALE_CONNECTION = (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError)
# The daemon sends a keepalive every 15 s: three missed ones mean it is gone.
STREAM_IDLE_S = 45.0
MAX_EVENT_BYTES = 8 * 1024 * 1024
RECONNECT_S = 0.5


class ApiError(StockadeError):
    """The daemon answered with an error (any non-2xx status), parsed from its JSON body."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        hint: str | None = None,
        details: list[Any] | None = None,
    ) -> None:
        super().__init__(message, hint)
        self.status = status
        self.code = code
        self.details = details or []

    def __str__(self) -> str:
        return f"{self.message} ({self.status} {self.code})"


class ConnectionLost(StockadeError):
    """An event stream broke off (the daemon stopped, or went silent); reconnecting may help."""


class ServerSentEvent(NamedTuple):
    """One message of a ``text/event-stream``: its ``id:``, ``event:`` and ``data:`` lines."""

    id: str | None
    event: str
    data: str


class _UnixConnection(http.client.HTTPConnection):
    """``HTTPConnection`` whose transport is a Unix socket instead of TCP."""

    def __init__(self, socket_path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self._socket_path = socket_path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.settimeout(self.timeout)
            sock.connect(self._socket_path)
        except BaseException:
            sock.close()
            raise
        self.sock = sock


class Client:
    """Talks JSON to one daemon; every path is relative to ``/api/v1``."""

    def __init__(self, socket_path: str | os.PathLike[str], *, timeout: float = 5.0) -> None:
        self.socket_path = os.fspath(socket_path)
        self.timeout = timeout
        self._conn: _UnixConnection | None = None

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the kept-alive connection (the client can still be used afterwards)."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def request(
        self,
        method: str,
        path: str,
        body: Mapping[str, Any] | None = None,
        *,
        query: Mapping[str, str | int] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        """Send one request and return the decoded JSON answer.

        Raises :class:`DaemonUnavailable` when nothing listens on the socket,
        :class:`ApiError` for an error answer and :class:`StockadeError` when the
        answer is not the JSON the API promises.
        """
        target = API_PREFIX + path
        if query:
            target += "?" + urlencode(query)
        payload = None if body is None else json.dumps(body).encode()
        sent = {**(headers or {}), API_VERSION_HEADER: "1", "Accept": "application/json"}
        if payload is not None:
            sent["Content-Type"] = "application/json"
        status, raw = self._exchange(method, target, payload, sent)
        return _decode(status, raw)

    def _exchange(
        self, method: str, target: str, payload: bytes | None, headers: dict[str, str]
    ) -> tuple[int, bytes]:
        reused = self._conn is not None
        try:
            return self._send(method, target, payload, headers)
        except _STALE_CONNECTION:
            self.close()
        if reused:
            try:
                return self._send(method, target, payload, headers)
            except _STALE_CONNECTION:
                self.close()
        raise StockadeError(
            f"the daemon on {self.socket_path} closed the connection without answering",
            "check the daemon's log; restart it with `stockade serve`",
        )

    def _send(
        self, method: str, target: str, payload: bytes | None, headers: dict[str, str]
    ) -> tuple[int, bytes]:
        if self._conn is None:
            self._conn = self._connect()
        conn = self._conn
        try:
            conn.request(method, target, body=payload, headers=headers)
            response = conn.getresponse()
            raw = response.read()
        except TimeoutError:
            self.close()
            raise StockadeError(
                f"the daemon on {self.socket_path} did not answer within {self.timeout:g} s",
                "check the daemon's log; restart it with `stockade serve`",
            ) from None
        except _STALE_CONNECTION:
            raise
        except (OSError, http.client.HTTPException) as exc:
            self.close()
            raise StockadeError(
                f"talking to the daemon on {self.socket_path} failed: {exc}",
                "check the daemon's log; restart it with `stockade serve`",
            ) from None
        if response.will_close:
            self.close()
        return response.status, raw

    def _connect(self) -> _UnixConnection:
        conn = _UnixConnection(self.socket_path, self.timeout)
        try:
            conn.connect()
        except (FileNotFoundError, ConnectionRefusedError, TimeoutError) as exc:
            conn.close()
            raise DaemonUnavailable(
                f"no Stockade daemon answers on {self.socket_path} ({_describe(exc)})",
                _START_HINT,
            ) from None
        except OSError as exc:
            conn.close()
            raise DaemonUnavailable(
                f"cannot connect to {self.socket_path}: {_describe(exc)}", _START_HINT
            ) from None
        return conn

    def stream(
        self,
        path: str,
        *,
        query: Mapping[str, str | int] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> EventStream:
        """Open a Server-Sent Events response on a connection of its own.

        Raises :class:`DaemonUnavailable`, :class:`ApiError` for an error answer, and
        :class:`ConnectionLost` when the daemon hangs up before answering.
        """
        target = API_PREFIX + path + ("?" + urlencode(query) if query else "")
        sent = {**(headers or {}), API_VERSION_HEADER: "1", "Accept": "text/event-stream"}
        conn = self._connect()
        try:
            conn.request("GET", target, headers=sent)
            response = conn.getresponse()
            if response.status != 200:
                _decode(response.status, response.read())
                raise StockadeError(f"the daemon answered {response.status} to an event stream")
            assert conn.sock is not None
            conn.sock.settimeout(STREAM_IDLE_S)
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            raise ConnectionLost(f"the event stream broke off: {_lost(exc)}", _START_HINT) from None
        except BaseException:
            conn.close()
            raise
        return EventStream(conn, response)

    def follow(
        self,
        *,
        after: int,
        kinds: str | None = None,
        session: str | None = None,
        on_lost: Callable[[StockadeError], None] | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Every audit event after seq ``after`` (the API's ``Event``), until the caller stops.

        A lost stream, a stopped daemon or a 503 is waited out: it reconnects every
        ``RECONNECT_S`` and resumes after the last event yielded. ``on_lost`` is told
        once per outage. Other errors (a bad ``kinds``) are raised. ``kinds`` and ``session``
        filter on the daemon's side.
        """
        cursor = after
        wanted = {"kinds": kinds, "session": session}
        query: dict[str, str | int] = {name: value for name, value in wanted.items() if value}
        reported = False
        while True:
            try:
                with self.stream("/events", query={**query, "after": cursor}) as stream:
                    reported = False
                    for message in stream:
                        event = _event(message)
                        cursor = event["seq"]
                        yield event
                problem: StockadeError = ConnectionLost("the daemon ended the event stream")
            except (DaemonUnavailable, ConnectionLost) as exc:
                problem = exc
            except ApiError as exc:
                if exc.status != 503:
                    raise
                problem = exc
            if on_lost is not None and not reported:
                on_lost(problem)
            reported = True
            time.sleep(RECONNECT_S)


class EventStream:
    """An open ``text/event-stream`` response: iterate for its messages, then close it.

    Iteration ends when the daemon ends the stream (it stops); a broken or silent
    connection raises :class:`ConnectionLost`.
    """

    def __init__(self, conn: _UnixConnection, response: http.client.HTTPResponse) -> None:
        self._conn = conn
        self._response = response

    def __enter__(self) -> EventStream:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._conn.close()

    def __iter__(self) -> Iterator[ServerSentEvent]:
        """The stream's messages, parsed as the SSE specification says (comments skipped)."""
        last_id: str | None = None
        kind, data = "message", list[str]()
        while line := self._line():
            line = line.rstrip("\r\n")
            if not line:  # a blank line ends a message
                if data:
                    yield ServerSentEvent(last_id, kind, "\n".join(data))
                kind, data = "message", []
                continue
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if name == "data":
                data.append(value)
            elif name == "event":
                kind = value
            elif name == "id" and "\0" not in value:
                last_id = value

    def _line(self) -> str:
        """The next line with its ending; empty at the end of the stream."""
        try:
            raw = self._response.readline(MAX_EVENT_BYTES + 1)
        except (OSError, http.client.HTTPException) as exc:
            raise ConnectionLost(f"the event stream broke off: {_lost(exc)}", _START_HINT) from None
        if len(raw) > MAX_EVENT_BYTES:
            raise StockadeError(f"an event larger than {MAX_EVENT_BYTES} bytes; stream abandoned")
        return raw.decode("utf-8", "replace")


def _event(message: ServerSentEvent) -> dict[str, Any]:
    """The API ``Event`` in an ``/events`` message."""
    try:
        event = json.loads(message.data)
        if isinstance(event, dict) and isinstance(event.get("seq"), int):
            return event
    except ValueError:
        pass
    raise StockadeError(
        "the daemon sent an event stream message that is not an audit event",
        "client and daemon versions may differ; run `stockade version`",
    )


def _lost(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return f"nothing received for {STREAM_IDLE_S:g} s"
    return str(exc) or type(exc).__name__


def _describe(exc: OSError) -> str:
    if isinstance(exc, FileNotFoundError):
        return "the socket does not exist"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused; the socket is stale"
    if isinstance(exc, TimeoutError):
        return "timed out connecting"
    return exc.strerror or type(exc).__name__


def _decode(status: int, raw: bytes) -> Any:
    try:
        data = json.loads(raw) if raw else None
    except ValueError:
        raise StockadeError(
            f"the daemon answered {status} with a body that is not JSON",
            "client and daemon versions may differ; run `stockade version`",
        ) from None
    if 200 <= status < 300:
        return data
    error = data.get("error") if isinstance(data, dict) else None
    if not isinstance(error, dict) or not isinstance(error.get("code"), str):
        raise StockadeError(
            f"the daemon answered {status} without an error body",
            "client and daemon versions may differ; run `stockade version`",
        )
    details = error.get("details")
    hint = error.get("hint")
    raise ApiError(
        status,
        error["code"],
        str(error.get("message") or error["code"]),
        hint if isinstance(hint, str) else None,
        details if isinstance(details, list) else None,
    )
