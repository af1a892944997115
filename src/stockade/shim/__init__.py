"""``stockade hook <harness>``: the per-tool-call hook executable.

It starts once per tool call, so it imports only the standard library, the small
socket client and one adapter (never typer, rich, pydantic, starlette or the engine),
and it fails closed: see :mod:`stockade.shim.hook`.
"""

from stockade.shim.hook import run

__all__ = ["run"]
