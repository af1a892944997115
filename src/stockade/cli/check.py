"""Dry-run a tool call (``check``) and show the effective policy (``policy show``).

Both ask the running daemon, so the answer reflects the policy it actually enforces.
When no daemon runs they evaluate locally from the same configuration, and say so on
stderr: a user writing rules should not have to start a daemon to test them.
``check`` exits 0 whenever the evaluation worked, whatever the verdict: the decision is
data (read ``verdict`` in ``--json``), not a failure of the command.
"""

from __future__ import annotations

import json
import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from stockade.cli import output
from stockade.cli.context import CliState, state
from stockade.errors import DaemonUnavailable


class Harness(StrEnum):
    """The harness ids the API accepts (``ToolCallBody.harness``)."""

    CLAUDE_CODE = "claude-code"
    CODEX = "codex"
    GEMINI = "gemini"
    GENERIC = "generic"


_LOCAL_NOTE = "(daemon not running: evaluated locally)"


def check(
    ctx: typer.Context,
    tool: Annotated[str, typer.Option("--tool", help="Tool name, e.g. Bash, Write.")],
    tool_input: Annotated[
        str,
        typer.Option(
            "--input", help='Tool input as a JSON object (\'{"command":"ls"}\'); "-" reads stdin.'
        ),
    ],
    harness: Annotated[
        Harness, typer.Option("--harness", help="Harness the call comes from.")
    ] = Harness.GENERIC,
    cwd: Annotated[
        Path | None, typer.Option("--cwd", help="Working directory (default: current).")
    ] = None,
    project: Annotated[
        Path | None, typer.Option("--project", help="Project root (default: the cwd).")
    ] = None,
    session: Annotated[str, typer.Option("--session", help="Session id.")] = "stockade-check",
    agent: Annotated[str | None, typer.Option("--agent", help="Agent name.")] = None,
    json_out: output.JsonFlag = False,
) -> None:
    """Show what the policy would decide for one tool call, without auditing it.

    Exit code 0 whenever a decision was made (allow, ask or deny alike).
    """
    body: dict[str, Any] = {
        "harness": harness.value,
        "session_id": session,
        "tool_name": tool,
        "tool_input": _parse_input(tool_input),
        "cwd": _absolute(cwd) if cwd else os.getcwd(),
        "project_root": _absolute(project) if project else None,
        "agent": agent,
    }
    cli = state(ctx)
    try:
        decision = dict(cli.client().request("POST", "/check", body))
        decision["source"] = "daemon"
    except DaemonUnavailable:
        output.note(_LOCAL_NOTE)
        decision = {**_check_locally(cli, body), "source": "local"}
    if json_out:
        output.emit_json(decision)
        return
    output.key_values(
        [
            ("verdict", output.verdict_text(str(decision.get("verdict")))),
            ("reason", str(decision.get("reason", ""))),
            ("rule", str(decision.get("rule_id", ""))),
            ("zone", str(decision.get("zone", ""))),
            ("action", str(decision.get("action", ""))),
        ]
    )


def _parse_input(raw: str) -> dict[str, Any]:
    """``--input``: a JSON object, from the option or from stdin with ``-``."""
    text = sys.stdin.read() if raw == "-" else raw
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise typer.BadParameter(f"not valid JSON: {exc}", param_hint="--input") from None
    if not isinstance(value, dict):
        raise typer.BadParameter(
            f'must be a JSON object like \'{{"command": "ls"}}\', got {type(value).__name__}',
            param_hint="--input",
        )
    return value


def _absolute(path: Path) -> str:
    return os.path.abspath(path.expanduser())


def _check_locally(cli: CliState, body: dict[str, Any]) -> dict[str, Any]:
    from stockade.request import ToolCall
    from stockade.service import DecisionService

    call = ToolCall(
        harness=body["harness"],
        session_id=body["session_id"],
        tool_name=body["tool_name"],
        tool_input=body["tool_input"],
        cwd=body["cwd"],
        project_root=body["project_root"],
        agent=body["agent"],
    )
    return dict(DecisionService.load(cli.home).check(call).to_json())


policy_app = typer.Typer(help="Inspect the effective policy.", no_args_is_help=True)


@policy_app.command("show")
def policy_show(ctx: typer.Context, json_out: output.JsonFlag = False) -> None:
    """Show the effective, merged policy (from the daemon, or computed locally)."""
    cli = state(ctx)
    try:
        policy = cli.client().request("GET", "/policy")
    except DaemonUnavailable:
        output.note(_LOCAL_NOTE)
        from stockade.service import DecisionService

        policy = DecisionService.load(cli.home).effective_policy()
    if json_out:
        output.emit_json(policy)
    else:
        output.tree("effective policy", policy)


def register(app: typer.Typer) -> None:
    app.command()(check)
    app.add_typer(policy_app, name="policy")
