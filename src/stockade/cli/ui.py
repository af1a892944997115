"""``stockade ui``: where the web control UI is, and (``--open``) opening it.

The address comes from the running daemon (which knows a ``serve --http``
override), else from ``[gateway] listen``. The token is never part of it: the page
asks for it once and keeps a session cookie instead.
"""

from __future__ import annotations

import webbrowser
from typing import Annotated

import typer

from stockade.cli import output
from stockade.cli.context import state
from stockade.errors import DaemonUnavailable, StockadeError


def ui(
    ctx: typer.Context,
    open_browser: Annotated[
        bool, typer.Option("--open", help="Open the address in the default browser.")
    ] = False,
    json_out: output.JsonFlag = False,
) -> None:
    """Print the address of the web UI (served by the gateway); --open opens it."""
    running, url = _address(ctx)
    if url is None:
        raise StockadeError(
            "the web UI is off: it is served by the TCP gateway, which is not enabled",
            "start the daemon with `stockade serve --http 127.0.0.1:8700`, or set "
            '[gateway] listen = "127.0.0.1:8700" in stockade.toml',
        )
    if json_out:
        output.emit_json({"url": url, "running": running})
    else:
        typer.echo(url)
        if not running:
            output.note("the daemon is not running; start it with `stockade serve`")
        output.note("log in with the token from `stockade gateway token`")
    if open_browser and not webbrowser.open(url):
        output.note("no browser could be opened; open the address yourself")


def _address(ctx: typer.Context) -> tuple[bool, str | None]:
    """Whether the daemon runs, and the UI's address (None: no gateway)."""
    try:
        answer = state(ctx).client().request("GET", "/gateway")
    except DaemonUnavailable:
        pass
    else:
        url = answer.get("url")
        return True, url if isinstance(url, str) else None
    from stockade.config import load_settings
    from stockade.daemon.gateway.endpoint import Endpoint

    settings = load_settings(state(ctx).home)[0].gateway
    if settings.listen is None:
        return False, None
    return False, Endpoint.parse(settings.listen).url(tls=settings.tls_cert is not None)


def register(app: typer.Typer) -> None:
    app.command()(ui)
