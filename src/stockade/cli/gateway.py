"""``stockade gateway token``: the one place the gateway token is shown, and its rotation.

Rotation goes through the running daemon when there is one (over the Unix socket,
never TCP), so that the old token and every UI session stop working at the moment
the new one is written; without a daemon the file is replaced under the daemon lock
(no daemon can start meanwhile) and the rotation is audited directly.
"""

from __future__ import annotations

from typing import Annotated

import typer

from stockade.cli import output
from stockade.cli.context import FROM_CLI, state
from stockade.daemon.gateway.token import TokenStore
from stockade.errors import DaemonUnavailable
from stockade.home import Home

app = typer.Typer(help="The TCP gateway (`serve --http`): its token.", no_args_is_help=True)


@app.command()
def token(
    ctx: typer.Context,
    rotate: Annotated[
        bool,
        typer.Option(
            "--rotate", help="Replace the token; the old one and every UI session stop working."
        ),
    ] = False,
    json_out: output.JsonFlag = False,
) -> None:
    """Print the gateway token (created on first use); keep it as secret as a password."""
    home = state(ctx).home
    home.ensure()
    home.check_safe()
    store = TokenStore(home)
    ended = _rotate(ctx, home) if rotate else None
    value = store.load_or_create()
    if json_out:
        data: dict[str, object] = {"token": value, "path": str(store.path), "rotated": rotate}
        if ended is not None:
            data["sessions_ended"] = ended
        output.emit_json(data)
        return
    typer.echo(value)
    if rotate:
        output.note(f"token rotated; {ended} UI session(s) ended")


def _rotate(ctx: typer.Context, home: Home) -> int:
    """Rotate through the daemon if it runs, else offline; returns the UI sessions ended."""
    try:
        answer = state(ctx).client().request("POST", "/gateway/token/rotate", {}, headers=FROM_CLI)
        return int(answer["sessions_ended"])
    except DaemonUnavailable:
        pass
    from stockade.audit import SqliteAuditStore
    from stockade.daemon.gateway.auth import rotation_event
    from stockade.daemon.lifecycle import exclusive

    with exclusive(home):
        TokenStore(home).rotate()
        store = SqliteAuditStore(home.audit_path)
        store.open()
        try:
            store.append_blocking(rotation_event("cli", 0))
        finally:
            store.close()
    return 0


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="gateway")
