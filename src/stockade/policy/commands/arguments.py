"""A command's arguments as the handlers read them: options, operands and paths.

Paths are expanded (``~``, ``$HOME``) and joined to the directory an earlier ``cd``
entered; :func:`is_vital` names the places too important to delete or ``chmod -R``.
"""

from __future__ import annotations

import functools
import posixpath
import re
from collections.abc import Callable, Iterable

from stockade.policy.commands.results import Result

_VITAL = frozenset(
    "/ /home /Users /etc /usr /var /bin /sbin /boot /lib /lib32 /lib64 /libx32 /opt /root /sys "
    "/proc /dev /System /Library /Applications /private /srv /snap /usr/bin /usr/sbin /usr/lib "
    "/usr/local /var/lib /private/etc /private/var".split()
)
_GLOB_ONLY = re.compile(r"[*?.\[\]!^{},]*")
DEVICE = re.compile(
    r"/dev/(?:[sh]d[a-z]|x?vd[a-z]|nvme|mmcblk|r?disk\d|md\d|dm-|mapper/|loop|mem$|kmem$|port$)"
    r"|/(?:private/)?etc/(?:passwd|shadow|sudoers|group|gshadow)"
)
HARMLESS_DEV = re.compile(r"/dev/(?:null|zero|u?random|std(?:in|out|err)|tty|fd/|pts/)")


def expand(arg: str, home: str) -> str:
    if arg[:1] not in ("~", "$"):
        return arg
    if arg == "~" or arg.startswith("~/"):
        return home + arg[1:]
    for var in ("$HOME", "${HOME}"):
        if arg == var or arg.startswith(var + "/"):
            return home + arg[len(var) :]
    return arg


def is_vital(path: str, home: str) -> bool:
    """Root, the home directory, a top-level system directory, or everything inside one."""
    if not path.startswith("/"):
        return False
    path = "/" + posixpath.normpath(path).lstrip("/")
    head, _, last = path.rpartition("/")
    if _GLOB_ONLY.fullmatch(last):
        path = head or "/"  # /usr/* and ~/.* are as bad as /usr and ~
    return path in _VITAL or path == home or bool(re.fullmatch(r"/lib[^/]*", path))


def describe(path: str, home: str) -> str:
    return "the home directory" if path.rstrip("/*") == home else path


class Opts:
    __slots__ = ("flags", "longs", "operands", "values")

    def __init__(self, args: Iterable[str], short_values: str = "") -> None:
        """Split ``args`` into short flags, long options, option values and operands."""
        self.flags, self.longs = "", list[str]()
        self.values: dict[str, str] = {}
        self.operands: list[str] = []
        it = iter(args)
        for arg in it:
            if arg == "--":
                self.operands += it
            elif arg.startswith("--"):
                key, eq, value = arg.partition("=")
                self.longs.append(key)
                if eq:
                    self.values[key] = value
            elif arg.startswith("-") and len(arg) > 1:
                flags, key, attached = _short_cluster(arg, short_values)
                self.flags += flags
                if key:
                    self.values[key] = attached or next(it, "")
            else:
                self.operands.append(arg)

    def has(self, *names: str) -> bool:
        return any(n[1:] in self.flags if len(n) == 2 else n in self.longs for n in names)


@functools.lru_cache(maxsize=4096)
def _short_cluster(arg: str, short_values: str) -> tuple[str, str, str]:
    """``-xvf`` -> flags ``xv``, option ``-f`` taking a value, and the value if attached."""
    for k, ch in enumerate(arg[1:], 2):
        if ch in short_values:
            return arg[1 : k - 1], "-" + ch, arg[k:]
    return arg[1:], "", ""


class Cmd:
    __slots__ = ("args", "cwd", "home", "name")

    def __init__(self, name: str, args: tuple[str, ...], home: str, cwd: str = "") -> None:
        self.name, self.args, self.home, self.cwd = name, args, home, cwd

    def path(self, arg: str) -> str:
        """Expanded; a relative path is joined to the directory an earlier ``cd`` entered."""
        path = expand(arg, self.home)
        return posixpath.join(self.cwd, path) if self.cwd else path

    def paths(self, args: Iterable[str]) -> list[str]:
        """Each path as an earlier ``cd`` would place it *and*, when a ``cd`` is in effect,
        as written: the ``cd`` may have run in a subshell, so both readings are judged."""
        out: list[str] = []
        for arg in args:
            if arg == "-":
                continue
            joined = self.path(arg)
            out.append(joined)
            written = expand(arg, self.home)
            if written != joined:
                out.append(written)
        return out

    def opts(self, short_values: str = "") -> Opts:
        return Opts(self.args, short_values)


Handler = Callable[[Cmd], Result]
