"""``stockade rules``: the allow rules recorded by answering a held call with "always".

Each entry came from one approval and holds only for its tool, in its project, for
the command prefix, path or domain of the call it answered (``policy/learning.py``).
``revoke`` takes one back at once: the next such call asks again.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

import typer

from stockade.cli import output
from stockade.cli.context import FROM_CLI, state
from stockade.errors import DaemonUnavailable

app = typer.Typer(help="List and revoke rules learned from `always` answers.", no_args_is_help=True)


@app.command("list")
def list_(ctx: typer.Context, json_out: output.JsonFlag = False) -> None:
    """Show the learned rules (read from the file when the daemon is not running)."""
    cli_state = state(ctx)
    try:
        learned: list[dict[str, Any]] = cli_state.client().request("GET", "/rules")["rules"]
    except DaemonUnavailable:
        from stockade.config.learned import load_learned

        learned = [entry.to_json() for entry in load_learned(cli_state.home.rules_path)]
    if json_out:
        output.emit_json({"rules": learned})
        return
    if not learned:
        typer.echo("no learned rules")
        return
    _table(learned)


@app.command()
def revoke(
    ctx: typer.Context,
    rule_id: Annotated[str, typer.Argument(help="The rule's id (from `stockade rules list`).")],
    json_out: output.JsonFlag = False,
) -> None:
    """Take a learned rule back; the calls it allowed ask again."""
    path = f"/rules/{quote(rule_id, safe='')}/revoke"
    answer = state(ctx).client().request("POST", path, {}, headers=FROM_CLI)
    if json_out:
        output.emit_json(answer)
        return
    typer.echo(f"revoked {answer['revoked']['id']}")


def _table(learned: list[dict[str, Any]]) -> None:
    from rich.table import Table
    from rich.text import Text

    table = Table(box=None, pad_edge=False, header_style="bold")
    table.add_column("id", no_wrap=True)
    for column in ("project", "tool", "allows", "by", "created"):
        table.add_column(column, overflow="fold")
    for entry in learned:
        allows = "; ".join(condition(rule) for rule in entry["rules"])
        cells = [
            entry["id"],
            entry["project_root"],
            entry["tool_name"],
            allows,
            f"{entry['by']} (approval {entry.get('approval_id', '-')})",
            entry["created_at"],
        ]
        table.add_row(*(Text(str(cell)) for cell in cells))
    output.stdout().print(table)


def condition(rule: dict[str, Any]) -> str:
    """What one learned rule allows, in a few words (an exact command says so)."""
    parts = [f"{key} {rule[key]}" for key in ("command", "path", "domain") if rule.get(key)]
    if rule.get("exact_command"):
        parts[0] += " (exactly)"
    return ", ".join(parts) or "any input"


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="rules")
