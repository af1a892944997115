"""``stockade agents``: register the agents that may do only what they are granted.

An agent registered here is capability-restricted: each of its calls must be covered
by one of its live grants (``stockade caps grant``), whatever the policy allows. Any
other agent name, or none, is judged by the policy alone. Adding and removing go
through the daemon (audited as ``agent.added`` / ``agent.removed``); ``list`` reads
the file when the daemon is not running.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

import typer

from stockade.cli import output
from stockade.cli.audit import ConfirmationRequired
from stockade.cli.context import FROM_CLI, state
from stockade.errors import DaemonUnavailable

app = typer.Typer(help="Register capability-restricted agents.", no_args_is_help=True)
NameArg = Annotated[str, typer.Argument(help="The agent's name, e.g. ci-bot.", show_default=False)]


@app.command()
def add(
    ctx: typer.Context,
    name: NameArg,
    note: Annotated[
        str | None, typer.Option("--note", help="What the agent is (shown in listings).")
    ] = None,
    json_out: output.JsonFlag = False,
) -> None:
    """Register NAME: from now on it may do only what `stockade caps grant` gives it."""
    body = {"name": name, "note": note}
    answer = state(ctx).client().request("POST", "/agents", body, headers=FROM_CLI)
    if json_out:
        output.emit_json(answer)
        return
    typer.echo(f"added agent {name}: it may do nothing until granted (`stockade caps grant`)")


@app.command("list")
def list_(ctx: typer.Context, json_out: output.JsonFlag = False) -> None:
    """Show the registered agents (read from the file when the daemon is not running)."""
    cli_state = state(ctx)
    try:
        agents: list[dict[str, Any]] = cli_state.client().request("GET", "/agents")["agents"]
    except DaemonUnavailable:
        from stockade.caps.agents import load_agents

        agents = [agent.to_json() for agent in load_agents(cli_state.home).values()]
    if json_out:
        output.emit_json({"agents": agents})
        return
    if not agents:
        typer.echo("no registered agents: every agent is judged by the policy alone")
        return
    for agent in agents:
        grants = agent.get("live_grants")
        count = "" if grants is None else f"  {grants} live grant(s)"
        note = f"  ({agent['note']})" if agent.get("note") else ""
        typer.echo(f"{agent['name']}{count}  added {agent['added_at']} by {agent['by']}{note}")


@app.command("rm")
def remove(
    ctx: typer.Context,
    name: NameArg,
    yes: Annotated[
        bool, typer.Option("--yes", help="Confirm: its grants are revoked, its restriction lifted.")
    ] = False,
    json_out: output.JsonFlag = False,
) -> None:
    """Remove NAME: its grants are revoked, and its calls are judged by the policy alone."""
    if not yes:
        raise ConfirmationRequired(
            f"add --yes to remove agent {name}",
            "its grants are revoked and its calls are no longer restricted to them",
        )
    path = f"/agents/{quote(name, safe='')}/remove"
    answer = state(ctx).client().request("POST", path, {"confirm": True}, headers=FROM_CLI)
    if json_out:
        output.emit_json(answer)
        return
    revoked = answer["revoked"]
    typer.echo(f"removed agent {name}" + (f"; revoked {', '.join(revoked)}" if revoked else ""))


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="agents")
