"""What a parse returns: the simple commands a line would run, and how to name them.

These are the only types that leave the package; the lexer's words and redirections
(:mod:`.tokens`) never do. They are frozen so that the engine can share and cache them.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

SUBST = "\x00subst\x00"
"""Stands in argv for the output of a command substitution, which cannot be known."""


@dataclass(frozen=True, slots=True)
class Redirect:
    """One redirection: ``op`` as written with its fd digits (``2>>``), ``target`` unquoted."""

    op: str
    target: str


@dataclass(frozen=True, slots=True)
class SimpleCommand:
    """One program the shell would start, with wrappers and ``VAR=val`` prefixes removed."""

    argv: tuple[str, ...]
    redirects: tuple[Redirect, ...] = ()
    wrappers: tuple[str, ...] = ()
    depth: int = 0
    dynamic: bool = False
    pipeline: int = 0
    position: int = 0
    parent: int = -1
    via: str = ""
    function: str = ""  # the shell function whose body holds this command


@dataclass(frozen=True, slots=True)
class ParsedCommand:
    """Every simple command, parents before children; ``error`` means: fail closed."""

    commands: tuple[SimpleCommand, ...]
    error: str | None = None


@functools.lru_cache(maxsize=4096)
def program_name(word: str) -> str:
    """The name a command is known by: ``/usr/bin/RM`` and ``clip.exe`` become ``rm``, ``clip``."""
    name = word.rsplit("/", 1)[-1].lower()
    return name[:-4] if name.endswith(".exe") else name


SHELLS = frozenset({"sh", "bash", "zsh", "dash", "ksh", "mksh", "ash", "yash", "fish", "posh"})
