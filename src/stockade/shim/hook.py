"""Read a harness's hook JSON on stdin, ask the daemon, answer in the harness's format.

**Fail closed.** Claude Code, Codex and Gemini CLI all *fail open*: a hook that
crashes, hangs past their timeout or prints garbage lets the tool run. So this module
turns every error of its own into the harness's *blocking* answer: the daemon not
running, a stale or refusing socket, a timeout, a malformed reply, malformed or
oversized stdin, or any unexpected exception. A whole-run deadline (``SIGALRM``)
makes sure the answer comes before the harness's own hook timeout would fire.

Configuration read at run time (never at import):

- ``STOCKADE_HOME``: where the daemon's socket lives (default ``~/.stockade``);
- ``STOCKADE_HOOK_TIMEOUT``: seconds the whole hook may take (default 20, which
  stays below the 120 s hook timeout ``stockade install`` writes).
"""

from __future__ import annotations

import json
import os
import signal
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict
from types import FrameType
from typing import Any, BinaryIO, TextIO

from stockade.adapters.base import ADAPTERS, EventKind, HarnessAdapter, Rendered, dump, load_adapter
from stockade.errors import AdapterError, DaemonUnavailable, StockadeError
from stockade.shim.wire import post_json

MAX_STDIN_BYTES = 10 * 1024 * 1024
DEFAULT_TIMEOUT_S = 20.0
START_HINT = "start the daemon with `stockade serve` (check it with `stockade doctor`), then retry"


class HookTimeout(Exception):
    """The whole-run deadline passed before the daemon answered."""


def run(
    argv: Sequence[str],
    *,
    stdin: BinaryIO | None = None,
    stdout: BinaryIO | None = None,
    stderr: TextIO | None = None,
    env: Mapping[str, str] | None = None,
) -> int:
    """Run the hook for ``argv == [harness]``; returns the process exit code."""
    env = os.environ if env is None else env
    out = stdout if stdout is not None else sys.stdout.buffer
    err = stderr if stderr is not None else sys.stderr
    if len(argv) != 1 or argv[0] not in ADAPTERS:
        given = " ".join(argv) or "(none)"
        message = (
            f"Stockade blocked this call: unknown harness {given}; valid: {', '.join(ADAPTERS)}. "
            "Fix the hook command with `stockade install <harness>`"
        )
        err.write(message + "\n")
        _write(out, dump({"decision": "deny", "reason": message}))
        return 2
    adapter = load_adapter(argv[0])
    data, code = answer(adapter, stdin if stdin is not None else sys.stdin.buffer, env)
    _write(out, data)
    return code


def answer(adapter: HarnessAdapter, stdin: BinaryIO, env: Mapping[str, str]) -> Rendered:
    """The harness's answer to the event on ``stdin``; never raises (except to exit)."""
    kind: EventKind = "pre_tool"
    timeout = _timeout(env)
    try:
        with _deadline(timeout):
            raw = _read(stdin)
            kind = adapter.event_kind(raw)
            if kind == "other":
                return b"", 0
            where = socket_path(env)
            if kind == "pre_tool":
                body = _body(asdict(adapter.parse_pre_tool(raw, env)))
                return adapter.render_decision(_mapping(post_json(where, "/decide", body, timeout)))
            body = _body(asdict(adapter.parse_prompt(raw, env)))
            body.pop("metadata", None)
            reply = post_json(where, "/prompts/screen", body, timeout)
            return adapter.render_prompt(_mapping(reply))
    except BaseException as exc:  # every failure, even an interrupt, must block: never crash open
        return adapter.render_failure(_message(exc, kind, timeout), kind)


def socket_path(env: Mapping[str, str]) -> str:
    """``Home.from_env(env).socket_path``, without importing :mod:`stockade.home`.

    The home module pulls in ``tempfile`` (and with it ``shutil``, ``bz2``, ``lzma``,
    ``random``) for its atomic writes: several milliseconds on every tool call. A unit
    test pins the two to the same answer.
    """
    configured = env.get("STOCKADE_HOME")
    root = (
        os.path.expanduser(configured)
        if configured
        else os.path.join(os.path.expanduser("~"), ".stockade")
    )
    return os.path.join(os.path.abspath(root), "stockade.sock")


def _read(stdin: BinaryIO) -> Mapping[str, Any]:
    data = stdin.read(MAX_STDIN_BYTES + 1)
    if len(data) > MAX_STDIN_BYTES:
        raise AdapterError(f"the hook input is larger than {MAX_STDIN_BYTES // (1024 * 1024)} MiB")
    try:
        raw = json.loads(data)
    except ValueError:
        raise AdapterError("the hook input is not valid JSON") from None
    return _mapping(raw, "the hook input is not a JSON object")


def _mapping(
    value: Any, problem: str = "the daemon answered with something other than a JSON object"
) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise AdapterError(problem)
    return value


def _body(fields: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in fields.items() if value is not None}


def _message(exc: BaseException, kind: EventKind, timeout: float) -> str:
    what = "prompt" if kind == "prompt" else "tool call"
    if isinstance(exc, DaemonUnavailable):
        return f"Stockade blocked this {what}: {exc.message}. To fix: {START_HINT}"
    if isinstance(exc, HookTimeout):
        return (
            f"Stockade blocked this {what}: the daemon did not answer within {timeout:g} s. "
            f"To fix: {START_HINT}"
        )
    if isinstance(exc, StockadeError):
        hint = exc.hint or START_HINT
        return f"Stockade blocked this {what}: {exc.message}. To fix: {hint}"
    return (
        f"Stockade blocked this {what}: the hook failed unexpectedly ({type(exc).__name__}). "
        f"To fix: {START_HINT}"
    )


def _timeout(env: Mapping[str, str]) -> float:
    try:
        value = float(env.get("STOCKADE_HOOK_TIMEOUT", ""))
    except ValueError:
        return DEFAULT_TIMEOUT_S
    return value if 0 < value <= 600 else DEFAULT_TIMEOUT_S


@contextmanager
def _deadline(seconds: float) -> Iterator[None]:
    """Raise :class:`HookTimeout` in the main thread after ``seconds`` (no-op elsewhere)."""

    def expire(signum: int, frame: FrameType | None) -> None:
        raise HookTimeout(f"no answer within {seconds:g} s")

    try:
        previous = signal.signal(signal.SIGALRM, expire)
    except ValueError:  # not the main thread (an embedding caller): the socket timeout remains
        yield
        return
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _write(out: BinaryIO, data: bytes) -> None:
    if not data:
        return
    try:
        out.write(data)
        out.flush()
    except OSError:
        pass  # the harness went away; nothing left to tell it
