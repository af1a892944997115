"""The audit log from the command line: ``tail``, ``show``, ``export``, ``verify``, ``anchor``,
``purge``.

Reading goes through the daemon, which owns the database. ``tail -f`` follows the
daemon's event stream (``GET /api/v1/events``) and outlives a daemon restart: it
reconnects and resumes after the last seq it printed. ``verify`` and ``anchor`` are
the exceptions: they read the SQLite file (and the identity's public keys) directly, so
a log can be checked with the daemon stopped (or after it was compromised). ``purge`` is
destructive, so the command refuses without ``--yes`` and only then sends
``confirm: true``; the daemon checks it again.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Annotated, Any

import typer

from stockade.cli import output
from stockade.cli.context import state
from stockade.errors import AuditIntegrityError, StockadeError

if TYPE_CHECKING:
    from rich.text import Text

    from stockade.audit.checkpoints import Checkpoint
    from stockade.client import Client
    from stockade.identity import PublicKey

PAGE = 1000

AnchorOption = Annotated[
    Path | None,
    typer.Option(
        "--anchor",
        help="An anchor saved by `stockade audit anchor --json`: nothing before it changed.",
        dir_okay=False,
    ),
]


class ConfirmationRequired(StockadeError):
    """A destructive command run without ``--yes``: a usage error, hence exit 2."""

    exit_code = 2


app = typer.Typer(help="Read, export, verify and purge the audit log.", no_args_is_help=True)


@app.command()
def tail(
    ctx: typer.Context,
    lines: Annotated[
        int, typer.Option("-n", "--lines", min=0, max=PAGE, help="How many recent events.")
    ] = 20,
    follow: Annotated[
        bool, typer.Option("-f", "--follow", help="Keep printing new events until Ctrl-C.")
    ] = False,
    session: Annotated[str | None, typer.Option("--session", help="Only this session.")] = None,
    kind: Annotated[str | None, typer.Option("--kind", help="Only this event kind.")] = None,
    json_out: output.JsonFlag = False,
) -> None:
    """Print the last events, oldest first (JSON Lines with --json)."""
    filters = {key: value for key, value in (("session", session), ("kind", kind)) if value}
    client = state(ctx).client()
    # Read before the page, so that following from it leaves no gap.
    head = int(client.request("GET", "/audit/head")["seq"]) if follow else 0
    query: dict[str, str | int] = {**filters, "order": "desc", "limit": max(lines, 1)}
    newest_first = client.request("GET", "/audit/events", query=query)["events"]
    for event in reversed(newest_first[:lines]):
        _print_event(event, json_out)
    if not follow:
        return
    last = int(newest_first[0]["seq"]) if newest_first else head

    def lost(problem: StockadeError) -> None:
        output.note(f"waiting for the daemon ({problem.message}); Ctrl-C to stop")

    try:
        for event in client.follow(after=last, kinds=kind, session=session, on_lost=lost):
            _print_event(event, json_out)
    except KeyboardInterrupt:
        return  # Ctrl-C is how -f ends: not an error


@app.command()
def show(
    ctx: typer.Context,
    seq: Annotated[int, typer.Argument(min=1, help="Sequence number of the event.")],
    json_out: output.JsonFlag = False,
) -> None:
    """Print one event with its payload and chain hashes."""
    event = state(ctx).client().request("GET", f"/audit/events/{seq}")
    if json_out:
        output.emit_json(event)
        return
    output.key_values(
        [
            ("seq", str(event.get("seq"))),
            ("time", str(event.get("ts"))),
            ("kind", str(event.get("kind"))),
            ("actor", str(event.get("actor"))),
            ("session", str(event.get("session") or "-")),
            ("prev_hash", str(event.get("prev_hash"))),
            ("hash", str(event.get("hash"))),
        ]
    )
    output.tree("payload", event.get("payload") or {})


@app.command()
def export(
    ctx: typer.Context,
    jsonl: Annotated[
        bool, typer.Option("--jsonl", help="Write JSON Lines (required: the only format yet).")
    ] = False,
    out: Annotated[
        Path | None, typer.Option("--output", "-o", help="File to write (mode 0600); else stdout.")
    ] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="RFC 3339 time or YYYY-MM-DD (UTC).")
    ] = None,
    until: Annotated[
        str | None, typer.Option("--until", help="RFC 3339 time or YYYY-MM-DD (UTC).")
    ] = None,
) -> None:
    """Export events, oldest first, paging through the daemon 1000 at a time."""
    if not jsonl:
        raise typer.BadParameter("choose the export format: --jsonl", param_hint="--jsonl")
    query: dict[str, str | int] = {"limit": PAGE, "order": "asc"}
    if since:
        query["since"] = parse_time(since, "--since")
    if until:
        query["until"] = parse_time(until, "--until")
    client = state(ctx).client()
    if out is None:
        _write_pages(client, query, sys.stdout, lambda done, total: None, 0)
        return
    total = int(client.request("GET", "/audit/head").get("seq") or 0)
    with _private_file(out) as handle, output.progress_bar("exporting", True) as progress:
        count = _write_pages(client, query, handle, progress, total)
    output.note(f"exported {count} events to {out}")


@app.command()
def verify(
    ctx: typer.Context,
    anchor: AnchorOption = None,
    json_out: output.JsonFlag = False,
) -> None:
    """Check the hash chain and the signed checkpoints, reading the files directly.

    No daemon is needed. Exit 0 when everything verifies, 6 when anything does not.
    """
    from stockade.audit import verify_database
    from stockade.identity import IdentityFiles

    home = state(ctx).home
    path = home.audit_path
    kept = None if anchor is None else read_anchor(anchor)
    keys = IdentityFiles(home).keyring()
    with output.progress_bar("verifying", enabled=not json_out) as progress:
        report = verify_database(path, progress=progress, keys=keys, anchor=kept)
    summary = report.to_json()
    if json_out:
        output.emit_json(summary)
        if not report.ok:
            raise typer.Exit(AuditIntegrityError.exit_code)
        return
    if not report.ok:
        raise AuditIntegrityError(
            f"audit log does not verify at seq {report.first_bad_seq} ({report.check}): "
            f"{report.problem}",
            "events from that seq on cannot be trusted; keep a copy of "
            f"{path} for investigation before the daemon writes more",
        )
    head = summary.get("head") or {}
    typer.echo(
        f"audit log OK: {report.checked} events verified; "
        f"head #{head.get('seq')} {str(head.get('hash'))[:16]}"
    )
    coverage = report.checkpoints
    if coverage is not None and coverage.newest_seq is not None:
        typer.echo(
            f"{coverage.checked} signed checkpoints verified; the newest covers #"
            f"{coverage.newest_seq} ({coverage.unsigned_tail} events after it not yet signed)"
        )
    elif keys.current is None:
        output.note("no identity yet: checkpoints are signed once the daemon has started")
    if kept is not None:
        typer.echo(f"anchor #{kept[0].seq} ({kept[0].ts}) holds: nothing before it changed")


@app.command()
def anchor(ctx: typer.Context, json_out: output.JsonFlag = False) -> None:
    """Print the newest signed checkpoint as an anchor to keep somewhere else.

    Verify against it later with `stockade audit verify --anchor FILE`. While the daemon
    runs, the newest checkpoint may trail the head by up to [audit] checkpoint_every_events
    events or checkpoint_every_s seconds.
    """
    from stockade.audit.anchors import newest_anchor

    kept = newest_anchor(state(ctx).home)
    if json_out:
        output.emit_json(kept)
        return
    output.key_values(
        [(key, str(kept[key])) for key in ("seq", "hash", "ts", "fingerprint", "public_key")]
    )
    output.note("keep it elsewhere: stockade audit anchor --json > FILE")


def read_anchor(path: Path) -> tuple[Checkpoint, PublicKey]:
    """A kept anchor file, parsed; a bad file is a usage error (exit 2)."""
    from stockade.audit.checkpoints import parse_anchor

    try:
        return parse_anchor(json.loads(path.read_bytes()))
    except (OSError, ValueError) as exc:
        raise typer.BadParameter(f"{path}: {exc}", param_hint="--anchor") from None


@app.command()
def purge(
    ctx: typer.Context,
    before: Annotated[
        str, typer.Option("--before", help="Delete events older than this (RFC 3339 or date).")
    ],
    yes: Annotated[bool, typer.Option("--yes", help="Confirm the permanent deletion.")] = False,
    json_out: output.JsonFlag = False,
) -> None:
    """Permanently delete events before a time; what remains still verifies."""
    cutoff = parse_time(before, "--before")
    if not yes:
        raise ConfirmationRequired(
            f"destructive: add --yes to delete every audit event before {cutoff}",
            f"export them first: stockade audit export --jsonl --until {cutoff} --output FILE",
        )
    body = {"before": cutoff, "confirm": True}
    result = state(ctx).client().request("POST", "/audit/purge", body)
    if json_out:
        output.emit_json(result)
    else:
        typer.echo(
            f"purged {result.get('purged')} events before {cutoff}; "
            f"the log now starts at seq {result.get('base_seq')}"
        )


def parse_time(text: str, option: str) -> str:
    """RFC 3339 or a bare date (UTC midnight) -> RFC 3339 in UTC with a ``Z``."""
    try:
        if len(text) == len("YYYY-MM-DD"):
            day = date.fromisoformat(text)
            moment = datetime(day.year, day.month, day.day, tzinfo=UTC)
        else:
            moment = datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(
            f"{text!r} is neither an RFC 3339 time (2025-05-01T12:00:00Z) nor a date (2025-05-01)",
            param_hint=option,
        ) from None
    if moment.tzinfo is None:
        raise typer.BadParameter(
            f"{text!r} has no timezone; add one, e.g. {text}Z", param_hint=option
        )
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _advance(page: dict[str, Any], after: int) -> int:
    """The ``after`` for the next page: the daemon's ``next_after``, else the last seq."""
    next_after = page.get("next_after")
    if isinstance(next_after, int):
        return max(next_after, after)
    events = page.get("events") or []
    return int(events[-1]["seq"]) if events else after


def _write_pages(
    client: Client,
    query: dict[str, str | int],
    handle: IO[str],
    progress: output.ProgressCallback,
    total: int,
) -> int:
    count = 0
    after = 0
    while True:
        page = client.request("GET", "/audit/events", query={**query, "after": after})
        for event in page["events"]:
            handle.write(json.dumps(event, ensure_ascii=False, separators=(",", ":")) + "\n")
        count += len(page["events"])
        following = _advance(page, after)
        if following <= after:
            return count
        after = following
        progress(min(after, total), max(total, after))


@contextmanager
def _private_file(path: Path) -> Iterator[IO[str]]:
    """Write ``path`` 0600 from the first byte (mkstemp's mode), appearing only once complete."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            yield handle
        os.replace(tmp, path)
    except BaseException:
        if os.path.lexists(tmp):
            os.unlink(tmp)
        raise


def _print_event(event: dict[str, Any], json_out: bool) -> None:
    if json_out:
        output.emit_jsonl(event)
    else:
        output.stdout().print(_event_line(event), soft_wrap=True)


def _event_line(event: dict[str, Any]) -> Text:
    """``#seq  time  kind  session  key=value …`` with the verdict coloured."""
    from rich.text import Text

    line = Text.assemble(
        (f"#{event.get('seq')}", "bold"),
        "  ",
        (str(event.get("ts")), "dim"),
        "  ",
        (str(event.get("kind")), "cyan"),
        "  ",
        (str(event.get("session") or "-"), "magenta"),
    )
    payload = event.get("payload")
    for key, value in payload.items() if isinstance(payload, dict) else ():
        if isinstance(value, dict | list):
            continue
        shown = value if isinstance(value, str) else json.dumps(value)
        if len(shown) > 80:
            shown = shown[:77] + "..."
        line.append(f"  {key}=")
        line.append_text(output.verdict_text(shown) if key == "verdict" else Text(shown))
    return line


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="audit")
