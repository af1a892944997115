"""The API routes of agents and capabilities (``docs/api.md``), thin over :class:`CapsDesk`.

``create_app`` adds them; it hands in how to read a body within the daemon's limits and
how to name the client for the audit log, so that this module needs nothing from
``daemon/app.py``.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from datetime import UTC, timedelta

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from stockade.caps.desk import CapsDesk
from stockade.caps.grant import Constraints, GrantError, make_grant
from stockade.caps.token import is_token_id
from stockade.daemon.problems import ApiProblem
from stockade.daemon.schemas import (
    AgentBody,
    CapsQuery,
    ConfirmBody,
    EmptyBody,
    GrantBody,
    parse_body,
    parse_query,
)

ReadBody = Callable[[Request], Awaitable[bytes]]
Resolver = Callable[[Request], str]


class CapsApi:
    """The handlers, bound to one desk."""

    def __init__(self, desk: CapsDesk, read: ReadBody, resolver: Resolver) -> None:
        self.desk = desk
        self.read = read
        self.resolver = resolver

    async def agents(self, request: Request) -> JSONResponse:
        await self.desk.report_rejections()
        return JSONResponse({"agents": self.desk.agents()})

    async def add_agent(self, request: Request) -> JSONResponse:
        body = parse_body(AgentBody, await self.read(request))
        answer = await self.desk.add_agent(body.name, body.note, self.resolver(request))
        return JSONResponse(answer, status_code=201)

    async def remove_agent(self, request: Request) -> JSONResponse:
        if not parse_body(ConfirmBody, await self.read(request)).confirm:
            raise ApiProblem(
                400,
                "confirmation_required",
                "removing an agent revokes its grants and lifts its restriction",
                'send "confirm": true to remove it',
            )
        name: str = request.path_params["agent"]
        return JSONResponse(await self.desk.remove_agent(name, self.resolver(request)))

    async def caps(self, request: Request) -> JSONResponse:
        query = parse_query(CapsQuery, dict(request.query_params))
        await self.desk.report_rejections()
        return JSONResponse({"tokens": self.desk.listing(query.agent)})

    async def grant(self, request: Request) -> JSONResponse:
        body = parse_body(GrantBody, await self.read(request))
        if body.expires_at is not None and body.expires_in_s is not None:
            raise ApiProblem(422, "invalid_request", "give expires_at or expires_in_s, not both")
        now = self.desk.clock()
        expires = body.expires_at
        if body.expires_in_s is not None:
            expires = now + timedelta(seconds=body.expires_in_s)
        if expires is not None and expires <= now:
            raise ApiProblem(422, "invalid_request", "expires_at is in the past")
        constraints = Constraints(
            paths=tuple(body.paths),
            commands=tuple(body.commands),
            domains=tuple(body.domains),
            args=tuple(sorted(body.args.items())),
        )
        try:
            grant = make_grant(body.capability, constraints, user_home=os.path.expanduser("~"))
        except GrantError as exc:
            raise ApiProblem(422, "invalid_request", str(exc), "see docs/api.md") from None
        expires_utc = None if expires is None else expires.astimezone(UTC)
        answer = await self.desk.grant(body.agent, grant, expires_utc, self.resolver(request))
        return JSONResponse(answer, status_code=201)

    async def show(self, request: Request) -> JSONResponse:
        return JSONResponse(self.desk.show(_token_id(request)))

    async def revoke(self, request: Request) -> JSONResponse:
        parse_body(EmptyBody, await self.read(request), empty_ok=True)
        return JSONResponse(await self.desk.revoke(_token_id(request), self.resolver(request)))


def _token_id(request: Request) -> str:
    token_id: str = request.path_params["token_id"]
    if not is_token_id(token_id):
        raise ApiProblem(
            404, "not_found", f"no capability token {token_id[:40]!r}", "see `stockade caps list`"
        )
    return token_id


def caps_routes(desk: CapsDesk, read: ReadBody, resolver: Resolver) -> list[Route]:
    api = CapsApi(desk, read, resolver)
    v1 = "/api/v1"
    return [
        Route(f"{v1}/agents", api.agents, methods=["GET"]),
        Route(f"{v1}/agents", api.add_agent, methods=["POST"]),
        Route(f"{v1}/agents/{{agent}}/remove", api.remove_agent, methods=["POST"]),
        Route(f"{v1}/caps", api.caps, methods=["GET"]),
        Route(f"{v1}/caps", api.grant, methods=["POST"]),
        Route(f"{v1}/caps/{{token_id}}", api.show, methods=["GET"]),
        Route(f"{v1}/caps/{{token_id}}/revoke", api.revoke, methods=["POST"]),
    ]
