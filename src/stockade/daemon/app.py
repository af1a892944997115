"""The Starlette application: the routes of ``docs/api.md`` over the pipeline and the store.

Routes stay thin: read the body within limits, validate it, call the pipeline or the
store, render JSON. Two pure ASGI middlewares wrap them: one refuses any API version
but v1 (by path or by ``Stockade-API-Version`` header) before a route runs, the other
turns an unexpected exception into a 500 ``internal`` error whose log line carries
the exception's type and stack but not its message (which may quote a tool input).
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
import re
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from stockade import __version__
from stockade.audit import verify_database
from stockade.caps.routes import caps_routes
from stockade.daemon.approvals import Resolution
from stockade.daemon.events import event_matcher, event_stream
from stockade.daemon.limits import Limits, read_body
from stockade.daemon.openapi import openapi_document
from stockade.daemon.pipeline import Pipeline
from stockade.daemon.problems import (
    INTERNAL,
    ApiProblem,
    log_unexpected,
    on_api_problem,
    on_http_exception,
    on_internal_error,
)
from stockade.daemon.rotation import rotate_in_daemon
from stockade.daemon.schemas import (
    MAX_SEQ,
    ApprovalsQuery,
    DecideBody,
    EmptyBody,
    EventsQuery,
    PreviewBody,
    PromptBody,
    PurgeBody,
    ResolveBody,
    RotateBody,
    SessionBody,
    SessionsQuery,
    StreamQuery,
    ToolCallBody,
    ToolResultBody,
    parse_body,
    parse_query,
)
from stockade.decision import Zone
from stockade.errors import ConfigError
from stockade.home import Home
from stockade.identity import IdentityFiles
from stockade.policy.actions import ALL_ACTIONS, GROUPS, HARNESSES

API_VERSION = "1"
DECIDE_PATH = "/api/v1/decide"
SUPPORTED_API_VERSIONS = ("v1",)
LEVELS = ("permissive", "standard", "strict", "paranoid")
PROFILES = ("read-only", "coding", "full")
FEATURES = (
    "decide",
    "check",
    "prompt-screening",
    "audit",
    "approvals",
    "learned-rules",
    "tool-results",
    "sessions",
    "identity",
    "checkpoints",
    "capabilities",
    "secrets",
)
# Sent by the CLI and the control UI, so the audit log can say who answered.
CLIENT_HEADER = "stockade-client"
_NAMED_CLIENTS = frozenset({"cli", "ui"})
_VERSIONED_PATH = re.compile(r"^/api/(?P<version>[^/]+)(?:/|$)")


@dataclass(slots=True)
class DaemonContext:
    """What the routes need from the running daemon, passed in explicitly."""

    home: Home
    pipeline: Pipeline
    limits: Limits
    request_stop: Callable[[], None]
    started_at: float = field(default_factory=time.monotonic)


class Api:
    """The route handlers, bound to one daemon's context."""

    def __init__(self, ctx: DaemonContext) -> None:
        self.ctx = ctx
        self.store = ctx.pipeline.store

    async def _body(self, request: Request) -> bytes:
        return await read_body(request, self.ctx.limits)

    async def health(self, request: Request) -> JSONResponse:
        uptime = round(time.monotonic() - self.ctx.started_at, 3)
        return JSONResponse({"status": "ok", "pid": os.getpid(), "uptime_s": uptime})

    async def version(self, request: Request) -> JSONResponse:
        return JSONResponse(
            {
                "version": __version__,
                "api": SUPPORTED_API_VERSIONS[-1],
                "supported_api_versions": list(SUPPORTED_API_VERSIONS),
            }
        )

    async def capabilities(self, request: Request) -> JSONResponse:
        return JSONResponse(
            {
                "harnesses": list(HARNESSES),
                "actions": list(ALL_ACTIONS),
                "groups": sorted(GROUPS),
                "zones": [zone.label for zone in Zone],
                "levels": list(LEVELS),
                "profiles": list(PROFILES),
                "features": list(FEATURES),
                "limits": {"max_body_bytes": self.ctx.limits.max_body_bytes},
            }
        )

    async def openapi(self, request: Request) -> JSONResponse:
        return JSONResponse(openapi_document())

    async def decide(self, request: Request) -> JSONResponse:
        return JSONResponse(await self.decision(request))

    async def decision(self, request: Request) -> dict[str, Any]:
        """The answer of ``POST /decide`` (sent by :class:`FastDecide`)."""
        body = parse_body(DecideBody, await self._body(request))
        gone = None if body.hold_s is None else functools.partial(_client_gone, request)
        return await self.ctx.pipeline.decide(body, gone)

    async def tool_result(self, request: Request) -> JSONResponse:
        body = parse_body(ToolResultBody, await self._body(request))
        return JSONResponse(await self.ctx.pipeline.tool_result(body))

    async def session(self, request: Request) -> JSONResponse:
        body = parse_body(SessionBody, await self._body(request))
        return JSONResponse(await self.ctx.pipeline.session_event(body))

    async def approvals(self, request: Request) -> JSONResponse:
        query = parse_query(ApprovalsQuery, dict(request.query_params))
        found = self.ctx.pipeline.approvals.listing(include_resolved=query.status == "all")
        return JSONResponse({"approvals": [approval.to_json() for approval in found]})

    async def approval(self, request: Request) -> JSONResponse:
        approval = self.ctx.pipeline.approvals.require(request.path_params["approval_id"])
        return JSONResponse(approval.to_json())

    async def approve(self, request: Request) -> JSONResponse:
        return await self._resolve(request, Resolution.APPROVE)

    async def deny(self, request: Request) -> JSONResponse:
        return await self._resolve(request, Resolution.DENY)

    async def always(self, request: Request) -> JSONResponse:
        return await self._resolve(request, Resolution.ALWAYS)

    async def preview_always(self, request: Request) -> JSONResponse:
        body = parse_body(PreviewBody, await self._body(request), empty_ok=True)
        scope = None if body.scope is None else body.scope.to_scope()
        approval_id: str = request.path_params["approval_id"]
        preview = self.ctx.pipeline.preview_rule(approval_id, resolver_of(request), scope)
        return JSONResponse(preview)

    async def _resolve(self, request: Request, resolution: Resolution) -> JSONResponse:
        body = parse_body(ResolveBody, await self._body(request), empty_ok=True)
        if body.scope is not None and resolution is not Resolution.ALWAYS:
            raise ApiProblem(422, "invalid_request", "scope applies to `always` only")
        approval_id: str = request.path_params["approval_id"]
        scope = None if body.scope is None else body.scope.to_scope()
        answer = await self.ctx.pipeline.resolve(
            approval_id, resolution, resolver_of(request), body.note, scope
        )
        return JSONResponse(answer)

    async def rules(self, request: Request) -> JSONResponse:
        learned = self.ctx.pipeline.service.learned_rules
        return JSONResponse({"rules": [entry.to_json() for entry in learned]})

    async def revoke_rule(self, request: Request) -> JSONResponse:
        parse_body(EmptyBody, await self._body(request), empty_ok=True)
        rule_id: str = request.path_params["rule_id"]
        return JSONResponse(await self.ctx.pipeline.revoke_rule(rule_id, resolver_of(request)))

    async def check(self, request: Request) -> JSONResponse:
        body = parse_body(ToolCallBody, await self._body(request))
        return JSONResponse(self.ctx.pipeline.check(body))

    async def screen_prompt(self, request: Request) -> JSONResponse:
        body = parse_body(PromptBody, await self._body(request))
        return JSONResponse(await self.ctx.pipeline.screen_prompt(body))

    async def policy(self, request: Request) -> JSONResponse:
        return JSONResponse(self.ctx.pipeline.service.effective_policy())

    async def reload(self, request: Request) -> JSONResponse:
        parse_body(EmptyBody, await self._body(request), empty_ok=True)
        try:
            config_hash = await self.ctx.pipeline.reload()
        except ConfigError as exc:
            raise ApiProblem(422, "invalid_config", exc.message, exc.hint) from None
        return JSONResponse({"reloaded": True, "config_hash": config_hash})

    async def shutdown(self, request: Request) -> JSONResponse:
        parse_body(EmptyBody, await self._body(request), empty_ok=True)
        # Stop only once the answer is out, so the caller learns the stop was accepted.
        stop = BackgroundTask(self.ctx.request_stop)
        return JSONResponse({"stopping": True}, status_code=202, background=stop)

    async def events(self, request: Request) -> JSONResponse:
        query = parse_query(EventsQuery, dict(request.query_params))
        events = await asyncio.to_thread(
            self.store.query,
            after=query.after,
            limit=query.limit,
            kind=query.kind,
            session=query.session,
            since=_iso(query.since),
            until=_iso(query.until),
            tool=query.tool,
            verdict=query.verdict,
            harness=query.harness,
            descending=query.order == "desc",
        )
        # The store's cursor works both ways: pass the last seq seen back as ``after``.
        next_after = events[-1].seq if events else query.after
        return JSONResponse(
            {"events": [event.to_json() for event in events], "next_after": next_after}
        )

    async def stream(self, request: Request) -> Response:
        query = parse_query(StreamQuery, dict(request.query_params))
        cursors = [query.after, _last_event_id(request.headers.get("last-event-id"))]
        given = [cursor for cursor in cursors if cursor is not None]
        after = max(given) if given else None
        hub = self.ctx.pipeline.events
        return event_stream(hub, self.store, after, event_matcher(query.kinds, query.session))

    async def sessions(self, request: Request) -> JSONResponse:
        query = parse_query(SessionsQuery, dict(request.query_params))
        found = await asyncio.to_thread(self.store.sessions, limit=query.limit, offset=query.offset)
        pending = Counter[tuple[str | None, str]](
            (approval.harness, approval.session_id)
            for approval in self.ctx.pipeline.approvals.listing(include_resolved=False)
        )
        listing = [
            {**summary.to_json(), "pending_approvals": pending[summary.harness, summary.session]}
            for summary in found
        ]
        return JSONResponse({"sessions": listing})

    async def event(self, request: Request) -> JSONResponse:
        seq: int = request.path_params["seq"]
        event = self.store.get(seq) if seq <= MAX_SEQ else None  # SQLite cannot bind more
        if event is None:
            raise ApiProblem(404, "not_found", f"no audit event with seq {seq}")
        return JSONResponse(event.to_json())

    async def head(self, request: Request) -> JSONResponse:
        return JSONResponse(self.store.head().to_json())

    async def verify(self, request: Request) -> JSONResponse:
        parse_body(EmptyBody, await self._body(request), empty_ok=True)
        keys = IdentityFiles(self.ctx.home).keyring()
        verify = functools.partial(verify_database, self.ctx.home.audit_path, keys=keys)
        return JSONResponse((await asyncio.to_thread(verify)).to_json())

    async def identity(self, request: Request) -> JSONResponse:
        return JSONResponse(IdentityFiles(self.ctx.home).keyring().to_json())

    async def rotate_identity(self, request: Request) -> JSONResponse:
        body = parse_body(RotateBody, await self._body(request))
        if not body.confirm:
            raise ApiProblem(
                400,
                "confirmation_required",
                "rotating the identity key cannot be undone",
                'send "confirm": true to rotate',
            )
        book = self.ctx.pipeline.service.capabilities
        rotation = await rotate_in_daemon(
            self.ctx.home, self.store, resolver_of(request), book=book, reissue=body.reissue
        )
        return JSONResponse(rotation.to_json())

    async def purge(self, request: Request) -> JSONResponse:
        body = parse_body(PurgeBody, await self._body(request))
        if not body.confirm:
            raise ApiProblem(
                400,
                "confirmation_required",
                "purging audit events cannot be undone",
                'send "confirm": true to purge',
            )
        result = await asyncio.to_thread(self.store.purge_before, body.before.isoformat())
        return JSONResponse({"purged": result.purged, "base_seq": result.base_seq})


def resolver_of(request: Request) -> str:
    """Who answered, for the audit log: the client's own word (``cli``, ``ui``), else ``api``."""
    client = request.headers.get(CLIENT_HEADER)
    return client if client in _NAMED_CLIENTS else "api"


async def _client_gone(request: Request) -> None:
    """Returns once the client hangs up (its body is read: nothing else can arrive)."""
    while (await request.receive())["type"] != "http.disconnect":
        pass


def _last_event_id(header: str | None) -> int | None:
    """The ``Last-Event-ID`` an EventSource sends back: one of our seqs, or 422."""
    if header is None:
        return None
    if not (header.isascii() and header.isdigit()) or len(header) > 19 or int(header) > MAX_SEQ:
        raise ApiProblem(
            422,
            "invalid_request",
            "Last-Event-ID must be the seq of an audit event",
            "send the id of the last event received, or ?after=SEQ",
        )
    return int(header)


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


class ApiVersionGate:
    """Refuse requests for another API version before any route sees them."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            problem = _version_problem(scope)
            if problem is not None:
                await problem.response()(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _version_problem(scope: Scope) -> ApiProblem | None:
    supported = ", ".join(SUPPORTED_API_VERSIONS)
    match = _VERSIONED_PATH.match(scope["path"])
    if match and match["version"] not in SUPPORTED_API_VERSIONS:
        requested = match["version"][:20]
        return _unsupported(f"API version {requested!r} is not supported; supported: {supported}")
    for name, value in scope["headers"]:
        if name == b"stockade-api-version" and value.strip() != API_VERSION.encode():
            requested = value.decode("latin-1")[:20]
            return _unsupported(
                f"Stockade-API-Version {requested!r} is not supported; supported: {supported}"
            )
    return None


def _unsupported(message: str) -> ApiProblem:
    return ApiProblem(
        400,
        "unsupported_api_version",
        message,
        "upgrade the client or the daemon so that both speak v1",
    )


class FastDecide:
    """``POST /api/v1/decide`` straight to its handler, past Starlette's router and its
    exception middlewares: the one route every tool call takes.

    What those layers do for it is done here, in the same order: the version gate has
    already run (it wraps this class), an :class:`ApiProblem` becomes its answer, and
    anything else escapes to :class:`CatchAll` (500, never a verdict). The answer is
    sent as two ASGI messages, without building a ``Response`` for it.
    """

    def __init__(
        self, app: ASGIApp, decision: Callable[[Request], Awaitable[dict[str, Any]]]
    ) -> None:
        self.app = app
        self.decision = decision

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == DECIDE_PATH and scope["method"] == "POST":
            try:
                answer = await self.decision(Request(scope, receive))
            except ApiProblem as problem:
                await problem.response()(scope, receive, send)
                return
            body = _COMPACT_JSON.encode(answer).encode()
            headers = [(b"content-length", b"%d" % len(body)), (b"content-type", _JSON)]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, send)


# What Starlette's JSONResponse renders, with the encoder built once.
_COMPACT_JSON = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"))
_JSON = b"application/json"


class CatchAll:
    """Any exception a route lets escape becomes 500 ``internal``, never a verdict."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            log_unexpected(scope["method"], scope["path"], exc)
            if not started:
                await INTERNAL.response()(scope, receive, send)


class ApiApp(Starlette):
    """The API's routes behind three outer layers: :class:`CatchAll`, the version gate,
    :class:`FastDecide`.

    They wrap Starlette's whole stack rather than sit inside it, so that ``POST /decide``
    skips Starlette's ``ServerErrorMiddleware`` too (a layer and a ``send`` wrapper on
    every decision). The other routes keep that middleware: an exception there is
    answered with :data:`INTERNAL` by ``on_internal_error``, and its re-raise ends in
    ``CatchAll``, which logs it.
    """

    def __init__(
        self,
        decision: Callable[[Request], Awaitable[dict[str, Any]]],
        routes: Sequence[BaseRoute],
    ) -> None:
        super().__init__(
            routes=routes,
            exception_handlers={
                ApiProblem: on_api_problem,
                HTTPException: on_http_exception,
                Exception: on_internal_error,
            },
        )
        self.decision = decision

    def build_middleware_stack(self) -> ASGIApp:
        routes = super().build_middleware_stack()
        return CatchAll(ApiVersionGate(FastDecide(routes, self.decision)))


def create_app(ctx: DaemonContext, socket_only: Sequence[BaseRoute] | None = None) -> ApiApp:
    """The API. The Unix socket's app gets ``socket_only`` (gateway token rotation, the vault)
    and the identity's rotation: what changes keys is never served on TCP, whatever the token."""
    api = Api(ctx)
    v1 = "/api/v1"
    local: list[BaseRoute] = []
    if socket_only is not None:
        local = [Route(f"{v1}/identity/rotate", api.rotate_identity, methods=["POST"])]
        local.extend(socket_only)
    routes = [
        Route(f"{v1}/health", api.health, methods=["GET"]),
        Route(f"{v1}/version", api.version, methods=["GET"]),
        Route(f"{v1}/capabilities", api.capabilities, methods=["GET"]),
        Route(f"{v1}/openapi.json", api.openapi, methods=["GET"]),
        Route(f"{v1}/decide", api.decide, methods=["POST"]),
        Route(f"{v1}/check", api.check, methods=["POST"]),
        Route(f"{v1}/tool-results", api.tool_result, methods=["POST"]),
        Route(f"{v1}/sessions", api.session, methods=["POST"]),
        Route(f"{v1}/sessions", api.sessions, methods=["GET"]),
        Route(f"{v1}/events", api.stream, methods=["GET"]),
        Route(f"{v1}/approvals", api.approvals, methods=["GET"]),
        Route(f"{v1}/approvals/{{approval_id}}", api.approval, methods=["GET"]),
        Route(f"{v1}/approvals/{{approval_id}}/approve", api.approve, methods=["POST"]),
        Route(f"{v1}/approvals/{{approval_id}}/deny", api.deny, methods=["POST"]),
        Route(f"{v1}/approvals/{{approval_id}}/always", api.always, methods=["POST"]),
        Route(
            f"{v1}/approvals/{{approval_id}}/always/preview",
            api.preview_always,
            methods=["POST"],
        ),
        Route(f"{v1}/rules", api.rules, methods=["GET"]),
        Route(f"{v1}/rules/{{rule_id}}/revoke", api.revoke_rule, methods=["POST"]),
        Route(f"{v1}/prompts/screen", api.screen_prompt, methods=["POST"]),
        Route(f"{v1}/policy", api.policy, methods=["GET"]),
        Route(f"{v1}/reload", api.reload, methods=["POST"]),
        Route(f"{v1}/shutdown", api.shutdown, methods=["POST"]),
        Route(f"{v1}/audit/events", api.events, methods=["GET"]),
        Route(f"{v1}/audit/events/{{seq:int}}", api.event, methods=["GET"]),
        Route(f"{v1}/audit/head", api.head, methods=["GET"]),
        Route(f"{v1}/audit/verify", api.verify, methods=["POST"]),
        Route(f"{v1}/audit/purge", api.purge, methods=["POST"]),
        Route(f"{v1}/identity", api.identity, methods=["GET"]),
        *caps_routes(ctx.pipeline.caps, api._body, resolver_of),
        *local,
    ]
    return ApiApp(api.decision, routes)
