"""Reading a file of the vault directory only when it is private to us.

The key file and ``secrets.json`` are read through ``O_NOFOLLOW`` and checked with
``fstat`` on the descriptor that is read, so that a symlink, a file another user
owns, or one that group or others can open is refused, and no swap between the
check and the read can get around it.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

from stockade.errors import UnsafeHomeError
from stockade.home import stat_problems


def read_private(path: Path, limit: int) -> bytes | None:
    """Up to ``limit`` bytes of ``path``; None when it does not exist."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            refuse_unsafe(path, os.lstat(path))
        raise
    try:
        refuse_unsafe(path, os.fstat(fd))
        with os.fdopen(fd, "rb", closefd=False) as handle:
            return handle.read(limit)
    finally:
        os.close(fd)


def refuse_unsafe(path: Path, info: os.stat_result) -> None:
    """Raise :class:`UnsafeHomeError` naming what is wrong with ``path`` and its fix."""
    problems = stat_problems(path, info)
    if problems:
        raise UnsafeHomeError(
            "refusing to use the vault: "
            + "; ".join(f"{problem.path} {problem.problem}" for problem in problems),
            "; ".join(dict.fromkeys(problem.fix for problem in problems)),
        )
