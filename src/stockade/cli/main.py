"""The ``stockade`` application: global options, error policy, and the command groups.

Errors are handled once, in :class:`_StockadeGroup`, around every command: a
:class:`StockadeError` is printed with its hint and exits with its own code; anything
else is a bug, shown as one line (the traceback with ``--verbose``). Command modules
therefore just raise.
"""

from __future__ import annotations

import errno
import os
import platform
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from typer._click import Context as ClickContext
from typer.core import TyperGroup

from stockade import __version__
from stockade.cli import (
    agents,
    approvals,
    audit,
    caps,
    check,
    config,
    doctor,
    gateway,
    identity,
    install,
    output,
    rules,
    secret,
    serve,
    sessions,
    trust,
    ui,
    verify,
)
from stockade.cli.context import CliState
from stockade.errors import StockadeError
from stockade.home import Home


class _StockadeGroup(TyperGroup):
    """The root group; it wraps every subcommand, so it is the one place errors are caught."""

    def invoke(self, ctx: ClickContext) -> Any:
        try:
            return super().invoke(ctx)
        except (typer.TyperException, typer.Exit, typer.Abort):
            raise  # usage errors and explicit exits: typer renders them itself
        except StockadeError as exc:
            output.render_error(exc)
            raise typer.Exit(exc.exit_code) from None
        except OSError as exc:
            if exc.errno == errno.EPIPE:
                raise  # `stockade audit export | head`: typer exits quietly
            _unexpected(ctx, exc)
        except Exception as exc:
            _unexpected(ctx, exc)


def _unexpected(ctx: ClickContext, exc: Exception) -> NoReturn:
    found = ctx.find_object(CliState)
    output.render_unexpected(exc, verbose=found is not None and found.verbose)
    raise typer.Exit(1) from None


app = typer.Typer(
    cls=_StockadeGroup,
    name="stockade",
    help="Stockade: agents ask, the daemon decides (allow / ask / deny).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.callback()
def root(
    ctx: typer.Context,
    home: Annotated[
        Path | None,
        typer.Option(
            "--home",
            help="Stockade home directory (default: $STOCKADE_HOME, else ~/.stockade).",
            show_default=False,
        ),
    ] = None,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Show tracebacks of unexpected errors.")
    ] = False,
) -> None:
    """Resolve the home once; every command receives it through the context."""
    chosen = Home(Path(os.path.abspath(home.expanduser()))) if home else Home.from_env()
    ctx.obj = CliState(chosen, verbose)


def version(json_out: output.JsonFlag = False) -> None:
    """Print the version of this command line (the daemon's is in `stockade status`)."""
    data = {"version": __version__, "api": "v1", "python": platform.python_version()}
    if json_out:
        output.emit_json(data)
    else:
        typer.echo(f"stockade {__version__} (API v1, Python {data['python']})")


serve.register(app)
check.register(app)
audit.register(app)
identity.register(app)
agents.register(app)
caps.register(app)
approvals.register(app)
rules.register(app)
sessions.register(app)
doctor.register(app)
trust.register(app)
install.register(app)
config.register(app)
gateway.register(app)
ui.register(app)
verify.register(app)
secret.register(app)
app.command()(version)


def main() -> None:
    """Run the CLI (the console script enters through :mod:`stockade.entry`)."""
    app()
