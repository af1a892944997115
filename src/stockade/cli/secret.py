"""``stockade secret``: keep secrets in the encrypted vault, list them, run a program with them.

A value is read from a hidden prompt (typed twice) or, when stdin is not a terminal,
from stdin (``printf '%s' "$TOKEN" | stockade secret add NAME``; one trailing newline
is dropped). There is no option that takes a value: argv is visible to every process
on the machine and lands in shell history.

While the daemon runs, ``add``, ``rm`` and ``rotate-key`` go through its socket (it
holds the values in memory and must learn each change before its next answer); with
no daemon they change the vault on disk, under ``daemon.lock``
(:mod:`stockade.vault.offline`). ``exec`` needs the daemon: it is the daemon that
starts the program with the secrets in its environment.
"""

from __future__ import annotations

import getpass
import sys
from typing import Annotated, Any
from urllib.parse import quote

import typer

from stockade.cli import output
from stockade.cli.audit import ConfirmationRequired
from stockade.cli.context import FROM_CLI, state
from stockade.errors import DaemonUnavailable, StockadeError

app = typer.Typer(
    help="Keep secrets in the encrypted vault; use them as secret://NAME.", no_args_is_help=True
)

NameArg = Annotated[str, typer.Argument(help="The secret's name (used as secret://NAME).")]


@app.command()
def add(
    ctx: typer.Context,
    name: NameArg,
    replace: Annotated[
        bool, typer.Option("--replace", help="Replace the value of an existing secret.")
    ] = False,
    json_out: output.JsonFlag = False,
) -> None:
    """Keep a secret: the value comes from a hidden prompt, or from stdin when piped."""
    from stockade.vault import offline
    from stockade.vault.format import check_name, check_value

    check_name(name)
    value = _read_value()
    check_value(value)
    _warn_if_unredactable(value)
    cli = state(ctx)
    body = {"name": name, "value": value, "replace": replace}
    try:
        answer = cli.client(timeout=30.0).request("POST", "/secrets", body, headers=FROM_CLI)
    except DaemonUnavailable:
        answer = offline.add(cli.home, name, value, replace=replace, by="cli")
    if json_out:
        output.emit_json(answer)
    else:
        verb = "replaced" if answer["replaced"] else "added"
        typer.echo(f"{verb} secret://{name} (audit event #{answer['event_seq']})")


@app.command("list")
def list_(ctx: typer.Context, json_out: output.JsonFlag = False) -> None:
    """The names of the secrets and when each was set (never a value)."""
    from stockade.vault import offline

    cli = state(ctx)
    try:
        answer = cli.client().request("GET", "/secrets")
    except DaemonUnavailable:
        answer = offline.listing(cli.home)
    if json_out:
        output.emit_json(answer)
        return
    from rich.table import Table

    table = Table(box=None, padding=(0, 2))
    for column in ("handle", "created", "updated"):
        table.add_column(column, overflow="fold")
    for secret in answer["secrets"]:
        table.add_row(f"secret://{secret['name']}", secret["created"], secret["updated"])
    output.stdout().print(table)
    output.note(f"{len(answer['secrets'])} secret(s); master key from: {answer['key_source']}")


@app.command("rm")
def rm(
    ctx: typer.Context,
    name: NameArg,
    yes: Annotated[
        bool, typer.Option("--yes", help="Confirm: the value is gone for good.")
    ] = False,
    json_out: output.JsonFlag = False,
) -> None:
    """Remove a secret."""
    from stockade.vault import offline

    if not yes:
        raise ConfirmationRequired(
            f"add --yes to remove secret://{name}", "a removed secret cannot be recovered"
        )
    cli = state(ctx)
    body = {"confirm": True}
    try:
        path = f"/secrets/{quote(name, safe='')}/remove"
        answer = cli.client(timeout=30.0).request("POST", path, body, headers=FROM_CLI)
    except DaemonUnavailable:
        answer = offline.remove(cli.home, name, by="cli")
    if json_out:
        output.emit_json(answer)
    else:
        typer.echo(f"removed secret://{name} (audit event #{answer['event_seq']})")


@app.command("rotate-key")
def rotate_key(
    ctx: typer.Context,
    yes: Annotated[bool, typer.Option("--yes", help="Confirm the rotation.")] = False,
    json_out: output.JsonFlag = False,
) -> None:
    """Seal every secret under a new master key (an interrupted rotation loses nothing)."""
    from stockade.vault import offline

    if not yes:
        raise ConfirmationRequired(
            "add --yes to seal every secret under a new master key",
            "the old key is replaced where it is kept (keychain or key file)",
        )
    cli = state(ctx)
    answer: dict[str, Any]
    try:
        answer = cli.client(timeout=120.0).request(
            "POST", "/secrets/rotate-key", {"confirm": True}, headers=FROM_CLI
        )
    except DaemonUnavailable:
        with output.progress_bar("sealing", enabled=not json_out) as progress:
            answer = offline.rotate(cli.home, by="cli", progress=progress)
    if json_out:
        output.emit_json(answer)
    else:
        typer.echo(
            f"rotated: key {answer['old_key_id']} -> {answer['new_key_id']}, "
            f"{answer['secrets']} secret(s) sealed again (audit event #{answer['event_seq']})"
        )


@app.command(
    "exec",
    context_settings={"allow_interspersed_args": False},
)
def exec_(
    ctx: typer.Context,
    argv: Annotated[list[str], typer.Argument(help="The program and its arguments (after --).")],
    env: Annotated[
        list[str] | None,
        typer.Option(
            "--env", "-e", help="VAR=secret://NAME (or VAR=text), repeatable.", metavar="VAR=VALUE"
        ),
    ] = None,
    timeout: Annotated[
        float, typer.Option("--timeout", help="Seconds before the program is killed.", min=1)
    ] = 600.0,
    json_out: output.JsonFlag = False,
) -> None:
    """Have the daemon run a program with secret:// handles resolved in its environment.

    The program's stdout and stderr come back (through the daemon's redactor) and its
    exit code is this command's.
    """
    import os

    variables = dict(_assignment(item) for item in env or [])
    body = {"argv": argv, "env": variables, "cwd": os.getcwd(), "timeout_s": timeout}
    client = state(ctx).client(timeout=timeout + 30.0)
    answer = client.request("POST", "/secrets/exec", body, headers=FROM_CLI)
    if json_out:
        output.emit_json(answer)
    else:
        sys.stdout.write(answer["stdout"])
        sys.stdout.flush()
        sys.stderr.write(answer["stderr"])
        if answer["timed_out"]:
            output.note(f"killed after {timeout:g} s")
        elif answer["truncated"]:
            output.note("the output was cut at 1 MiB")
    code = answer["exit_code"]
    raise typer.Exit(code if 0 <= code < 256 else 128 + abs(code) % 128)


def _assignment(item: str) -> tuple[str, str]:
    var, sep, value = item.partition("=")
    if not sep or not var:
        raise typer.BadParameter("expected VAR=secret://NAME", param_hint="--env")
    return var, value


def _warn_if_unredactable(value: str) -> None:
    """Say so when the redactor will not look for this value (too short: too many false hits)."""
    from stockade.redact import MIN_KNOWN_LENGTH

    if len(value) < MIN_KNOWN_LENGTH:
        output.note(
            f"warning: values shorter than {MIN_KNOWN_LENGTH} characters are kept, but the "
            "redactor does not look for them in output and logs"
        )


def _read_value() -> str:
    """The value from a hidden prompt (twice), or from piped stdin."""
    from stockade.vault.format import MAX_VALUE_BYTES

    if sys.stdin.isatty():
        first = getpass.getpass("value (hidden): ")
        if getpass.getpass("again: ") != first:
            raise StockadeError("the two values differ; nothing was kept", "run the command again")
        return first
    raw = sys.stdin.buffer.read(MAX_VALUE_BYTES + 3)
    try:
        text = raw.decode()
    except UnicodeDecodeError:
        raise StockadeError("the value is not UTF-8 text", "store text, e.g. base64") from None
    return text[:-2] if text.endswith("\r\n") else text.removesuffix("\n")


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="secret")
