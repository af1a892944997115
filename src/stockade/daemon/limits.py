"""Bounds on what a client may make the daemon hold: body size, body time, media type.

Any process of the user can reach the socket, including a confused or hostile agent
tool. Without these a single client could pin memory with a huge body or hold a
request open forever while the hook that waits on it blocks the agent. The size is
checked against ``Content-Length`` before reading anything, then again while
streaming (chunked bodies have no length).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from starlette.requests import ClientDisconnect, Request

from stockade.daemon.problems import ApiProblem

MAX_BODY_BYTES = 1024 * 1024
BODY_TIMEOUT_S = 10.0


@dataclass(frozen=True, slots=True)
class Limits:
    """Per-request bounds; tests shrink ``body_timeout_s`` to keep slow-client tests fast."""

    max_body_bytes: int = MAX_BODY_BYTES
    body_timeout_s: float = BODY_TIMEOUT_S


async def read_body(request: Request, limits: Limits) -> bytes:
    """The request body, or an :class:`ApiProblem` (413, 408, 415, 400)."""
    declared = request.headers.get("content-length")
    chunked = "chunked" in request.headers.get("transfer-encoding", "").lower()
    if declared is not None:
        if not declared.isdigit():
            raise ApiProblem(400, "invalid_request", "Content-Length is not a number", close=True)
        if int(declared) > limits.max_body_bytes:
            raise _too_large(limits)
        if int(declared) == 0 and not chunked:
            return b""
    elif not chunked:
        return b""
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(limits.body_timeout_s):
            async for chunk in request.stream():
                size += len(chunk)
                if size > limits.max_body_bytes:
                    raise _too_large(limits)
                chunks.append(chunk)
    except TimeoutError:
        raise ApiProblem(
            408,
            "body_timeout",
            f"the request body did not arrive within {limits.body_timeout_s:g} s",
            "send the whole body at once",
            close=True,
        ) from None
    except ClientDisconnect:
        raise ApiProblem(400, "invalid_request", "client disconnected", close=True) from None
    _require_json(request)  # after the (bounded) body: a client still sending gets the answer
    return b"".join(chunks)


def _require_json(request: Request) -> None:
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type != "application/json":
        raise ApiProblem(
            415,
            "unsupported_media_type",
            f"request bodies must be application/json, not {media_type[:100] or 'untyped'}",
            "send the header Content-Type: application/json",
        )


def _too_large(limits: Limits) -> ApiProblem:
    return ApiProblem(
        413,
        "body_too_large",
        f"the request body exceeds {limits.max_body_bytes} bytes",
        "send a smaller request; large tool inputs should be referenced, not inlined",
        close=True,
    )
