"""The Unix socket: bound by us, private from its first instant, never taken over.

The socket is the daemon's only authentication: whoever can connect is trusted as
the user. So it is created under a ``0o177`` umask (there is no moment at which
another user could connect), checked to be ours and ``0600`` after binding, and
only then handed to uvicorn (whose own ``--uds`` would make it ``0666``).
A socket file left by a crashed daemon is removed; a live one is never touched.
"""

from __future__ import annotations

import os
import socket
import stat
from pathlib import Path

from stockade.errors import StockadeError

SOCKET_MODE = 0o600
BACKLOG = 512
# sockaddr_un.sun_path is 108 bytes on Linux (104 on macOS), NUL included.
MAX_SOCKET_PATH = 103


def bind_unix_socket(path: Path) -> socket.socket:
    """A listening, non-blocking socket at ``path``, mode 0600, owned by us."""
    if len(os.fsencode(path)) > MAX_SOCKET_PATH:
        raise StockadeError(
            f"the socket path {path} is longer than {MAX_SOCKET_PATH} bytes",
            "use a shorter STOCKADE_HOME",
        )
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        previous = os.umask(0o177)
        try:
            sock.bind(os.fspath(path))
        finally:
            os.umask(previous)
        os.chmod(path, SOCKET_MODE)
        _verify(path)
        sock.listen(BACKLOG)
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock


def _verify(path: Path) -> None:
    info = os.lstat(path)
    mode = stat.S_IMODE(info.st_mode)
    if not stat.S_ISSOCK(info.st_mode) or info.st_uid != os.geteuid() or mode != SOCKET_MODE:
        os.unlink(path)
        raise StockadeError(
            f"the socket {path} came out with mode {mode:04o}, owner uid {info.st_uid}",
            "make sure nothing else writes to $STOCKADE_HOME, then start again",
        )


def is_live(path: Path) -> bool:
    """Whether something accepts connections on ``path`` (False: missing or stale)."""
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    probe.settimeout(1.0)
    try:
        probe.connect(os.fspath(path))
    except (FileNotFoundError, ConnectionRefusedError):
        return False
    except TimeoutError:
        return True  # a listener too busy to accept is still a listener
    finally:
        probe.close()
    return True


def remove_socket(path: Path, inode: int | None = None) -> None:
    """Unlink ``path`` if it is a socket (and, given ``inode``, still the one we bound)."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return
    if stat.S_ISSOCK(info.st_mode) and (inode is None or info.st_ino == inode):
        os.unlink(path)
