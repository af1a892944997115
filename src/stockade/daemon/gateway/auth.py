"""Who may use the gateway: the token, UI sessions, the lockout, and their audit trail.

One object owns the token store, the UI sessions and the lockout, so that the guard
(every request), the login route and token rotation (the Unix socket) see the same
state: a rotation ends every session at once, and a failed login counts toward the
same lockout as a wrong bearer token. Failures are audited as ``auth.failed`` (the
client address, method, path and why; never what was presented) and the start of a
lockout once as ``auth.locked_out``; the audit append is durable before the answer
goes out, and the lockout bounds how many a client can cause: while an address is
locked out its failures are answered 429 and neither counted nor audited. The right
token or a live session still passes (see :mod:`.lockout`).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

from starlette.datastructures import Headers
from starlette.requests import cookie_parser
from starlette.responses import JSONResponse

from stockade.audit import AuditEvent
from stockade.daemon.gateway.clients import ClientAddress
from stockade.daemon.gateway.lockout import Lockout
from stockade.daemon.gateway.sessions import SessionStore
from stockade.daemon.gateway.token import TokenStore
from stockade.daemon.problems import ApiProblem

logger = logging.getLogger(__name__)

SESSION_COOKIE = "stockade_session"
ACTOR = "gateway"
_MAX_PATH_CHARS = 200
Audit = Callable[[AuditEvent], Awaitable[object]]


@dataclass(frozen=True, slots=True)
class Credential:
    """What a request presented, and why it is refused (None: it is good)."""

    kind: Literal["bearer", "cookie", "none"]
    failure: str | None = None


class Authenticator:
    def __init__(
        self,
        tokens: TokenStore,
        sessions: SessionStore,
        lockout: Lockout,
        audit: Audit,
        end_streams: Callable[[], object] = lambda: None,
    ) -> None:
        self.tokens = tokens
        self.sessions = sessions
        self.lockout = lockout
        self._audit = audit
        # A stream authorized before a rotation would go on delivering events: end them.
        self._end_streams = end_streams

    def identify(self, headers: Headers) -> Credential:
        """Check the bearer token (when sent, it alone counts), else the session cookie."""
        authorizations = headers.getlist("authorization")
        if authorizations:
            raw = authorizations[0].encode("latin-1")
            scheme, _, presented = raw.partition(b" ")
            if len(authorizations) > 1 or scheme.lower() != b"bearer":
                return Credential("bearer", "malformed Authorization header")
            if not self.tokens.matches(presented.strip()):
                return Credential("bearer", "wrong token")
            return Credential("bearer")
        session_id = session_cookie(headers)
        if session_id is None:
            return Credential("none", "no credentials")
        if not self.sessions.valid(session_id):
            return Credential("cookie", "unknown or expired session")
        return Credential("cookie")

    async def refuse(
        self, client: ClientAddress, method: str, path: str, reason: str
    ) -> JSONResponse:
        """Count and audit a failed authentication; the 401 (or 429 when it locks out).

        From an address already locked out: the 429 alone, uncounted and unaudited.
        """
        retry_after = self.lockout.retry_after(client.host)
        if retry_after is not None:
            return self._locked_out_response(retry_after)
        started = self.lockout.fail(client.host)
        payload = {
            "client": client.host,
            "forwarded": client.forwarded,
            "method": method,
            "path": path[:_MAX_PATH_CHARS],
            "reason": reason,
        }
        await self._audit(AuditEvent("auth.failed", ACTOR, None, payload))
        if started:
            lockout = {
                "client": client.host,
                "forwarded": client.forwarded,
                "max_failures": self.lockout.max_failures,
                "window_s": self.lockout.window_s,
                "lockout_s": self.lockout.lockout_s,
            }
            await self._audit(AuditEvent("auth.locked_out", ACTOR, None, lockout))
            logger.warning(
                "gateway: %s locked out for %g s after %d failed authentications",
                client.host,
                self.lockout.lockout_s,
                self.lockout.max_failures,
            )
            return self._locked_out_response(self.lockout.lockout_s)
        return unauthorized(reason)

    async def rotate(self, by: str) -> int:
        """A new token; the old one, every UI session and every open event stream end at once
        (a stream's client reconnects, and must then show the new token)."""
        self.tokens.rotate()
        ended = self.sessions.end_all()
        self._end_streams()
        await self._audit(rotation_event(by, ended))
        logger.info("gateway token rotated (%d UI session(s) ended)", ended)
        return ended

    def _locked_out_response(self, retry_after: float) -> JSONResponse:
        seconds = math.ceil(retry_after)
        response = ApiProblem(
            429,
            "locked_out",
            f"too many failed authentications from this address; try again in {seconds} s",
            "check the token (`stockade gateway token`); the Unix socket is not affected",
            close=True,
        ).response()
        response.headers["Retry-After"] = str(seconds)
        return response


def rotation_event(by: str, sessions_ended: int) -> AuditEvent:
    """``gateway.token_rotated``: who rotated and how many UI sessions ended (no value)."""
    return AuditEvent(
        "gateway.token_rotated", by, None, {"by": by, "sessions_ended": sessions_ended}
    )


def unauthorized(reason: str) -> JSONResponse:
    response = ApiProblem(
        401,
        "unauthorized",
        f"authentication required: {reason}",
        "send `Authorization: Bearer <token>` (the token: `stockade gateway token`), "
        "or log in to the UI",
        close=True,
    ).response()
    response.headers["WWW-Authenticate"] = 'Bearer realm="stockade"'
    return response


def session_cookie(headers: Headers) -> str | None:
    for value in headers.getlist("cookie"):
        session_id = cookie_parser(value).get(SESSION_COOKIE)
        if session_id:
            return session_id
    return None
