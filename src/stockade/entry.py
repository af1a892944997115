"""The ``stockade`` console script: route ``stockade hook`` around the CLI framework.

``stockade hook <harness>`` runs once per agent tool call, so it must start fast: it
goes straight to the stdlib-only shim, before typer, rich or pydantic are imported.
Every other command goes to the typer application.
"""

from __future__ import annotations

import sys


def main() -> None:
    if sys.argv[1:2] == ["hook"]:
        from stockade.shim import run

        sys.exit(run(sys.argv[2:]))
    from stockade.cli.main import main as cli_main

    cli_main()
