"""``stockade verify``: drift detection across the whole home, one line per check.

Each check (:data:`stockade.verify.runner.CHECKS`) prints ✓ or ✗, its title and what
it covered; each drift follows with what is wrong and how to repair it. Exit codes:
0 when nothing drifted, 6 when anything did (as ``stockade audit verify``: "does not
verify"), and the usual error codes when verify itself cannot run (1, or 2 for a bad
option such as an unreadable ``--anchor`` file). Like ``audit verify`` it reads the
files directly, read-only: the daemon may be running or stopped.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from stockade.cli import output
from stockade.cli.audit import AnchorOption, read_anchor
from stockade.cli.context import state
from stockade.errors import AuditIntegrityError, StockadeError

if TYPE_CHECKING:
    from stockade.verify.runner import VerifyResult

DRIFT_EXIT = AuditIntegrityError.exit_code


def verify(
    ctx: typer.Context,
    anchor: AnchorOption = None,
    json_out: output.JsonFlag = False,
) -> None:
    """Check the home for drift: permissions, audit log, checkpoints, config and rules.

    Exit 0 when nothing drifted, 6 when anything did.
    """
    from stockade.verify.checkpoints import anchor_check
    from stockade.verify.runner import CHECKS, run

    home = state(ctx).home
    if not home.root.is_dir():
        raise StockadeError(f"no Stockade home at {home.root}", "check --home or $STOCKADE_HOME")
    checks = CHECKS if anchor is None else (*CHECKS, anchor_check(read_anchor(anchor)))
    # printed once the (transient) bar is gone: lines written under a live bar garble it
    with output.progress_bar("verifying the audit log", enabled=not json_out) as progress:
        result = run(home, checks, progress=progress)
    if json_out:
        output.emit_json(result.to_json())
    else:
        _print(result)
    if not result.ok:
        raise typer.Exit(DRIFT_EXIT)


def _print(result: VerifyResult) -> None:
    """``✓``/``✗`` name, title and detail per check; each drift with its repair; a summary."""
    from rich.text import Text

    console = output.stdout()
    for check in result.checks:
        mark = ("✓ ", "bold green") if check.ok else ("✗ ", "bold red")
        line = Text.assemble(mark, (check.name, "bold"), "  ", check.title)
        if check.detail:
            line.append(f"  ({check.detail})", style="dim")
        console.print(line, soft_wrap=True)
        for drift in check.drifts:
            console.print(
                Text.assemble("    ", (drift.subject, "yellow"), ": ", drift.problem),
                soft_wrap=True,
            )
            console.print(Text.assemble("      repair: ", (drift.repair, "cyan")), soft_wrap=True)
    total = len(result.checks)
    if result.ok:
        console.print(f"no drift: {total} checks passed", soft_wrap=True)
    else:
        failed = sum(not check.ok for check in result.checks)
        console.print(f"drift: {result.drifts} finding(s) in {failed} of {total} checks")


def register(root: typer.Typer) -> None:
    root.command()(verify)
