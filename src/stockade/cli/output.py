"""Everything the CLI prints goes through here: JSON for machines, rich text for people.

Two rules hold for every command. With ``--json`` stdout carries exactly one JSON
document (or JSON Lines when streaming) and nothing else; notes, progress bars and
errors go to stderr. And a :class:`StockadeError` is rendered here and only here:
``error: <message>`` in red, ``hint: <hint>``, then the error's own exit code, never
a traceback. Rich is imported lazily so that ``stockade --help`` stays fast.
"""

from __future__ import annotations

import json
import sys
import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, Any

import typer

from stockade.errors import StockadeError

if TYPE_CHECKING:
    from rich.console import Console, RenderableType
    from rich.text import Text

JsonFlag = Annotated[
    bool, typer.Option("--json", help="Print machine-readable JSON on stdout (and nothing else).")
]

ProgressCallback = Callable[[int, int], None]

_VERDICT_STYLES = {"allow": "bold green", "ask": "bold yellow", "deny": "bold red"}
_STATUS_STYLES = {"ok": "green", "warn": "yellow", "fail": "bold red"}


def stdout() -> Console:
    """A console on the current stdout (created per call: tests swap ``sys.stdout``)."""
    from rich.console import Console

    return Console(highlight=False)


def stderr() -> Console:
    from rich.console import Console

    return Console(stderr=True, highlight=False)


def emit_json(data: Any) -> None:
    """One pretty JSON document on stdout; plain ``json`` so no colour codes leak into it."""
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def emit_jsonl(data: Any) -> None:
    """One compact JSON object per line, flushed at once (``audit tail -f --json``)."""
    sys.stdout.write(json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n")
    sys.stdout.flush()


def note(message: str) -> None:
    """A remark for the person at the terminal; on stderr so it never pollutes data."""
    from rich.text import Text

    stderr().print(Text(message, style="dim"), soft_wrap=True)


def render_error(exc: StockadeError) -> None:
    """``error: …`` / ``hint: …`` (and any API validation details) on stderr."""
    from rich.text import Text

    from stockade.client import ApiError

    console = stderr()
    console.print(Text.assemble(("error: ", "bold red"), (exc.message, "red")), soft_wrap=True)
    for detail in exc.details if isinstance(exc, ApiError) else ():
        text = detail if isinstance(detail, str) else json.dumps(detail, ensure_ascii=False)
        console.print(Text(f"  - {text}"), soft_wrap=True)
    if exc.hint:
        console.print(Text.assemble(("hint: ", "bold"), exc.hint), soft_wrap=True)


def render_unexpected(exc: BaseException, verbose: bool) -> None:
    """A bug: one line, plus the traceback only when asked for it."""
    from rich.text import Text

    console = stderr()
    if verbose:
        sys.stderr.write("".join(traceback.format_exception(exc)))
    line = f"unexpected {type(exc).__name__}: {exc}"
    console.print(Text.assemble(("error: ", "bold red"), (line, "red")), soft_wrap=True)
    if not verbose:
        console.print(Text("re-run with --verbose for the traceback", style="dim"))


def verdict_text(verdict: str) -> Text:
    from rich.text import Text

    return Text(verdict, style=_VERDICT_STYLES.get(verdict, "bold"))


def status_text(status: str) -> Text:
    from rich.text import Text

    return Text(status, style=_STATUS_STYLES.get(status, "bold"))


def key_values(rows: Sequence[tuple[str, RenderableType]], title: str | None = None) -> None:
    """An aligned two-column listing, labels dimmed; values are never parsed as markup."""
    from rich.table import Table
    from rich.text import Text

    table = Table.grid(padding=(0, 2))
    table.add_column(style="dim", no_wrap=True)
    table.add_column(overflow="fold")
    for label, value in rows:
        table.add_row(label, Text(value) if isinstance(value, str) else value)
    console = stdout()
    if title:
        console.print(Text(title, style="bold"))
    console.print(table)


def tree(title: str, data: Any) -> None:
    """A nested dict/list as a rich tree: readable for policies of any shape."""
    from rich.text import Text
    from rich.tree import Tree

    root = Tree(Text(title, style="bold"))
    _grow(root, data)
    stdout().print(root)


def _grow(node: Any, data: Any) -> None:
    from rich.text import Text

    items: Iterator[tuple[str, Any]]
    if isinstance(data, Mapping):
        items = ((str(key), value) for key, value in data.items())
    elif isinstance(data, list):
        items = ((f"[{index}]", value) for index, value in enumerate(data))
    else:
        node.add(Text(_scalar(data)))
        return
    empty = True
    for label, value in items:
        empty = False
        if isinstance(value, Mapping | list) and value:
            _grow(node.add(Text(label, style="cyan")), value)
        else:
            node.add(Text.assemble((label, "cyan"), ": ", _scalar(value)))
    if empty:
        node.add(Text("(empty)", style="dim"))


def _scalar(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


@contextmanager
def progress_bar(description: str, enabled: bool) -> Iterator[ProgressCallback]:
    """A rich progress bar on stderr, or a no-op callback when it would only be noise."""
    if not enabled or not sys.stderr.isatty():
        yield lambda done, total: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=stderr(),
        transient=True,
    ) as bar:
        task = bar.add_task(description, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update
