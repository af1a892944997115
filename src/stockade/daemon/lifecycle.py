"""Start, run and stop the daemon: the one blocking entry point behind ``stockade serve``.

Startup refuses rather than guesses: an unsafe home, an invalid configuration or a
live daemon on the socket each stop it with an error that says what to do. An
exclusive ``flock`` on ``daemon.lock``, held for the daemon's whole life, closes
the race of two daemons starting at once; a socket left by a crashed daemon is
removed, a live one never.

Signals belong to this module, not to uvicorn: uvicorn's own handlers re-raise the
signal once it has stopped, which would kill the process before the socket, pid
file and audit store are cleaned up. SIGTERM/SIGINT drain in-flight requests and
stop (a second SIGINT forces it), and calls held for a human's approval are denied
at once rather than waited for; SIGHUP reloads the configuration like ``POST /reload``.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import signal
import socket
import sys
from collections.abc import Generator, Iterator

import uvicorn
import uvloop

from stockade import __version__
from stockade.audit import AuditEvent, SqliteAuditStore
from stockade.client import Client
from stockade.daemon.app import DaemonContext, create_app
from stockade.daemon.limits import Limits
from stockade.daemon.notify import Notifier
from stockade.daemon.pipeline import Pipeline, restore_session_taints
from stockade.daemon.rotation import checkpointer, now
from stockade.daemon.transport import bind_unix_socket, is_live, remove_socket
from stockade.errors import DaemonAlreadyRunning, StockadeError
from stockade.home import Home, atomic_write
from stockade.identity import IdentityFiles, SigningKey
from stockade.redact import Redactor
from stockade.service import DecisionService

logger = logging.getLogger(__name__)

KEEP_ALIVE_S = 15
GRACEFUL_SHUTDOWN_S = 10
_STOP_HINT = "stop it with `stockade stop`, or point STOCKADE_HOME at another home"


def serve(home: Home, *, log_level: str = "info", limits: Limits | None = None) -> int:
    """Run the daemon on ``home`` until it is told to stop; returns the exit code.

    Raises :class:`~stockade.errors.UnsafeHomeError`, :class:`~stockade.errors.ConfigError`
    or :class:`~stockade.errors.DaemonAlreadyRunning` instead of starting.
    """
    logging.basicConfig(
        level=log_level.upper(),
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    home.ensure()
    home.check_safe()
    with _exclusive(home):
        _clear_socket(home)
        service = DecisionService.load(home)
        key = IdentityFiles(home).load_or_create(now())  # refuses a key others can read
        uvloop.run(_run(home, service, limits or Limits(), log_level, key))
    return 0


@contextlib.contextmanager
def _exclusive(home: Home) -> Iterator[None]:
    try:
        fd = home.lock_exclusive()
    except BlockingIOError:
        raise DaemonAlreadyRunning(
            f"another Stockade daemon (pid {_running_pid(home)}) runs on {home.root}",
            _STOP_HINT,
        ) from None
    try:
        yield
    finally:
        os.close(fd)


def _clear_socket(home: Home) -> None:
    """Refuse a live socket; remove a stale one left by a daemon that died."""
    path = home.socket_path
    if not os.path.lexists(path):
        return
    if is_live(path):
        raise DaemonAlreadyRunning(
            f"a Stockade daemon (pid {_running_pid(home)}) already answers on {path}", _STOP_HINT
        )
    logger.warning("removing stale socket %s left by a daemon that did not stop cleanly", path)
    remove_socket(path)


def _running_pid(home: Home) -> str:
    """The other daemon's pid, asked over its socket, else read from its pid file."""
    try:
        with Client(home.socket_path, timeout=1.0) as client:
            return str(client.request("GET", "/health")["pid"])
    except (StockadeError, KeyError, TypeError):
        pass
    try:
        return home.pid_path.read_text().strip() or "unknown"
    except OSError:
        return "unknown"


class _Server(uvicorn.Server):
    """uvicorn's server minus its signal handling (see the module docstring)."""

    stop_reason = "unknown"

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield

    def stop(self, reason: str) -> None:
        """Graceful stop; asked twice, stop without waiting for in-flight requests."""
        if self.should_exit:
            self.force_exit = True
        else:
            self.stop_reason = reason
            logger.info("stopping: %s", reason)
        self.should_exit = True


async def _run(
    home: Home, service: DecisionService, limits: Limits, log_level: str, key: SigningKey
) -> None:
    redactor = Redactor(service.redact_patterns)  # fixed for the daemon's lifetime
    signer = checkpointer(key, service.audit_settings)  # signs the head now and then, and last
    store = SqliteAuditStore(home.audit_path, redactor=redactor.redact, checkpointer=signer)
    store.open()
    restored = restore_session_taints(store, service)
    if restored:
        logger.info("restored credential taint of %d session event(s) from the audit log", restored)
    notifier = Notifier(enabled=service.notify, redact=redactor.redact_text)
    pipeline = Pipeline(service, store, redactor, notifier=notifier)
    pid = os.getpid()
    reason = "startup failed"
    try:
        started = {
            "pid": pid,
            "version": __version__,
            "config_hash": service.config_hash,
            "identity": key.fingerprint,
        }
        await store.append(AuditEvent("daemon.started", "daemon", None, started))
        sock = bind_unix_socket(home.socket_path)
        inode = os.lstat(home.socket_path).st_ino
        try:
            atomic_write(home.pid_path, f"{pid}\n".encode())
            reason = await _serve_until_stopped(home, pipeline, limits, log_level, sock)
        finally:
            sock.close()
            remove_socket(home.socket_path, inode)
            _remove_pid_file(home, pid)
    finally:
        try:
            stopped = {"pid": pid, "reason": reason}
            await store.append(AuditEvent("daemon.stopped", "daemon", None, stopped))
        finally:
            store.close()
    logger.info("stopped")


async def _serve_until_stopped(
    home: Home, pipeline: Pipeline, limits: Limits, log_level: str, sock: socket.socket
) -> str:
    """Serve until a signal or ``POST /shutdown``; returns why it stopped."""
    ctx = DaemonContext(home, pipeline, limits, request_stop=lambda: None)
    config = uvicorn.Config(
        create_app(ctx),
        loop="uvloop",
        http="httptools",
        lifespan="on",
        access_log=False,
        server_header=False,
        proxy_headers=False,  # a Unix socket has no proxies; forwarded headers mean nothing
        timeout_keep_alive=KEEP_ALIVE_S,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
        log_config=None,
        log_level=log_level,
    )
    server = _Server(config)

    def stop(reason: str) -> None:
        # Held calls are answered (denied) at once: uvicorn waits for in-flight requests.
        pipeline.approvals.close()
        server.stop(reason)

    # The app is built before the server that will run it, so its stop hook is tied here.
    ctx.request_stop = functools.partial(stop, "shutdown requested over the API")
    loop = asyncio.get_running_loop()
    reloads: asyncio.Queue[None] = asyncio.Queue()
    loop.add_signal_handler(signal.SIGTERM, stop, "SIGTERM")
    loop.add_signal_handler(signal.SIGINT, stop, "SIGINT")
    loop.add_signal_handler(signal.SIGHUP, reloads.put_nowait, None)
    logger.info("serving on %s (pid %d)", home.socket_path, os.getpid())
    try:
        async with asyncio.TaskGroup() as tasks:
            reloader = tasks.create_task(_reload_on_signal(pipeline, reloads))
            await server.serve(sockets=[sock])
            reloader.cancel()
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            loop.remove_signal_handler(signum)
    return server.stop_reason


async def _reload_on_signal(pipeline: Pipeline, requests: asyncio.Queue[None]) -> None:
    """Reload on each SIGHUP; a failure is logged and audited, the daemon keeps serving."""
    while True:
        await requests.get()
        logger.info("SIGHUP: reloading configuration")
        try:
            await pipeline.reload()
        except Exception as exc:  # the running policy stays; never let this stop the server
            logger.error("reload on SIGHUP failed: %s", type(exc).__name__)


def _remove_pid_file(home: Home, pid: int) -> None:
    """Remove the pid file if it is still ours."""
    with contextlib.suppress(OSError):
        if home.pid_path.read_text().strip() == str(pid):
            home.pid_path.unlink()
