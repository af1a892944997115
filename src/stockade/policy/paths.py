"""Resolving and locating paths: the engine's only I/O, kept behind one seam.

An agent names files the way a shell would (``~/x``, ``$HOME/x``, ``../../etc``,
a symlink in the project that points elsewhere), so every rule about paths is
evaluated on the *resolved* path, never on the spelling. Resolution touches the
filesystem (to follow symlinks), so it sits behind :class:`PathResolver`;
everything else in this module is a pure string operation.
"""

from __future__ import annotations

import os
import posixpath
import stat
from functools import lru_cache
from typing import Protocol


class PathResolver(Protocol):
    """Turns a path as an agent spelled it into the path the OS would open."""

    def resolve(self, path: str, cwd: str) -> str:
        """Absolute, normalized, symlinks followed (including a symlink in any parent;
        a non-existent tail is kept lexically). Raises ``ValueError`` on a path that
        cannot be resolved safely (NUL byte, relative ``cwd``)."""
        ...


def expand_home(path: str, home: str) -> str:
    """Expand a leading ``~``, ``$HOME`` or ``${HOME}``, as the shell would.

    Pure string work, so the shell classifier can use it without touching disk;
    ``~user`` is left alone (only :class:`RealPathResolver` looks users up).
    """
    if path[:1] not in ("~", "$"):
        return path
    for prefix in ("~", "${HOME}", "$HOME"):
        if path == prefix:
            return home
        if path.startswith(prefix + "/"):
            return home.rstrip("/") + path[len(prefix) :]
    return path


class RealPathResolver:
    """:class:`PathResolver` on the real filesystem, via ``os.path.realpath``.

    ``realpath`` resolves every component, so a symlinked parent directory is
    followed, a dangling link resolves to its target, and a symlink loop ends
    instead of hanging.

    **Revalidated memo.** A full resolution costs three system calls (~6 µs, most of
    it reading ``/proc``), and an agent names the same cwd and files over and over.
    So an answer is remembered with the identity of the object it reached (device,
    inode, type, change time) and reused only while both the spelling and the
    remembered answer still reach that very object, unchanged (``stat`` calls, which
    follow every symlink again *now*; one when the spelling is its own answer, the
    common case of a canonical path). Swapping a component for a symlink
    elsewhere, renaming, linking or writing the object, or removing the answer's
    path all resolve afresh; a spelling that reaches nothing (a new file, a dangling
    link) is never remembered, nor an answer that changed while it was computed.
    One case is not seen: a directory above the object moved and a symlink left at
    its old name. The answer then names the object by its old path; moving a
    directory there is itself a write the guards judge (README, security model).
    """

    __slots__ = ("_home", "_memo")

    def __init__(self, home: str) -> None:
        """``home`` is the daemon user's home, used for ``~`` and ``$HOME``."""
        if not posixpath.isabs(home) or "\0" in home:
            raise ValueError(f"home must be an absolute path, got {home!r}")
        self._home = home
        self._memo: dict[str, tuple[str, Identity]] = {}

    def resolve(self, path: str, cwd: str) -> str:
        if "\0" in path or "\0" in cwd:
            # The OS would truncate at the NUL and open something else than we checked.
            raise ValueError("path contains a NUL byte")
        if not path:
            raise ValueError("path is empty")
        if cwd[:1] != "/":
            # A relative cwd would make the answer depend on the daemon's own cwd.
            raise ValueError(f"cwd must be absolute, got {cwd!r}")
        expanded = expand_home(path, self._home)
        if expanded.startswith("~"):
            expanded = os.path.expanduser(expanded)
        return self._revalidated(posixpath.join(cwd, expanded))

    def _revalidated(self, spelled: str) -> str:
        now = _identity(spelled)
        if now is not None:
            return self._remembered(spelled, now)
        # A new name: resolve its directory (remembered) and keep the name, exactly as
        # realpath does for a name that does not exist, unless it is a dangling link.
        head, name = posixpath.split(spelled)
        if name not in ("", ".", ".."):
            parent = _identity(head)
            if parent is not None and not os.path.lexists(spelled):
                return posixpath.join(self._remembered(head, parent), name)
        return _realpath(spelled)

    def _remembered(self, spelled: str, now: Identity) -> str:
        known = self._memo.get(spelled)
        if known is not None and known[1] == now:
            answer = known[0]
            # A spelling that is its own answer was just checked by the stat above.
            if answer == spelled or _identity(answer) == now:
                return answer
        resolved = _realpath(spelled)
        if _identity(resolved) == now:
            if len(self._memo) >= MEMO_SIZE:
                self._memo.clear()
            self._memo[spelled] = (resolved, now)
        return resolved


Identity = tuple[int, int, int, int]


def _identity(path: str) -> Identity | None:
    """What object ``path`` reaches now, following symlinks, and when it last changed."""
    try:
        found = os.stat(path)
    except (OSError, ValueError):
        return None
    return found.st_dev, found.st_ino, stat.S_IFMT(found.st_mode), found.st_ctime_ns


MEMO_SIZE = 4096


_PROC_FD = os.path.isdir("/proc/self/fd")
_O_PATH = getattr(os, "O_PATH", 0)


def _realpath(path: str) -> str:
    """``os.path.realpath``, answered by the kernel in the common cases.

    ``realpath`` walks the path one ``lstat`` at a time in Python, which was half the
    cost of a decision. On Linux one ``open(O_PATH)`` follows every symlink and ``..``
    physically, and ``/proc/self/fd`` names the result. Two cases take that path: the
    path exists, or it is a new name in an existing directory (writing a new file).
    Everything else (dangling links, loops, missing directories) is left to
    ``realpath`` itself, so the answer is always exactly ``realpath``'s.
    """
    if _PROC_FD and _O_PATH:
        resolved = _kernel_resolve(path)
        if resolved is not None:
            return resolved
        head, name = posixpath.split(path)
        if name not in ("", ".", "..") and not os.path.lexists(path):
            parent = _kernel_resolve(head)
            if parent is not None:
                return posixpath.join(parent, name)
    return os.path.realpath(path)


def _kernel_resolve(path: str) -> str | None:
    try:
        fd = os.open(path, _O_PATH | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        return os.readlink(f"/proc/self/fd/{fd}")
    finally:
        os.close(fd)


def is_within(path: str, root: str) -> bool:
    """Whether ``path`` is ``root`` or below it, by whole components.

    Both must be absolute and already resolved; ``/a/bc`` is not within ``/a/b``.
    Relative input is a caller bug and raises rather than guessing.
    """
    if path[:1] != "/" or root[:1] != "/":
        raise ValueError(f"is_within needs absolute paths, got {path!r} and {root!r}")
    root = root.rstrip("/")
    path = path.rstrip("/")
    return path == root or path.startswith(root + "/")


_AGENT_CONFIG_DIRS = frozenset({".claude", ".codex", ".gemini"})
_STOCKADE_FILES = frozenset({".stockade.toml", ".stockadeignore"})
_AGENT_CONFIG_HOME_FILES = (".claude.json",)
_SHELL_STARTUP_FILES = (
    ".bashrc",
    ".bash_profile",
    ".bash_login",
    ".profile",
    ".zshrc",
    ".zshenv",
    ".zprofile",
    ".zlogin",
)


@lru_cache(maxsize=16)
def _home_targets(
    home: str, stockade_home: str
) -> tuple[dict[str, str], tuple[tuple[str, str], ...]]:
    """Protected files (exact) and trees under the user's home, folded, computed once."""
    home_f = posixpath.normpath(home).casefold()
    exact = {
        posixpath.join(
            home_f, name
        ): f"agent configuration (~/{name}) cannot be changed by an agent"
        for name in _AGENT_CONFIG_HOME_FILES
    }
    for name in _SHELL_STARTUP_FILES:
        exact[posixpath.join(home_f, name)] = (
            f"shell startup file (~/{name}) runs code outside the agent's view"
        )
    trees = (
        (
            posixpath.normpath(stockade_home).casefold(),
            "the Stockade home cannot be changed by an agent",
        ),
        (
            posixpath.join(home_f, ".config", "stockade"),
            "Stockade configuration cannot be changed by an agent",
        ),
    )
    return exact, trees


def protected_reason(path: str, *, home: str, stockade_home: str) -> str | None:
    """Why a write to ``path`` must be denied, or ``None`` when nothing here objects.

    Writes to an agent's own configuration, to Stockade's policy, or to code that
    runs outside the agent's view (shell startup files, git hooks) would let an
    agent switch its guard off or persist past it. All three arguments must be
    absolute and resolved. Names compare case-insensitively because macOS and
    Windows filesystems do: ``.CLAUDE/settings.json`` is ``.claude/settings.json``
    there, and over-protecting on Linux costs nothing.
    """
    folded = posixpath.normpath(path).casefold()
    parts = folded.split("/")
    for part in parts:
        if part in _AGENT_CONFIG_DIRS:
            return f"agent configuration ({part}) cannot be changed by an agent"
        if part in _STOCKADE_FILES:
            return f"Stockade policy ({part}) cannot be changed by an agent"
    exact, trees = _home_targets(home, stockade_home)
    reason = exact.get(folded)
    if reason is not None:
        return reason
    for tree, why in trees:
        if folded == tree or folded.startswith(tree + "/"):
            return why
    for index in range(len(parts) - 1):
        if parts[index] != ".git":
            continue
        if parts[index + 1] == "hooks":
            return "git hooks run code outside the agent's view"
        if parts[index + 1] == "config" and index + 2 == len(parts):
            return "git config can run code outside the agent's view (core.hooksPath, fsmonitor)"
    return None
