"""The gateway's ASGI application: the guard around the API, the UI and the login routes.

The API part is the socket's own application from :func:`~stockade.daemon.app.create_app`
(same routes, same pipeline, same limits); the token-rotation route is added to
the socket's application only (:func:`socket_routes`, with ``GET /api/v1/gateway``
for ``stockade ui``), so no TCP client can rotate the token, whatever it presents.
The UI's pages come from :func:`stockade.ui.routes`.

``POST /ui/login`` ``{"token": "..."}`` → 204 and the session cookie (HttpOnly,
SameSite=Strict, Path=/, Secure under TLS), or 401 counted toward the lockout;
``POST /ui/logout`` ends the session; ``GET /ui/session`` → 200
``{"authenticated": true}`` (the guard answers 401 otherwise).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from stockade import ui
from stockade.daemon.app import CatchAll, resolver_of
from stockade.daemon.gateway.allowlist import Allowlist
from stockade.daemon.gateway.auth import SESSION_COOKIE, Authenticator, session_cookie
from stockade.daemon.gateway.clients import TrustedProxies
from stockade.daemon.gateway.guard import LOGIN_PATH, SESSION_PATH, Guard, is_api
from stockade.daemon.limits import Limits, read_body
from stockade.daemon.problems import ApiProblem, on_api_problem, on_http_exception
from stockade.daemon.schemas import EmptyBody, parse_body

# On every answer of the gateway that does not set its own (the UI's pages set a CSP for
# themselves): JSON is data, never a page, a frame or something to cache.
RESPONSE_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"cache-control", b"no-store"),
)

GATEWAY_PATH = "/api/v1/gateway"
ROTATE_PATH = f"{GATEWAY_PATH}/token/rotate"
LOGOUT_PATH = "/ui/logout"


class LoginBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    token: str = Field(min_length=1, max_length=200)


class _Login:
    """The ``/ui/*`` handlers, bound to the gateway's authenticator."""

    def __init__(self, auth: Authenticator, limits: Limits, *, secure_cookie: bool) -> None:
        self.auth = auth
        self.limits = limits
        self.secure_cookie = secure_cookie

    async def login(self, request: Request) -> Response:
        body = parse_body(LoginBody, await read_body(request, self.limits))
        if not self.auth.tokens.matches(body.token.encode()):
            client = request.state.client
            return await self.auth.refuse(client, request.method, LOGIN_PATH, "wrong token")
        self.auth.lockout.succeed(request.state.client.host)
        response = Response(status_code=204)
        response.set_cookie(
            SESSION_COOKIE,
            self.auth.sessions.create(),
            max_age=int(self.auth.sessions.lifetime_s),
            path="/",
            secure=self.secure_cookie,
            httponly=True,
            samesite="strict",
        )
        return response

    async def logout(self, request: Request) -> Response:
        parse_body(EmptyBody, await read_body(request, self.limits), empty_ok=True)
        session_id = session_cookie(request.headers)
        if session_id is not None:
            self.auth.sessions.end(session_id)
        response = Response(status_code=204)
        response.delete_cookie(
            SESSION_COOKIE, path="/", secure=self.secure_cookie, httponly=True, samesite="strict"
        )
        return response

    async def session(self, request: Request) -> JSONResponse:
        return JSONResponse({"authenticated": True})


class _Split:
    """``/api/...`` to the API application, everything else to the UI's."""

    def __init__(self, api: ASGIApp, rest: ASGIApp) -> None:
        self.api = api
        self.rest = rest

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and is_api(scope["path"]):
            await self.api(scope, receive, send)
        else:
            await self.rest(scope, receive, send)


class _SecurityHeaders:
    """Adds :data:`RESPONSE_HEADERS` that a response did not set itself, refusals included."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def hardened_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [(n, v) for n, v in RESPONSE_HEADERS if n not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, hardened_send)


def create_gateway_app(
    api: ASGIApp,
    auth: Authenticator,
    limits: Limits,
    allowlist: Allowlist,
    proxies: TrustedProxies,
    *,
    tls: bool,
) -> ASGIApp:
    """The TCP application: guard → (API | login routes + UI); a bug in the guard is a 500;
    every answer carries the security headers."""
    handlers = _Login(auth, limits, secure_cookie=tls)
    routes: list[BaseRoute] = [
        Route(LOGIN_PATH, handlers.login, methods=["POST"]),
        Route(LOGOUT_PATH, handlers.logout, methods=["POST"]),
        Route(SESSION_PATH, handlers.session, methods=["GET"]),
        *ui.routes(),
    ]
    rest = Starlette(
        routes=routes,
        middleware=[Middleware(CatchAll)],
        exception_handlers={ApiProblem: on_api_problem, HTTPException: on_http_exception},
    )
    return _SecurityHeaders(CatchAll(Guard(_Split(api, rest), auth, allowlist, proxies)))


def socket_routes(auth: Authenticator, limits: Limits, url: str | None) -> list[BaseRoute]:
    """Routes served on the Unix socket only: the gateway's address, token rotation."""

    async def describe(request: Request) -> JSONResponse:
        return JSONResponse({"listening": url is not None, "url": url})

    async def rotate(request: Request) -> JSONResponse:
        parse_body(EmptyBody, await read_body(request, limits), empty_ok=True)
        ended = await auth.rotate(resolver_of(request))
        return JSONResponse({"rotated": True, "sessions_ended": ended})

    return [
        Route(GATEWAY_PATH, describe, methods=["GET"]),
        Route(ROTATE_PATH, rotate, methods=["POST"]),
    ]
