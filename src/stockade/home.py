"""``$STOCKADE_HOME``: where everything Stockade owns lives, and why it must stay private.

Anyone who can write the home can change policy or forge a socket; anyone who can
read it can read the audit log. So the directory is 0700, every file 0600, every
write atomic, and the daemon refuses to start when the home is a symlink, owned
by someone else, or open to group or world.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from stockade.errors import UnsafeHomeError

DIR_MODE = 0o700
FILE_MODE = 0o600


@dataclass(frozen=True, slots=True)
class HomeProblem:
    """One thing wrong with the home, and the command that repairs it."""

    path: Path
    problem: str
    fix: str
    fixable: bool


@dataclass(frozen=True, slots=True)
class Home:
    """The layout of one ``$STOCKADE_HOME``."""

    root: Path

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Home:
        env = os.environ if env is None else env
        configured = env.get("STOCKADE_HOME")
        root = Path(configured).expanduser() if configured else Path.home() / ".stockade"
        return cls(Path(os.path.abspath(root)))

    @property
    def socket_path(self) -> Path:
        return self.root / "stockade.sock"

    @property
    def config_path(self) -> Path:
        return self.root / "stockade.toml"

    @property
    def ignore_path(self) -> Path:
        return self.root / ".stockadeignore"

    @property
    def audit_path(self) -> Path:
        return self.root / "audit.db"

    @property
    def trust_path(self) -> Path:
        return self.root / "trusted.json"

    @property
    def rules_path(self) -> Path:
        """Allow rules learned from "always" answers (``stockade rules``)."""
        return self.root / "rules.json"

    @property
    def pid_path(self) -> Path:
        return self.root / "stockade.pid"

    @property
    def log_path(self) -> Path:
        return self.root / "stockade.log"

    def ensure(self) -> None:
        """Create the home 0700 if it does not exist; never loosens an existing one."""
        if not os.path.lexists(self.root):
            self.root.parent.mkdir(parents=True, exist_ok=True)
            os.mkdir(self.root, DIR_MODE)

    def problems(self) -> list[HomeProblem]:
        """Everything that makes this home unsafe to run from (empty when safe)."""
        found: list[HomeProblem] = []
        root = self.root
        try:
            info = os.lstat(root)
        except FileNotFoundError:
            return found
        if stat.S_ISLNK(info.st_mode):
            target = os.readlink(root)
            return [
                HomeProblem(
                    root,
                    f"is a symlink (to {target}); a symlinked home can be redirected",
                    f"replace the link with a real directory, or set STOCKADE_HOME={target}",
                    fixable=False,
                )
            ]
        if not stat.S_ISDIR(info.st_mode):
            return [HomeProblem(root, "is not a directory", f"remove {root}", fixable=False)]
        uid = os.geteuid()
        if info.st_uid != uid:
            found.append(
                HomeProblem(
                    root,
                    f"is owned by uid {info.st_uid}, not by you (uid {uid})",
                    f"use a home you own (set STOCKADE_HOME), or chown {uid} {root}",
                    fixable=False,
                )
            )
            return found
        if stat.S_IMODE(info.st_mode) & 0o077:
            found.append(
                HomeProblem(
                    root,
                    f"has mode {stat.S_IMODE(info.st_mode):04o}; it must be 0700",
                    f"chmod 700 {root}  (or: stockade doctor --fix)",
                    fixable=True,
                )
            )
        with os.scandir(root) as entries:
            for entry in entries:
                found.extend(_entry_problems(Path(entry.path), uid))
        return found

    def check_safe(self) -> None:
        """Raise :class:`UnsafeHomeError` naming every problem and its fix."""
        problems = self.problems()
        if problems:
            lines = [f"{p.path} {p.problem}" for p in problems]
            fixes = [p.fix for p in problems]
            raise UnsafeHomeError(
                "refusing to start: $STOCKADE_HOME is not private\n  " + "\n  ".join(lines),
                "; ".join(dict.fromkeys(fixes)),
            )

    def fix_permissions(self) -> list[str]:
        """Repair what ``chmod`` can repair; returns what was changed."""
        changed: list[str] = []
        for problem in self.problems():
            if not problem.fixable:
                continue
            mode = DIR_MODE if problem.path.is_dir() else FILE_MODE
            os.chmod(problem.path, mode, follow_symlinks=False)
            changed.append(f"chmod {mode:04o} {problem.path}")
        return changed


def _entry_problems(path: Path, uid: int) -> list[HomeProblem]:
    info = os.lstat(path)
    if stat.S_ISLNK(info.st_mode):
        return [HomeProblem(path, "is a symlink inside the home", f"rm {path}", fixable=False)]
    if info.st_uid != uid:
        return [HomeProblem(path, f"is owned by uid {info.st_uid}", f"rm {path}", fixable=False)]
    mode = stat.S_IMODE(info.st_mode)
    wanted = DIR_MODE if stat.S_ISDIR(info.st_mode) else FILE_MODE
    if stat.S_ISSOCK(info.st_mode):
        wanted = FILE_MODE
    if mode & 0o077:
        return [
            HomeProblem(
                path,
                f"has mode {mode:04o}; it must be {wanted:04o}",
                f"chmod {wanted:o} {path}  (or: stockade doctor --fix)",
                fixable=True,
            )
        ]
    return []


def atomic_write(path: Path, data: bytes, mode: int = FILE_MODE) -> None:
    """Write ``data`` to ``path`` so that readers see the old or the new file, never half.

    The temporary file is created with ``mode`` from the start (no window where it is
    readable by others), fsynced, renamed over ``path``, and the directory fsynced.
    """
    directory = path.parent
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.lexists(tmp):
            os.unlink(tmp)
        raise
    dir_fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
