"""A small synchronous client for the daemon's HTTP API over its Unix socket.

The per-tool-call hook shim imports this module on every tool call, so it uses the
standard library only (no pydantic, starlette or rich): its import time is part of
every agent action's latency. It keeps one HTTP/1.1 connection alive between calls
so that a process making many requests (the CLI, benchmarks) pays connect once.

A :class:`Client` is not thread-safe; give each thread its own.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from stockade.errors import DaemonUnavailable, StockadeError

API_PREFIX = "/api/v1"
API_VERSION_HEADER = "Stockade-API-Version"
_START_HINT = "start it with `stockade serve`"
# A reused keep-alive connection the daemon has closed in the meantime fails with one of
# these before the request reaches it; one retry on a fresh connection is then safe.
_STALE_CONNECTION = (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError)


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
            self._conn = conn
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
