"""Every error the API answers, in the one JSON shape of ``docs/api.md``.

Handlers raise :class:`ApiProblem` instead of building responses, so that the
shape (``{"error": {"code", "message", "hint", "details"}}``) is written in one
place and an agent's hook can rely on it. An unexpected exception becomes a 500
``internal`` error: an error body carries no verdict, so it can never be read as
an allow.
"""

from __future__ import annotations

import logging
import traceback
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

logger = logging.getLogger(__name__)


class ApiProblem(Exception):
    """An error answer: HTTP status, stable machine ``code``, message and hint."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        hint: str | None = None,
        details: list[dict[str, Any]] | None = None,
        *,
        close: bool = False,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.hint = hint
        self.details = details or []
        # Set when the request body was not fully read: the connection cannot be reused.
        self.close = close

    def response(self) -> JSONResponse:
        return error_response(
            self.status, self.code, self.message, self.hint, self.details, close=self.close
        )


def error_response(
    status: int,
    code: str,
    message: str,
    hint: str | None = None,
    details: list[dict[str, Any]] | None = None,
    *,
    close: bool = False,
) -> JSONResponse:
    body = {"error": {"code": code, "message": message, "hint": hint, "details": details or []}}
    headers = {"Connection": "close"} if close else None
    return JSONResponse(body, status_code=status, headers=headers)


async def on_api_problem(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiProblem)
    return exc.response()


async def on_http_exception(request: Request, exc: Exception) -> Response:
    """Starlette's own 404/405 (unknown route, wrong method), in our shape."""
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        return error_response(
            404, "not_found", f"no route {request.url.path}", "see docs/api.md for the routes"
        )
    if exc.status_code == 405:
        return error_response(
            405,
            "method_not_allowed",
            f"{request.method} is not allowed on {request.url.path}",
            "see docs/api.md for the routes",
            [{"allow": (exc.headers or {}).get("Allow", "")}],
        )
    return error_response(exc.status_code, "http_error", str(exc.detail))


def log_unexpected(method: str, path: str, exc: BaseException) -> None:
    """Log a bug's type and stack, but not its message: that may quote a tool input."""
    stack = "".join(traceback.format_tb(exc.__traceback__))
    logger.error("internal error on %s %s: %s\n%s", method, path, type(exc).__name__, stack)


INTERNAL = ApiProblem(
    500,
    "internal",
    "internal error in the daemon; nothing was allowed",
    "see the daemon's log; please report it",
)


async def on_internal_error(request: Request, exc: Exception) -> Response:
    """Starlette's last-resort 500, in our shape (it re-raises; ``CatchAll`` logs)."""
    return INTERNAL.response()
