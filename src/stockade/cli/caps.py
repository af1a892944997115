"""``stockade caps``: grant, revoke, list and show the capability tokens of agents.

A grant is a token signed by the daemon's identity (``docs/adr/0007``); granting and
revoking go through the daemon (audited as ``cap.granted`` / ``cap.revoked``, a
revocation holds from the next decision). ``list`` and ``show`` read the token files
when the daemon is not running, and say of each token whether it is live.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import quote

import typer

from stockade.cli import output
from stockade.cli.context import FROM_CLI, CliState, state
from stockade.errors import DaemonUnavailable, StockadeError

app = typer.Typer(help="Grant and revoke what registered agents may do.", no_args_is_help=True)
TokenArg = Annotated[str, typer.Argument(help="The token's id (cap_…).", show_default=False)]


@app.command()
def grant(
    ctx: typer.Context,
    agent: Annotated[str, typer.Argument(help="A registered agent.", show_default=False)],
    capability: Annotated[
        str,
        typer.Argument(
            help="tool.call.<glob>, fs.read, fs.write, shell.exec, net.fetch or "
            "mcp.call.<server>.<tool>.",
            show_default=False,
        ),
    ],
    path: Annotated[
        list[str] | None, typer.Option("--path", help="fs.read/fs.write: a path glob (repeat).")
    ] = None,
    command: Annotated[
        list[str] | None,
        typer.Option("--command", help="shell.exec: a command prefix, e.g. 'git status' (repeat)."),
    ] = None,
    domain: Annotated[
        list[str] | None,
        typer.Option("--domain", help="net.fetch: example.com or *.example.com (repeat)."),
    ] = None,
    arg: Annotated[
        list[str] | None,
        typer.Option("--arg", help="mcp.call: NAME=GLOB on one argument (repeat)."),
    ] = None,
    expires: Annotated[
        str | None,
        typer.Option("--expires", help="A duration (2h, 30m, 7d) or an ISO 8601 time."),
    ] = None,
    json_out: output.JsonFlag = False,
) -> None:
    """Grant CAPABILITY to AGENT, narrowed by the options given."""
    from stockade.caps.grant import GrantError, expires_at, parse_arg

    try:
        args = dict(parse_arg(text) for text in arg or [])
        until = None if expires is None else expires_at(expires, datetime.now(UTC))
    except GrantError as exc:
        raise typer.BadParameter(str(exc)) from None
    body: dict[str, Any] = {
        "agent": agent,
        "capability": capability,
        "paths": path or [],
        "commands": command or [],
        "domains": domain or [],
        "args": args,
        "expires_at": None if until is None else until.isoformat(),
    }
    answer = state(ctx).client().request("POST", "/caps", body, headers=FROM_CLI)
    if json_out:
        output.emit_json(answer)
        return
    token = answer["token"]
    until_text = f" until {token['expires_at']}" if token.get("expires_at") else ""
    typer.echo(f"granted {token['id']} to {agent}: {_describe(token)}{until_text}")


@app.command()
def revoke(ctx: typer.Context, token_id: TokenArg, json_out: output.JsonFlag = False) -> None:
    """Revoke a token: it grants nothing from the next decision on."""
    path = f"/caps/{quote(token_id, safe='')}/revoke"
    answer = state(ctx).client().request("POST", path, {}, headers=FROM_CLI)
    if json_out:
        output.emit_json(answer)
        return
    typer.echo(f"revoked {answer['revoked']}")


@app.command("list")
def list_(
    ctx: typer.Context,
    agent: Annotated[str | None, typer.Option("--agent", help="Only this agent's tokens.")] = None,
    json_out: output.JsonFlag = False,
) -> None:
    """Show the tokens and whether each is live (read from the files without a daemon)."""
    cli_state = state(ctx)
    try:
        query = {"agent": agent} if agent else None
        tokens: list[dict[str, Any]] = cli_state.client().request("GET", "/caps", query=query)[
            "tokens"
        ]
    except DaemonUnavailable:
        tokens = [t for t in _offline(cli_state) if agent is None or t.get("agent") == agent]
    if json_out:
        output.emit_json({"tokens": tokens})
        return
    if not tokens:
        typer.echo("no capability tokens")
        return
    for token in tokens:
        until = token.get("expires_at") or "no expiry"
        line = f"{token['id']}  {token['status']:<8} {token.get('agent', '-')}  {_describe(token)}"
        typer.echo(f"{line}  ({until})")
        if token["problem"]:
            output.note(f"  {token['problem']}")


@app.command()
def show(ctx: typer.Context, token_id: TokenArg, json_out: output.JsonFlag = False) -> None:
    """Show one token, its signed statement and its status."""
    cli_state = state(ctx)
    try:
        token = cli_state.client().request("GET", f"/caps/{quote(token_id, safe='')}")
    except DaemonUnavailable:
        found = [t for t in _offline(cli_state) if t["id"] == token_id]
        if not found:
            raise StockadeError(
                f"no capability token {token_id[:40]!r}", "see `stockade caps list`"
            ) from None
        token = found[0]
    if json_out:
        output.emit_json(token)
        return
    rows = [
        (key, str(token.get(key) or "-"))
        for key in ("id", "status", "problem", "agent", "capability")
    ]
    rows += [
        ("grants", _describe(token)),
        *((key, str(token.get(key) or "-")) for key in ("issued_at", "expires_at")),
        *((key, str(token.get(key) or "-")) for key in ("key_fingerprint", "sha256", "file")),
    ]
    output.key_values(rows)


def _offline(cli_state: CliState) -> list[dict[str, Any]]:
    from stockade.caps.book import CapabilityBook

    book = CapabilityBook(cli_state.home)
    book.load()
    return [token_state.to_json() for token_state in book.states()]


def _describe(token: dict[str, Any]) -> str:
    constraints = token.get("constraints") or {}
    parts = [
        *constraints.get("paths", []),
        *constraints.get("commands", []),
        *constraints.get("domains", []),
        *(f"{name}={glob}" for name, glob in constraints.get("args", {}).items()),
    ]
    capability = str(token.get("capability", "?"))
    return f"{capability} {', '.join(parts)}" if parts else capability


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="caps")
