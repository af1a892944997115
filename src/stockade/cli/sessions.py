"""``stockade sessions``: the agent sessions the audit log has seen, newest activity first.

The daemon aggregates them from the log (``GET /api/v1/sessions``), so the listing
survives a restart; ``pending`` counts the calls of each session held for a human now.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from stockade.cli import output
from stockade.cli.context import state

app = typer.Typer(help="List the agent sessions seen in the audit log.", no_args_is_help=True)


@app.command("list")
def list_(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option("--limit", min=1, max=500, help="How many.")] = 50,
    offset: Annotated[int, typer.Option("--offset", min=0, help="Skip this many first.")] = 0,
    json_out: output.JsonFlag = False,
) -> None:
    """Show sessions with their decisions (allow / ask / deny), taint and pending approvals."""
    query: dict[str, str | int] = {"limit": limit, "offset": offset}
    answer = state(ctx).client().request("GET", "/sessions", query=query)
    if json_out:
        output.emit_json(answer)
        return
    sessions: list[dict[str, Any]] = answer["sessions"]
    if not sessions:
        typer.echo("no sessions in the audit log")
        return
    _table(sessions)


def _table(sessions: list[dict[str, Any]]) -> None:
    from rich.table import Table
    from rich.text import Text

    table = Table(box=None, pad_edge=False, header_style="bold")
    for column in ("last seen", "harness", "session", "allow", "ask", "deny", "pending"):
        table.add_column(column, no_wrap=True)
    table.add_column("state", no_wrap=True)
    table.add_column("project", overflow="fold")
    for item in sessions:
        flags = [
            *(["tainted"] if item["tainted"] else []),
            "ended" if item["ended"] else "active",
        ]
        table.add_row(
            Text(str(item["last_seen"])[:19].replace("T", " ")),
            Text(str(item["harness"])),
            Text(str(item["session"])),
            Text(str(item["allows"]), style="green"),
            Text(str(item["asks"]), style="yellow"),
            Text(str(item["denies"]), style="red"),
            Text(str(item["pending_approvals"]), style="bold" if item["pending_approvals"] else ""),
            Text(", ".join(flags), style="bold red" if item["tainted"] else "dim"),
            Text(str(item["project_root"] or item["cwd"] or "-")),
        )
    output.stdout().print(table)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="sessions")
