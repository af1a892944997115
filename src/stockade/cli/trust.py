"""``stockade trust``: let a project's ``.stockade.toml`` loosen policy, or take that back.

A project file is partly under an agent's (or a cloned repository's) control, so it may
only tighten policy unless the user trusts its exact content. Trust is recorded as the
file's sha256, which this command prints so the user knows which content they vouched
for; an edited file is untrusted again until re-trusted.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from stockade.cli import output
from stockade.cli.context import state
from stockade.errors import StockadeError


def trust(
    ctx: typer.Context,
    directory: Annotated[
        Path | None, typer.Argument(help="Project directory whose .stockade.toml to trust.")
    ] = None,
    list_: Annotated[bool, typer.Option("--list", help="List trusted projects.")] = False,
    revoke: Annotated[
        Path | None, typer.Option("--revoke", help="Stop trusting this project directory.")
    ] = None,
    json_out: output.JsonFlag = False,
) -> None:
    """Trust DIR's current .stockade.toml (by hash), --list trusted projects, or --revoke one."""
    chosen = sum((directory is not None, list_, revoke is not None))
    if chosen != 1:
        raise typer.BadParameter("give exactly one of DIR, --list or --revoke DIR")
    from stockade.config import TrustStore

    home = state(ctx).home
    store = TrustStore(home)
    if list_:
        entries = store.entries()
        if json_out:
            output.emit_json([{"path": path, "sha256": digest} for path, digest in entries.items()])
        elif entries:
            output.key_values([(digest[:16], path) for path, digest in sorted(entries.items())])
        else:
            typer.echo("no trusted projects")
        return
    home.ensure()
    if revoke is not None:
        if not store.revoke(revoke):
            raise StockadeError(
                f"{revoke} was not trusted; nothing to revoke", "see `stockade trust --list`"
            )
        if json_out:
            output.emit_json({"path": str(revoke.resolve()), "revoked": True})
        else:
            typer.echo(f"revoked trust in {revoke.resolve()}")
        return
    assert directory is not None
    digest = store.trust(directory)
    if json_out:
        output.emit_json({"path": str(directory.resolve()), "sha256": digest, "trusted": True})
    else:
        typer.echo(f"trusted {directory.resolve()}/.stockade.toml (sha256 {digest})")
        output.note("editing that file revokes the trust until you run this command again")


def register(app: typer.Typer) -> None:
    app.command()(trust)
