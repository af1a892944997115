"""``stockade doctor``: is this installation safe and working, and how to repair it.

Each check has a stable id (for scripts and docs), a status and, when not ok, the
command that fixes it. ``warn`` is for states that are legitimate but worth knowing
(the daemon is not running); ``fail`` is for what makes Stockade unsafe or unusable,
and makes the command exit 1. Checks run locally, so the doctor works exactly when
the daemon does not.

The ``hooks.*`` checks ask whether each harness (Claude Code, Codex, Gemini CLI) will
really run the Stockade hook, for the user and for the project in the current
directory (or ``--project DIR``): every harness silently drops a hook it cannot use,
see :mod:`stockade.install.diagnose`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from stockade.cli import output
from stockade.cli.context import state
from stockade.diagnostics import Check
from stockade.errors import DaemonUnavailable, StockadeError
from stockade.home import Home


def check_home_exists(home: Home) -> Check:
    if home.root.is_dir():
        return Check("home.exists", "ok", f"{home.root} exists")
    if os.path.lexists(home.root):
        return Check("home.exists", "fail", f"{home.root} is not a directory", "remove it")
    return Check(
        "home.exists",
        "warn",
        f"{home.root} does not exist yet",
        "`stockade serve` creates it (or `stockade doctor --fix`)",
    )


def check_home_perms(home: Home) -> Check:
    if not os.path.lexists(home.root):
        return Check("home.perms", "ok", "nothing to check until the home exists")
    problems = home.problems()
    if not problems:
        return Check("home.perms", "ok", "private to you (directory 0700, files 0600)")
    return Check(
        "home.perms",
        "fail",
        "; ".join(f"{problem.path} {problem.problem}" for problem in problems),
        "; ".join(dict.fromkeys(problem.fix for problem in problems)),
    )


def check_config(home: Home) -> Check:
    from stockade.config import load_settings

    try:
        load_settings(home)
    except StockadeError as exc:
        return Check("config.valid", "fail", exc.message, exc.hint)
    if not home.config_path.exists():
        return Check("config.valid", "ok", "no stockade.toml: secure defaults apply")
    return Check("config.valid", "ok", f"{home.config_path} is valid")


def check_redaction(home: Home) -> Check:
    """``[logging] redact = "off"`` is allowed, never silent: the model then reads secrets."""
    from stockade.config import load_settings

    try:
        settings, _ = load_settings(home)
    except StockadeError:
        return Check("redaction.on", "ok", "see config.valid")
    if settings.logging.redact == "on":
        return Check("redaction.on", "ok", "secrets are redacted everywhere")
    return Check(
        "redaction.on",
        "warn",
        '[logging] redact = "off": tool output reaches the model and the daemon log '
        "unredacted (the audit log, API and UI stay redacted)",
        f'remove `redact = "off"` from {home.config_path}, then restart the daemon',
    )


def check_daemon(home: Home) -> Check:
    from stockade.client import Client

    try:
        with Client(home.socket_path, timeout=2.0) as client:
            health = client.request("GET", "/health")
    except DaemonUnavailable:
        return Check("daemon.running", "warn", "not running", "stockade serve")
    except StockadeError as exc:
        return Check("daemon.running", "fail", exc.message, exc.hint)
    return Check("daemon.running", "ok", f"running (pid {health.get('pid')})")


def check_identity(home: Home) -> Check:
    """The signing key: present, private to you, and matching its public file."""
    from stockade.identity import IdentityFiles

    files = IdentityFiles(home)
    if not os.path.lexists(files.private_path):
        return Check("identity.key", "warn", "no identity key yet", "`stockade serve` creates one")
    try:
        key = files.load_signing_key()
        ring = files.keyring()
    except StockadeError as exc:
        return Check("identity.key", "fail", exc.message, exc.hint)
    if ring.current is None or ring.current.fingerprint != key.fingerprint:
        return Check(
            "identity.key",
            "fail",
            f"{files.public_path} does not match the private key",
            "restart the daemon: it rewrites the public file from the key",
        )
    retired = f", {len(ring.retired)} retired" if ring.retired else ""
    return Check("identity.key", "ok", f"{key.fingerprint} (private to you{retired})")


def check_vault(home: Home) -> Check:
    """Where the vault's master key comes from, and whether it opens every secret."""
    from stockade.vault.doctor import diagnose

    return diagnose(home, os.environ)


def check_audit(home: Home) -> Check:
    path = home.audit_path
    if not path.exists():
        return Check("audit.verify", "warn", f"no audit log at {path} yet", "stockade serve")
    import sqlite3

    from stockade.audit import verify_database
    from stockade.identity import IdentityFiles

    try:
        report = verify_database(path, keys=IdentityFiles(home).keyring())
    except (StockadeError, OSError, sqlite3.Error) as exc:  # damaged: report, do not crash
        return Check("audit.verify", "fail", f"cannot verify {path}: {exc}", None)
    if report.ok:
        signed = report.checkpoints.checked if report.checkpoints else 0
        return Check(
            "audit.verify",
            "ok",
            f"{report.checked} events, hash chain intact, {signed} signed checkpoints verify",
        )
    return Check(
        "audit.verify",
        "fail",
        f"{report.check} fails at seq {report.first_bad_seq}: {report.problem}",
        "stockade audit verify; keep a copy of the database for investigation",
    )


CHECKS: tuple[Callable[[Home], Check], ...] = (
    check_home_exists,
    check_home_perms,
    check_config,
    check_redaction,
    check_daemon,
    check_identity,
    check_audit,
    check_vault,
)


def check_installs(project: Path) -> list[Check]:
    """One check per harness file and trust gate (see :mod:`stockade.install.diagnose`)."""
    from stockade.install.diagnose import diagnose

    return [finding for finding in diagnose(project)]


def repair(home: Home) -> list[str]:
    """Create a missing home and tighten modes; returns what was changed."""
    changed: list[str] = []
    if not os.path.lexists(home.root):
        home.ensure()
        changed.append(f"mkdir -m 0700 {home.root}")
    changed.extend(home.fix_permissions())
    return changed


def doctor(
    ctx: typer.Context,
    fix: Annotated[
        bool, typer.Option("--fix", help="Create the home and repair its permissions first.")
    ] = False,
    project: Annotated[
        Path | None,
        typer.Option(
            "--project",
            help="Check the harness hooks of the project in DIR (default: the current directory).",
            metavar="DIR",
            show_default=False,
        ),
    ] = None,
    json_out: output.JsonFlag = False,
) -> None:
    """Check the home, configuration, daemon, audit log and harness hooks. Exit 1 on a failure."""
    if project is not None and not project.is_dir():
        raise typer.BadParameter(f"{project} is not a directory", param_hint="--project")
    home = state(ctx).home
    fixed = repair(home) if fix else []
    checks = [run(home) for run in CHECKS]
    checks.extend(check_installs((project or Path.cwd()).resolve()))
    failed = any(check.status == "fail" for check in checks)
    if json_out:
        output.emit_json(
            {"ok": not failed, "fixed": fixed, "checks": [check.to_json() for check in checks]}
        )
    else:
        _render(checks, fixed)
    if failed:
        raise typer.Exit(1)


def _render(checks: list[Check], fixed: list[str]) -> None:
    from rich.table import Table
    from rich.text import Text

    console = output.stdout()
    for change in fixed:
        console.print(Text(f"fixed: {change}", style="green"), soft_wrap=True)
    table = Table(box=None, show_header=False, padding=(0, 2))
    table.add_column(no_wrap=True)
    table.add_column(no_wrap=True, style="bold")
    table.add_column(overflow="fold")
    for check in checks:
        message = Text(check.message)
        if check.fix and check.status != "ok":
            message.append(f"\nfix: {check.fix}", style="dim")
        table.add_row(output.status_text(check.status), check.id, message)
    console.print(table)


def register(app: typer.Typer) -> None:
    app.command()(doctor)
