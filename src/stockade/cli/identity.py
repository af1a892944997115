"""``stockade identity``: the daemon's signing key: show it, rotate it.

``show`` reads the public files directly (no daemon needed, the private key is never
read). ``rotate`` cannot be undone, so it refuses without ``--yes``; a running daemon
does it itself (it must switch its signer at once), else it is done on disk under
``daemon.lock`` (:mod:`stockade.daemon.rotation`).
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from stockade.cli import output
from stockade.cli.audit import ConfirmationRequired
from stockade.cli.context import FROM_CLI, state
from stockade.errors import DaemonUnavailable

app = typer.Typer(help="Show and rotate the daemon's signing key.", no_args_is_help=True)


@app.command()
def show(ctx: typer.Context, json_out: output.JsonFlag = False) -> None:
    """Print the public key and fingerprint (and the retired ones)."""
    from stockade.identity import IdentityError, IdentityFiles

    ring = IdentityFiles(state(ctx).home).keyring()
    if json_out:
        output.emit_json(ring.to_json())
        return
    if ring.current is None:
        raise IdentityError("no identity yet", "`stockade serve` creates one when it first starts")
    rows: list[tuple[str, str]] = [
        ("fingerprint", ring.current.fingerprint),
        ("public key", f"ed25519 {ring.current.public.b64}"),
        ("created", str(ring.current.created_at or "-")),
    ]
    for known in ring.retired:
        rows.append(("retired", f"{known.fingerprint} ({known.retired_at or '-'})"))
    output.key_values(rows)


@app.command()
def rotate(
    ctx: typer.Context,
    yes: Annotated[bool, typer.Option("--yes", help="Confirm: the old key signs no more.")] = False,
    reissue: Annotated[
        bool, typer.Option("--reissue", help="Re-sign the live capability grants with the new key.")
    ] = False,
    json_out: output.JsonFlag = False,
) -> None:
    """Replace the signing key; the old public key is kept so history still verifies.

    Capability grants signed by the old key grant nothing afterwards: they are listed,
    and --reissue signs them again with the new key.
    """
    if not yes:
        raise ConfirmationRequired(
            "add --yes to rotate the identity key",
            "checkpoints signed before keep verifying with the retired key",
        )
    cli_state = state(ctx)
    answer: dict[str, Any]
    try:
        answer = cli_state.client(timeout=30.0).request(
            "POST", "/identity/rotate", {"confirm": True, "reissue": reissue}, headers=FROM_CLI
        )
    except DaemonUnavailable:
        from stockade.daemon.rotation import rotate_offline

        answer = rotate_offline(cli_state.home, "cli", reissue=reissue).to_json()
    if json_out:
        output.emit_json(answer)
        return
    typer.echo(
        f"rotated: {answer['old_fingerprint']} -> {answer['new_fingerprint']} "
        f"(audit event #{answer['event_seq']})"
    )
    grants = answer["grants"]
    if grants["reissued"]:
        typer.echo(f"re-issued with the new key: {', '.join(grants['reissued'])}")
    if grants["must_reissue"]:
        typer.echo(
            "signed by the old key, these grants now grant nothing; grant them again "
            "(`stockade caps grant`), or rotate with --reissue to re-sign them: "
            f"{', '.join(grants['must_reissue'])}"
        )


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="identity")
