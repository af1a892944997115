"""The control UI: a static single-page app the gateway serves at ``/`` (Part U of issue 4).

Everything the browser loads comes from this package (no CDN, no build step), so the UI
works offline and a strict Content-Security-Policy holds: scripts and styles only from
the daemon's own origin, nothing inline, no framing. The page talks to the same
``/api/v1`` routes as the CLI, authenticated by the gateway's session cookie; the token
itself is typed into the login form once and never stored by the page.

Only the files shipped in ``static/`` are served, looked up by exact name in a table
built when the routes are made: a request path never touches the filesystem, so there
is nothing to traverse.
"""

from __future__ import annotations

from importlib import resources

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from stockade.daemon.problems import error_response

__all__ = ["SECURITY_HEADERS", "routes"]

# The page needs nothing but its own origin; `connect-src 'self'` covers fetch and EventSource.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
SECURITY_HEADERS: dict[str, str] = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    # The assets change with the installed version; revalidating them costs nothing locally.
    "Cache-Control": "no-cache",
}
# Only these kinds of file are served; anything else in static/ stays private.
CONTENT_TYPES: dict[str, str] = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}
INDEX = "index.html"


class _Asset:
    """One static file, read once: its bytes and content type."""

    __slots__ = ("body", "media_type")

    def __init__(self, body: bytes, media_type: str) -> None:
        self.body = body
        self.media_type = media_type

    def response(self) -> Response:
        return Response(self.body, media_type=self.media_type, headers=SECURITY_HEADERS)


def load_assets() -> dict[str, _Asset]:
    """The servable files of ``static/`` by name (no subdirectories, known types only)."""
    assets: dict[str, _Asset] = {}
    for entry in resources.files(__name__).joinpath("static").iterdir():
        suffix = "." + entry.name.rpartition(".")[2]
        if entry.is_file() and suffix in CONTENT_TYPES and not entry.name.startswith("."):
            assets[entry.name] = _Asset(entry.read_bytes(), CONTENT_TYPES[suffix])
    return assets


def routes() -> list[BaseRoute]:
    """``GET /`` (the page) and ``GET /assets/{name}`` (its scripts, styles and icon).

    Any other GET that reaches them is answered 404 here too, so that even a miss
    carries the security headers. Mount them after every other route.
    """
    assets = load_assets()
    index = assets[INDEX]

    async def page(request: Request) -> Response:
        return index.response()

    async def asset(request: Request) -> Response:
        found = assets.get(request.path_params["name"])
        if found is None:
            return _not_found(request.url.path)
        return found.response()

    async def elsewhere(request: Request) -> Response:
        return _not_found(request.url.path)

    return [
        Route("/", page, methods=["GET"]),
        Route("/assets/{name}", asset, methods=["GET"]),
        Route("/{path:path}", elsewhere, methods=["GET"]),
    ]


def _not_found(path: str) -> Response:
    response = error_response(
        404, "not_found", f"nothing at {path[:200]}", "the UI serves only the files it ships"
    )
    response.headers.update(SECURITY_HEADERS)
    return response
