"""``stockade approvals``: answer the calls the daemon holds for a human (ADR 0004).

A harness that cannot ask a human itself (Codex, Gemini CLI, Claude Code in ``-p``
mode) has its ``ask`` held by the daemon; ``list`` shows them, ``approve`` lets the one
held call run, ``deny`` refuses it. Each answer is single-use: answering again, or
after the hold expired, fails with the approval's current status. The JSON printed is
the API's own (``docs/api.md``), so scripts can poll ``list --json``. ``watch`` follows
the daemon's event stream instead of polling: it prints each call as it is held and again
as it is resolved, and outlives a daemon restart.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import quote

import typer

from stockade.cli import output
from stockade.cli.context import FROM_CLI, state
from stockade.errors import StockadeError

if TYPE_CHECKING:
    from stockade.client import Client

# The input field that says most about a call, per common tool shape; else compact JSON.
_TELLING_KEYS = ("command", "file_path", "path", "url", "pattern", "query", "prompt")
_SUMMARY_CHARS = 60
_SHOWN = (
    "status",
    "harness",
    "session_id",
    "tool_name",
    "action",
    "reason",
    "rule_id",
    "zone",
    "severity",
    "cwd",
    "project_root",
    "created_at",
    "expires_at",
    "resolved_at",
    "resolved_by",
    "learned_rule",
    "input_sha256",
)
_WATCHED_KINDS = "permission.request,permission.resolved"  # what `watch` follows
_HELD_FIELDS = ("action", "input", "reason", "zone", "severity", "expires_at")
_RESOLVED_STYLE = {"approved": "bold green", "always": "bold green", "denied": "bold red"}

app = typer.Typer(help="List, approve and deny calls held for a human.", no_args_is_help=True)

Note = Annotated[
    str | None,
    typer.Option("--note", help="Why, for the audit log (a denial shows it to the agent)."),
]
ApprovalId = Annotated[
    str, typer.Argument(help="The approval's id (from `stockade approvals list`).")
]


@app.command("list")
def list_(
    ctx: typer.Context,
    all_: Annotated[
        bool, typer.Option("--all", help="Include recently resolved and expired approvals.")
    ] = False,
    json_out: output.JsonFlag = False,
) -> None:
    """Show the calls waiting for an answer, oldest first."""
    query = {"status": "all" if all_ else "pending"}
    answer = state(ctx).client().request("GET", "/approvals", query=query)
    if json_out:
        output.emit_json(answer)
        return
    approvals: list[dict[str, Any]] = answer["approvals"]
    if not approvals:
        typer.echo("no approvals" if all_ else "no calls are waiting for approval")
        return
    _table(approvals, with_status=all_)


@app.command()
def show(ctx: typer.Context, approval_id: ApprovalId, json_out: output.JsonFlag = False) -> None:
    """Show one approval: the held call, why it asks, and its status."""
    approval = state(ctx).client().request("GET", _path(approval_id))
    if json_out:
        output.emit_json(approval)
        return
    rows = [(name, _text(approval.get(name))) for name in _SHOWN]
    output.key_values(rows, title=f"approval {approval.get('id')}")
    output.tree("input", approval.get("input") or {})


@app.command()
def approve(
    ctx: typer.Context,
    approval_id: ApprovalId,
    note: Note = None,
    always: Annotated[
        bool,
        typer.Option(
            "--always",
            help="Also allow calls like this one from now on, in this project "
            "(a narrow rule: `stockade rules list`).",
        ),
    ] = False,
    prefix: Annotated[
        str | None,
        typer.Option("--prefix", help="With --always: the command prefix to allow."),
    ] = None,
    path: Annotated[
        str | None, typer.Option("--path", help="With --always: the path glob to allow.")
    ] = None,
    domain: Annotated[
        str | None, typer.Option("--domain", help="With --always: the domain to allow.")
    ] = None,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run",
            help="With --always: show the rules it would record; answer nothing.",
        ),
    ] = False,
    json_out: output.JsonFlag = False,
) -> None:
    """Let the held call run (once, or with --always from now on)."""
    scope = {k: v for k, v in (("command", prefix), ("path", path), ("domain", domain)) if v}
    if (scope or dry_run) and not always:
        raise typer.BadParameter("--prefix, --path, --domain and --dry-run go with --always")
    body: dict[str, Any] = {} if note is None else {"note": note}
    if scope:
        body["scope"] = scope
    client = state(ctx).client()
    if dry_run:
        _preview(client, approval_id, {"scope": scope} if scope else {}, json_out)
        return
    verb = "always" if always else "approve"
    _resolve(client, approval_id, verb, body, json_out)


@app.command()
def deny(
    ctx: typer.Context,
    approval_id: ApprovalId,
    note: Note = None,
    json_out: output.JsonFlag = False,
) -> None:
    """Refuse the held call; the agent is told it was denied."""
    _resolve(
        state(ctx).client(), approval_id, "deny", {} if note is None else {"note": note}, json_out
    )


@app.command()
def watch(ctx: typer.Context, json_out: output.JsonFlag = False) -> None:
    """Print each call as it is held and as it is resolved, until Ctrl-C.

    With --json, one object per line: ``{"event": "held", ...}`` or
    ``{"event": "resolved", "resolution": ..., ...}``.
    """
    client = state(ctx).client()
    head = int(client.request("GET", "/audit/head")["seq"])  # first: nothing falls between
    shown: set[str] = set()

    def show_once(record: dict[str, Any]) -> None:
        if record["event"] == "held":
            if record["approval_id"] in shown:
                return
            shown.add(record["approval_id"])
        _print_watched(record, json_out)

    for approval in client.request("GET", "/approvals")["approvals"]:
        show_once(_held_from_approval(approval))

    def lost(problem: StockadeError) -> None:
        output.note(f"waiting for the daemon ({problem.message}); Ctrl-C to stop")

    try:
        for event in client.follow(after=head, kinds=_WATCHED_KINDS, on_lost=lost):
            record = _watched(event)
            if record is not None:
                show_once(record)
    except KeyboardInterrupt:
        return


def _watched(event: dict[str, Any]) -> dict[str, Any] | None:
    """A held or resolved record from a ``permission.*`` event; None for other kinds."""
    kind, payload = event["kind"], event["payload"]
    ref = {key: payload.get(key) for key in ("approval_id", "harness", "session", "tool")}
    if kind == "permission.request":
        call = {key: payload.get(key) for key in _HELD_FIELDS}
        return {"event": "held", **ref, **call, "seq": event["seq"]}
    if kind != "permission.resolved":
        return None
    # A human's answer names who gave it; an expiry says why.
    by = payload.get("by") or payload.get("why")
    resolution = payload.get("resolution")
    return {"event": "resolved", **ref, "resolution": resolution, "by": by, "seq": event["seq"]}


def _held_from_approval(approval: dict[str, Any]) -> dict[str, Any]:
    """The held record of an approval already pending when ``watch`` starts."""
    return {
        "event": "held",
        "approval_id": approval["id"],
        "harness": approval["harness"],
        "session": approval["session_id"],
        "tool": approval["tool_name"],
        **{key: approval.get(key) for key in _HELD_FIELDS},
        "seq": None,
    }


def _print_watched(record: dict[str, Any], json_out: bool) -> None:
    if json_out:
        output.emit_jsonl(record)
        return
    from rich.text import Text

    word = "held" if record["event"] == "held" else str(record["resolution"])
    line = Text.assemble(
        (f"{word:<9}", "bold yellow" if word == "held" else _RESOLVED_STYLE.get(word, "bold")),
        (str(record["approval_id"]), "bold"),
        "  ",
        (f"{record['harness']}  {record['session']}", "magenta"),
        "  ",
        str(record["tool"]),
    )
    if record["event"] == "held":
        line.append(f"  {summary(record['input'])}")
        line.append(f"  ({record['reason']})", style="dim")
    else:
        line.append(f"  by {record['by']}", style="dim")
    output.stdout().print(line, soft_wrap=True)


def _resolve(
    client: Client, approval_id: str, verb: str, body: dict[str, Any], json_out: bool
) -> None:
    approval = client.request("POST", f"{_path(approval_id)}/{verb}", body, headers=FROM_CLI)
    if json_out:
        output.emit_json(approval)
        return
    done = "denied" if verb == "deny" else "approved"
    typer.echo(f"{done} {approval['id']}: {approval['tool_name']} {summary(approval['input'])}")
    if approval.get("learned_rule"):
        typer.echo(f"learned rule {approval['learned_rule']} (see `stockade rules list`)")


def _preview(client: Client, approval_id: str, body: dict[str, Any], json_out: bool) -> None:
    """The daemon's own account of the rules an "always" would record (it records none)."""
    from stockade.cli.rules import condition

    path = f"{_path(approval_id)}/always/preview"
    preview = client.request("POST", path, body, headers=FROM_CLI)
    if json_out:
        output.emit_json(preview)
        return
    typer.echo(f"--always would record, for {preview['tool_name']} in {preview['project_root']}:")
    for rule in preview["rules"]:
        typer.echo(f"  allow {condition(rule)}")
    output.note(f"dry run: nothing recorded; approval {preview['approval_id']} is still waiting")


def _path(approval_id: str) -> str:
    return f"/approvals/{quote(approval_id, safe='')}"


def _table(approvals: list[dict[str, Any]], *, with_status: bool) -> None:
    from rich.table import Table
    from rich.text import Text

    table = Table(box=None, pad_edge=False, header_style="bold")
    short = ["id", *(["status"] if with_status else []), "age", "harness"]
    for column in short:
        table.add_column(column, no_wrap=True)  # an id must stay whole to be typed
    for column in ("session", "tool", "input", "reason"):
        table.add_column(column, overflow="fold")
    now = datetime.now(UTC)
    for approval in approvals:
        cells = [approval["id"]]
        if with_status:
            cells.append(approval["status"])
        cells += [
            _age(approval["created_at"], now),
            approval["harness"],
            approval["session_id"],
            approval["tool_name"],
            summary(approval["input"]),
            approval["reason"],
        ]
        table.add_row(*(Text(str(cell)) for cell in cells))
    output.stdout().print(table)


def summary(tool_input: Any) -> str:
    """One short line that says what a call does: its command, path or URL, else its JSON."""
    value: Any = tool_input
    if isinstance(tool_input, dict):
        value = next((tool_input[k] for k in _TELLING_KEYS if k in tool_input), tool_input)
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    text = " ".join(text.split())
    return text if len(text) <= _SUMMARY_CHARS else text[: _SUMMARY_CHARS - 1] + "…"


def _age(created_at: str, now: datetime) -> str:
    seconds = int((now - datetime.fromisoformat(created_at)).total_seconds())
    if seconds < 120:
        return f"{max(seconds, 0)}s"
    if seconds < 7200:
        return f"{seconds // 60}m"
    return f"{seconds // 3600}h"


def _text(value: Any) -> str:
    return "-" if value is None else str(value)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="approvals")
