"""The gateway's guard: the ASGI middleware every TCP request passes before any route.

In order, each step before the next, so that the cheap and unauthenticated checks
never touch the token or the audit log:

1. ``Host`` must be one of the gateway's names (421 ``bad_host``; 400 when absent or
   repeated) — DNS rebinding.
2. ``Origin``, when sent, must be one of its origins (403 ``bad_origin``) — CSRF.
3. Public requests pass: the UI's static files (GET/HEAD outside ``/api/`` and
   ``/ui/``) and ``/ui/login`` (which checks the token itself).
4. Everything else needs the bearer token or a live UI session cookie (401
   ``unauthorized``, audited, counted toward the lockout; 429 ``locked_out``, neither
   audited nor counted, from an address already locked out); a request presenting no
   credential at all to ``GET /ui/session`` — the UI asking whether it is logged in —
   is answered 401 without being counted. The right credentials pass even from a
   locked-out address: on loopback every local process shares that address, and a
   lockout that refused the token too would let any of them lock the user out.
5. A cookie-authenticated unsafe method (POST, PUT, PATCH, DELETE) must carry an
   ``Origin`` (403 ``bad_origin``): a browser sends the cookie on cross-site form
   posts too, and only ``Origin`` tells them apart. A bearer request needs none: a
   browser never adds that header on its own.

The client address (see :mod:`.clients`) is left in ``scope["state"]["client"]``
for the login route. Every refusal closes the connection: its body was not read.
A ``Stockade-Client: cli`` header is dropped: the CLI speaks over the socket only, so
over TCP it could only be a claim, and the audit log would name the wrong resolver.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from stockade.daemon.app import CLIENT_HEADER
from stockade.daemon.gateway.allowlist import Allowlist
from stockade.daemon.gateway.auth import Authenticator, unauthorized
from stockade.daemon.gateway.clients import TrustedProxies
from stockade.daemon.problems import ApiProblem

LOGIN_PATH = "/ui/login"
SESSION_PATH = "/ui/session"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_CLI_CLAIM = (CLIENT_HEADER.encode(), b"cli")


def is_api(path: str) -> bool:
    return path == "/api" or path.startswith("/api/")


def _public(method: str, path: str) -> bool:
    if path == LOGIN_PATH:
        return True
    return method in ("GET", "HEAD") and not is_api(path) and not path.startswith("/ui/")


class Guard:
    def __init__(
        self, app: ASGIApp, auth: Authenticator, allowlist: Allowlist, proxies: TrustedProxies
    ) -> None:
        self.app = app
        self.auth = auth
        self.allowlist = allowlist
        self.proxies = proxies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        if scope["type"] == "http":
            refusal = await self._refusal(scope)
            if refusal is not None:
                await refusal(scope, receive, send)
                return
            scope["headers"] = [h for h in scope["headers"] if h != _CLI_CLAIM]
        await self.app(scope, receive, send)

    async def _refusal(self, scope: Scope) -> Response | None:
        headers = Headers(scope=scope)
        hosts = headers.getlist("host")
        if len(hosts) != 1:
            return _problem(400, "bad_host", "the request must carry exactly one Host header")
        if not self.allowlist.host_ok(hosts[0]):
            return _problem(
                421,
                "bad_host",
                f"this gateway does not answer to the host {hosts[0][:100]!r}",
                "add the name to [gateway] allowed_hosts if it is really this gateway",
            )
        origins = headers.getlist("origin")
        if len(origins) > 1 or (origins and not self.allowlist.origin_ok(origins[0])):
            return _problem(
                403,
                "bad_origin",
                f"requests from the origin {origins[0][:100]!r} are not accepted",
                "add it to [gateway] allowed_origins if that page may drive Stockade",
            )
        client = self.proxies.client_of(scope)
        scope.setdefault("state", {})["client"] = client
        method, path = scope["method"], scope["path"]
        if _public(method, path):
            return None
        credential = self.auth.identify(headers)
        if credential.failure is not None:
            if credential.kind == "none" and path == SESSION_PATH:
                return unauthorized("not logged in")  # a question, not an attempt: uncounted
            return await self.auth.refuse(client, method, path, credential.failure)
        self.auth.lockout.succeed(client.host)
        if credential.kind == "cookie" and method not in SAFE_METHODS and not origins:
            return _problem(
                403,
                "bad_origin",
                f"a {method} authenticated by the UI session cookie must carry an Origin header",
                "send the request from the UI, or authenticate with the bearer token",
            )
        return None


def _problem(status: int, code: str, message: str, hint: str | None = None) -> Response:
    return ApiProblem(status, code, message, hint, close=True).response()
