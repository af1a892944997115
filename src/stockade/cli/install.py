"""``stockade install`` / ``stockade uninstall``: hook a harness into the daemon, or unhook it.

The settings-file rules (merge, backup, atomic, idempotent) live in
:mod:`stockade.install.settings`; this module only parses options and prints.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from stockade.cli import output
from stockade.install import InstallResult

HarnessArg = Annotated[
    str, typer.Argument(help="Harness to hook: claude-code, codex or gemini.", show_default=False)
]
ProjectOpt = Annotated[
    Path | None,
    typer.Option(
        "--project",
        help="Write the project's settings in DIR instead of the user's.",
        metavar="DIR",
        show_default=False,
    ),
]
UserOpt = Annotated[bool, typer.Option("--user", help="Write the user's settings (default).")]
AgentOpt = Annotated[
    str | None,
    typer.Option(
        "--agent",
        help="Run this install's calls as a registered agent (judged by its grants).",
        metavar="NAME",
        show_default=False,
    ),
]


def install(
    ctx: typer.Context,
    harness: HarnessArg,
    project: ProjectOpt = None,
    user: UserOpt = False,
    agent: AgentOpt = None,
    json_out: output.JsonFlag = False,
) -> None:
    """Route every tool call of HARNESS through Stockade (merged into its settings, backed up)."""
    from stockade.install import install as do_install

    if agent is not None:
        _check_agent(ctx, agent)
    result = do_install(harness, _project(project, user), agent=agent)
    _report(result, "installed", json_out)


def _check_agent(ctx: typer.Context, agent: str) -> None:
    """Refuse an agent that is not registered: its calls would not be restricted at all."""
    from stockade.cli.context import state
    from stockade.errors import DaemonUnavailable, StockadeError

    cli_state = state(ctx)
    try:
        listed = cli_state.client().request("GET", "/agents")["agents"]
        names = {entry["name"] for entry in listed}
    except DaemonUnavailable:
        from stockade.caps.agents import load_agents

        names = set(load_agents(cli_state.home))
    if agent not in names:
        raise StockadeError(
            f"no agent {agent[:70]!r} is registered, so its calls would not be restricted",
            f"register it first: `stockade agents add {agent[:70]}`",
        )


def uninstall(
    harness: HarnessArg,
    project: ProjectOpt = None,
    user: UserOpt = False,
    json_out: output.JsonFlag = False,
) -> None:
    """Remove exactly the hook entries `stockade install` added for HARNESS."""
    from stockade.install import uninstall as do_uninstall

    result = do_uninstall(harness, _project(project, user))
    _report(result, "uninstalled", json_out)


def _project(project: Path | None, user: bool) -> Path | None:
    if project is not None and user:
        raise typer.BadParameter("give either --project DIR or --user, not both")
    if project is None:
        return None
    if not project.is_dir():
        raise typer.BadParameter(f"{project} is not a directory", param_hint="--project")
    return project.resolve()


def _report(result: InstallResult, verb: str, json_out: bool) -> None:
    if json_out:
        output.emit_json(result.to_json())
        return
    if not result.changed:
        typer.echo(f"{result.path}: already {verb}, nothing changed")
        return
    if result.settings_changed:
        typer.echo(f"{verb} Stockade hooks for {result.harness} in {result.path}")
        if result.backup is not None:
            output.note(f"previous file kept as {result.backup}")
    trust = result.trust
    if trust is not None and trust.changed:
        if trust.records:
            typer.echo(f"recorded Codex's trust in exactly these hooks in {trust.path}")
        else:
            typer.echo(f"removed Codex's trust in the Stockade hooks from {trust.path}")
        if trust.backup is not None:
            output.note(f"previous file kept as {trust.backup}")
    if verb == "installed":
        for note in result.notes:
            output.note(note)


def register(app: typer.Typer) -> None:
    app.command()(install)
    app.command()(uninstall)
