"""The web control UI, served by the gateway at ``/`` (placeholder until the real UI lands)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import BaseRoute, Route

_PAGE = "<!doctype html><title>Stockade</title><p>The Stockade control UI is not built yet.</p>"


async def _index(request: Request) -> HTMLResponse:
    return HTMLResponse(_PAGE)


def routes() -> list[BaseRoute]:
    return [Route("/", _index, methods=["GET"])]
