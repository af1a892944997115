"""What every command needs: the chosen home, whether to show tracebacks, a daemon client.

The root callback builds one :class:`CliState` from ``--home``/``--verbose`` and stores
it on the click context, so commands never read ``os.environ`` themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import typer

from stockade.home import Home

if TYPE_CHECKING:
    from stockade.client import Client


# Sent with the requests that answer or change something, so the audit log names the CLI.
FROM_CLI = {"Stockade-Client": "cli"}


@dataclass(frozen=True, slots=True)
class CliState:
    """The global options, resolved once."""

    home: Home
    verbose: bool = False

    def client(self, timeout: float = 5.0) -> Client:
        """A client for this home's daemon socket (imported lazily: most commands need none)."""
        from stockade.client import Client

        return Client(self.home.socket_path, timeout=timeout)


def state(ctx: typer.Context) -> CliState:
    """The state the root callback stored; a default one when a sub-app runs on its own."""
    found = ctx.find_object(CliState)
    return found if found is not None else CliState(Home.from_env())
