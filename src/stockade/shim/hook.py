"""Read a harness's hook JSON on stdin, ask the daemon, answer in the harness's format.

**Fail closed.** Claude Code, Codex and Gemini CLI all *fail open*: a hook that
crashes, hangs past their timeout or prints garbage lets the tool run. So this module
turns every error of its own into the adapter's safe answer for the event (a deny
before a tool runs, a withheld or replaced output after it): the daemon not running,
a stale or refusing socket, a timeout, a malformed reply, malformed or oversized
stdin, or any unexpected exception. A whole-run deadline (``SIGALRM``) makes sure the
answer comes before the harness's own hook timeout would fire.

**Hold.** When the harness cannot ask a human itself (the adapter says so), a tool
call is sent with ``hold_s``: the remaining deadline minus a margin, so that the
daemon, which may keep the request open until someone runs ``stockade approvals``,
always answers before the shim gives up (``docs/adr/0004``).

Configuration read at run time (never at import):

- ``STOCKADE_HOME``: where the daemon's socket lives (default ``~/.stockade``);
- ``STOCKADE_HOOK_TIMEOUT``: seconds the whole hook may take (default 100, long enough
  to hold a call for an approval; at most 115, below the 120 s hook timeout
  ``stockade install`` writes).

**Agent.** ``stockade hook <harness> --agent NAME`` (written by ``stockade install
<harness> --agent NAME``) sends ``agent`` with every request, so the daemon judges the
install's calls by that agent's capability grants.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time

from stockade.adapters.base import ADAPTERS, ENDPOINTS, dump, load_adapter
from stockade.errors import AdapterError, DaemonUnavailable, StockadeError
from stockade.shim.wire import post_json

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from types import FrameType
    from typing import Any, BinaryIO, TextIO

    from stockade.adapters.base import EventKind, HarnessAdapter, Rendered

MAX_STDIN_BYTES = 10 * 1024 * 1024
DEFAULT_TIMEOUT_S = 100.0
MAX_TIMEOUT_S = 115.0
HOLD_MARGIN_S = 5.0
START_HINT = "start the daemon with `stockade serve` (check it with `stockade doctor`), then retry"
_AGENT_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789._-")


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
    """Run the hook for ``argv == [harness]`` or ``[harness, "--agent", NAME]``; returns the
    process exit code."""
    env = os.environ if env is None else env
    out = stdout if stdout is not None else sys.stdout.buffer
    err = stderr if stderr is not None else sys.stderr
    agent = argv[2] if len(argv) == 3 and argv[1] == "--agent" else None
    if len(argv) not in (1, 3) or argv[0] not in ADAPTERS or (len(argv) == 3 and not _agent(agent)):
        given = " ".join(argv) or "(none)"
        message = (
            f"Stockade blocked this call: unknown harness {given[:200]}; valid: "
            f"{', '.join(ADAPTERS)} (then optionally --agent NAME). "
            "Fix the hook command with `stockade install <harness>`"
        )
        err.write(message + "\n")
        _write(out, dump({"decision": "deny", "reason": message}))
        return 2
    adapter = load_adapter(argv[0])
    data, code = answer(adapter, stdin if stdin is not None else sys.stdin.buffer, env, agent)
    _write(out, data)
    return code


def answer(
    adapter: HarnessAdapter, stdin: BinaryIO, env: Mapping[str, str], agent: str | None = None
) -> Rendered:
    """The harness's answer to the event on ``stdin``; never raises (except to exit).

    ``agent`` is sent with the request: the daemon judges the call by its grants.
    """
    started = time.monotonic()
    kind: EventKind = "pre_tool"
    raw: Mapping[str, Any] = {}
    timeout = _timeout(env)
    try:
        previous = _arm(timeout)
        try:
            raw = _read(stdin)
            found = adapter.event_kind(raw)
            if found is None:
                return b"", 0
            kind = found
            body = adapter.request(kind, raw, env)
            if agent is not None:
                body["agent"] = agent
            if kind == "pre_tool" and not adapter.can_ask(env):
                hold = int(timeout - (time.monotonic() - started) - HOLD_MARGIN_S)
                if hold >= 1:
                    body["hold_s"] = hold
            reply = post_json(socket_path(env), ENDPOINTS[kind], body, timeout)
            return adapter.render(kind, raw, _mapping(reply))
        finally:  # disarmed before any answer is rendered, so the alarm cannot cut it short
            _disarm(previous)
    except BaseException as exc:  # every failure, even an interrupt, must be safe: never open
        return adapter.render_failure(kind, raw, _message(exc, kind, timeout))


def _agent(name: str | None) -> bool:
    """An agent name as ``stockade agents add`` accepts it (``[a-z0-9][a-z0-9._-]{0,63}``)."""
    return (
        name is not None
        and 0 < len(name) <= 64
        and name[0] not in "._-"
        and all(char in _AGENT_CHARS for char in name)
    )


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


_OUTCOME = {
    "pre_tool": "Stockade blocked this tool call",
    "prompt": "Stockade blocked this prompt",
    "tool_result": "Stockade could not inspect this tool output, so it is withheld",
    "session": "Stockade could not record this session event",
}


def _message(exc: BaseException, kind: EventKind, timeout: float) -> str:
    outcome = _OUTCOME[kind]
    if isinstance(exc, DaemonUnavailable):
        return f"{outcome}: {exc.message}. To fix: {START_HINT}"
    if isinstance(exc, HookTimeout):
        return f"{outcome}: the daemon did not answer within {timeout:g} s. To fix: {START_HINT}"
    if isinstance(exc, StockadeError):
        return f"{outcome}: {exc.message}. To fix: {exc.hint or START_HINT}"
    return f"{outcome}: the hook failed unexpectedly ({type(exc).__name__}). To fix: {START_HINT}"


def _timeout(env: Mapping[str, str]) -> float:
    """The whole-run deadline: at most :data:`MAX_TIMEOUT_S`, whatever is configured.

    A longer one would let the harness's own 120 s hook timeout fire first on a held
    call, and every harness runs the tool when its hook times out.
    """
    try:
        value = float(env.get("STOCKADE_HOOK_TIMEOUT", ""))
    except ValueError:
        return DEFAULT_TIMEOUT_S
    return min(value, MAX_TIMEOUT_S) if value > 0 else DEFAULT_TIMEOUT_S


def _expire(signum: int, frame: FrameType | None) -> None:
    raise HookTimeout


def _arm(seconds: float) -> Any:
    """Raise :class:`HookTimeout` in the main thread after ``seconds``; returns the old handler.

    Outside the main thread (an embedding caller) nothing is armed and the socket
    timeout remains; ``False`` marks that for :func:`_disarm`.
    """
    try:
        previous = signal.signal(signal.SIGALRM, _expire)
    except ValueError:
        return False
    signal.setitimer(signal.ITIMER_REAL, seconds)
    return previous


def _disarm(previous: Any) -> None:
    if previous is False:
        return
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
