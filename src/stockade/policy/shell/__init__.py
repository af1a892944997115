"""Split one shell command line into every simple command it would run.

An agent's ``Bash`` call is one string, but the shell may start many programs from it,
and ``ls && rm -rf ~`` must not hide behind ``ls``.  :func:`parse` lexes the string the
way bash does (quotes, escapes, ``$'…'``, here-documents, comments), splits it on every
control operator, looks through groups, loops, ``case`` and function bodies, and unwraps
programs that run other programs: ``$(…)``, backticks and ``<(…)``; ``bash -c``, ``eval``,
``su -c``, ``ssh host CMD``, ``watch``, ``find -exec``, ``xargs``, ``parallel``, ``flock``,
``uv run`` …; text piped or here-doc'ed into a shell; and wrappers such as ``sudo``,
``env``, ``timeout`` or ``nohup``, which are stripped and recorded.  Each level of
nesting is one ``depth``; past ``max_depth`` the parse reports an error, as it does for
anything it cannot lex, and the engine then fails closed.

Nothing is executed or expanded: ``$HOME`` and ``${x}`` stay as written, a command
substitution becomes the :data:`SUBST` marker, and a command *name* built from either is
``dynamic``.  Each nested command records its ``parent`` (an index into
``ParsedCommand.commands``) and ``via``, how the parent runs it:

=========  =====================================================================
``""``     top level
``subst``  its output becomes the parent's arguments: ``$(…)``, backticks, ``<(…)``
``sink``   it reads the parent's output: ``>(…)``
``script`` a string the parent runs as shell code: ``-c``, ``eval``, here-doc, pipe
``argv``   an argument list the parent executes: ``find -exec``, ``xargs``, ``uv run``
``remote`` shell code run on another machine: ``ssh host CMD``
=========  =====================================================================

The package reads in that order: :mod:`.model` (what a parse returns), :mod:`.lexer`
(with :mod:`.tokens` and :mod:`.escapes`), :mod:`.parser` (tokens to commands), and the
unwrapping it relies on: :mod:`.wrappers` and :mod:`.nested`.
"""

from __future__ import annotations

from stockade.policy.shell.escapes import decode_escapes
from stockade.policy.shell.lexer import Lexer
from stockade.policy.shell.model import (
    SHELLS,
    SUBST,
    ParsedCommand,
    Redirect,
    SimpleCommand,
    program_name,
)
from stockade.policy.shell.nested import reads_script_from_stdin
from stockade.policy.shell.parser import parse_tokens
from stockade.policy.shell.tokens import Context

__all__ = [
    "SHELLS",
    "SUBST",
    "ParsedCommand",
    "Redirect",
    "SimpleCommand",
    "decode_escapes",
    "parse",
    "program_name",
    "reads_script_from_stdin",
]


def parse(command: str, *, max_depth: int = 8, max_length: int = 100_000) -> ParsedCommand:
    """Split ``command`` into simple commands; never raises, reports bad input in ``error``."""
    if len(command) > max_length:
        return ParsedCommand((), f"command is longer than {max_length} characters")
    ctx = Context(max_depth)
    nul = command.find("\x00")
    if nul >= 0:
        ctx.fail(f"NUL byte at offset {nul}")
        command = command.replace("\x00", " ")
    try:
        parse_tokens(Lexer(command, 0, ctx).lex(), 0, -1, "", "", ctx)
    except RecursionError:
        ctx.fail("command is nested too deeply")
    return ParsedCommand(tuple(ctx.out), ctx.error)
