"""Run one program for ``POST /secrets/exec``: no shell, bounded output, bounded time.

The program is the daemon's child: it gets the daemon's environment plus the resolved
variables, ``/dev/null`` as stdin, and its own process group, so that a timeout kills
it and everything it started. Each output stream keeps its first :data:`MAX_OUTPUT_BYTES`
(the rest is read and dropped, so the child never blocks on a full pipe).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Mapping
from dataclasses import dataclass

from stockade.vault.format import VaultError

MAX_OUTPUT_BYTES = 1024 * 1024
_CHUNK = 64 * 1024


class CannotStart(VaultError):
    """The program does not exist or cannot be executed."""


@dataclass(frozen=True, slots=True)
class Finished:
    """What became of the program: exit code (negative: killed by that signal), output."""

    exit_code: int
    stdout: bytes
    stderr: bytes
    truncated: bool
    timed_out: bool


async def run(
    argv: list[str], env: Mapping[str, str], cwd: str | None, timeout_s: float
) -> Finished:
    """Run ``argv`` to its end or to ``timeout_s``; a program that cannot start is a
    :class:`CannotStart` naming it (never its environment)."""
    try:
        proc = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env={**os.environ, **env},
            cwd=cwd,
            start_new_session=True,
        )
    except OSError as exc:
        raise CannotStart(
            f"cannot run {argv[0]!r}: {exc.strerror or type(exc).__name__}",
            "give the program's path, or a name on the daemon's PATH",
        ) from None
    assert proc.stdout is not None and proc.stderr is not None
    try:
        async with asyncio.timeout(timeout_s):
            async with asyncio.TaskGroup() as tasks:
                out = tasks.create_task(_drain(proc.stdout))
                err = tasks.create_task(_drain(proc.stderr))
                await proc.wait()
    except TimeoutError:  # what it printed is dropped with it
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        await proc.wait()
        return Finished(proc.returncode or -signal.SIGKILL, b"", b"", False, timed_out=True)
    finally:
        if proc.returncode is None:  # cancelled: the program must not outlive the request
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
    (stdout, cut_out), (stderr, cut_err) = out.result(), err.result()
    code = proc.returncode if proc.returncode is not None else -1
    return Finished(code, stdout, stderr, cut_out or cut_err, timed_out=False)


async def _drain(stream: asyncio.StreamReader) -> tuple[bytes, bool]:
    """The first :data:`MAX_OUTPUT_BYTES` of ``stream`` and whether more was dropped."""
    kept = bytearray()
    dropped = False
    while chunk := await stream.read(_CHUNK):
        room = MAX_OUTPUT_BYTES - len(kept)
        kept += chunk[:room]
        dropped = dropped or len(chunk) > room
    return bytes(kept), dropped
