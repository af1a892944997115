"""The ``stockade`` console script: route ``stockade hook`` around the CLI framework.

``stockade hook <harness>`` runs once per agent tool call, so it must start fast: it
goes straight to the stdlib-only shim, before typer, rich or pydantic are imported.
Every other command goes to the typer application.

The shim fails closed, but only once it is imported: a broken install (a module that
no longer imports) would crash the hook, and the harnesses run the tool when a hook
crashes (seen with Gemini CLI). So anything that escapes the shim ends in exit 2 with
the reason on stderr, the one blocking answer Claude Code, Codex and Gemini CLI all
understand without parsing anything.
"""

from __future__ import annotations

import sys

BROKEN = (
    "Stockade blocked this call: its hook could not run ({problem}). "
    "To fix: reinstall Stockade, then check it with `stockade doctor`"
)


def main() -> None:
    if sys.argv[1:2] == ["hook"]:
        sys.exit(hook(sys.argv[2:]))
    from stockade.cli.main import main as cli_main

    cli_main()


def hook(argv: list[str]) -> int:
    """``stockade hook <harness>``; never raises, whatever is broken."""
    try:
        from stockade.shim import run

        return run(argv)
    except BaseException as exc:  # an install too broken to import the shim must still block
        sys.stderr.write(BROKEN.format(problem=type(exc).__name__) + "\n")
        return 2
