"""``stockade config``: where the configuration lives, its schema, and whether it is valid.

``validate`` uses the same loader as the daemon, so "valid here" means "the daemon will
accept it"; run it before ``stockade reload`` to see errors without touching the
running policy. Invalid configuration exits 2 (``ConfigError``'s code).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from stockade.cli import output
from stockade.cli.context import state
from stockade.errors import ConfigError

app = typer.Typer(help="Locate, describe and validate stockade.toml.", no_args_is_help=True)


@app.command()
def schema() -> None:
    """Print the JSON schema of stockade.toml (for editors and CI)."""
    from stockade.config import settings_json_schema

    output.emit_json(settings_json_schema())


@app.command()
def validate(
    ctx: typer.Context,
    file: Annotated[
        Path | None,
        typer.Argument(
            help="File to validate (default: the home's stockade.toml).", dir_okay=False
        ),
    ] = None,
    json_out: output.JsonFlag = False,
) -> None:
    """Check a configuration file against the schema and compile its policy. Exit 2 if invalid."""
    from stockade.config import Settings, load_settings, parse_toml
    from stockade.service import DecisionService

    home = state(ctx).home
    path = file if file is not None else home.config_path
    try:
        if file is None:
            settings, digest = load_settings(home)
        else:
            settings, digest = parse_toml(file, Settings)
        DecisionService(home, settings, digest).check_compiles()
    except ConfigError as exc:
        if json_out:
            output.emit_json(
                {"valid": False, "path": str(path), "error": exc.message, "hint": exc.hint}
            )
            raise typer.Exit(exc.exit_code) from None
        raise
    exists = path.exists()
    if json_out:
        output.emit_json({"valid": True, "path": str(path), "exists": exists, "sha256": digest})
    elif exists:
        typer.echo(f"{path} is valid")
    else:
        typer.echo(f"{path} does not exist: secure defaults apply")


@app.command()
def path(ctx: typer.Context, json_out: output.JsonFlag = False) -> None:
    """Print the path of stockade.toml (with --json: every path in the home)."""
    home = state(ctx).home
    if not json_out:
        typer.echo(str(home.config_path))
        return
    output.emit_json(
        {
            "home": str(home.root),
            "config": str(home.config_path),
            "ignore": str(home.ignore_path),
            "socket": str(home.socket_path),
            "audit": str(home.audit_path),
            "trust": str(home.trust_path),
            "pid": str(home.pid_path),
            "log": str(home.log_path),
        }
    )


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="config")
