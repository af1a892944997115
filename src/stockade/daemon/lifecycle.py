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

With a gateway (``[gateway] listen`` or ``serve --http``) a second uvicorn server
serves TCP in the same event loop, over the same pipeline; it is planned (address,
TLS) before anything starts and bound right after the socket, so that an unusable
address stops startup, and it stops with the daemon. ``[gateway]`` is read once, at
start: a reload does not move or reconfigure the listener.
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
from typing import Literal

import uvicorn
import uvloop
from starlette.types import ASGIApp

from stockade import __version__
from stockade.audit import AuditEvent, SqliteAuditStore
from stockade.client import Client
from stockade.config.model import GatewaySettings
from stockade.daemon.app import DaemonContext, create_app
from stockade.daemon.events import EventHub
from stockade.daemon.gateway.app import socket_routes
from stockade.daemon.gateway.auth import Authenticator
from stockade.daemon.gateway.plan import GatewayPlan, authenticator, gateway_app, plan_gateway
from stockade.daemon.gateway.protocol import with_read_timeout
from stockade.daemon.gateway.tls import TlsFiles
from stockade.daemon.limits import Limits
from stockade.daemon.notify import Notifier
from stockade.daemon.pipeline import Pipeline, restore_session_taints, unclosed_holds
from stockade.daemon.rotation import checkpointer, now
from stockade.daemon.transport import bind_unix_socket, is_live, remove_socket
from stockade.errors import DaemonAlreadyRunning, StockadeError
from stockade.home import Home, atomic_write
from stockade.identity import IdentityFiles, SigningKey
from stockade.redact import Redactor
from stockade.redact.logs import redacting_logs
from stockade.service import DecisionService
from stockade.vault.routes import vault_routes
from stockade.vault.service import VaultService

logger = logging.getLogger(__name__)

KEEP_ALIVE_S = 15
GRACEFUL_SHUTDOWN_S = 10
STALLED_S = 1.0  # a stop cuts a connection whose unsent output did not shrink for this long
REDACTION_OFF_KIND = "redaction.disabled"
REDACTION_OFF = {
    "by": "config",
    "setting": "logging.redact",
    "unredacted": ["tool output handed back to the model", "the daemon's log"],
    "still_redacted": ["audit payloads", "API answers", "the control UI", "notifications"],
}
_STOP_HINT = "stop it with `stockade stop`, or point STOCKADE_HOME at another home"


def serve(
    home: Home,
    *,
    log_level: str = "info",
    limits: Limits | None = None,
    http: str | None = None,
) -> int:
    """Run the daemon on ``home`` until it is told to stop; returns the exit code.

    ``http`` (``HOST:PORT``) overrides ``[gateway] listen``. Raises
    :class:`~stockade.errors.UnsafeHomeError`, :class:`~stockade.errors.ConfigError`
    (also for a gateway off loopback without TLS), :class:`~stockade.errors.DaemonAlreadyRunning`
    or :class:`~stockade.errors.StockadeError` (the gateway's address is unusable)
    instead of starting.
    """
    logging.basicConfig(
        level=log_level.upper(),
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    home.ensure()
    home.check_safe()
    with exclusive(home):
        _clear_socket(home)
        service = DecisionService.load(home)
        plan = plan_gateway(service.gateway_settings, http)
        key = IdentityFiles(home).load_or_create(now())  # refuses a key others can read
        redactor = Redactor(service.redact_patterns)  # fixed for the daemon's lifetime
        with redacting_logs(redactor.redact_text, enabled=service.redacts_output):
            uvloop.run(_run(home, service, plan, limits or Limits(), log_level, key, redactor))
    return 0


@contextlib.contextmanager
def exclusive(home: Home) -> Iterator[None]:
    """Hold ``daemon.lock``: no daemon runs on ``home`` (or starts) until it is released."""
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

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        """uvicorn's graceful shutdown, but a connection whose unsent output has not shrunk
        for ``STALLED_S`` is cut: its client stopped reading (an event stream's, typically),
        and a closing transport waits to flush what it holds, so it would otherwise hold the
        stop for the whole graceful timeout. A client still reading is left to finish."""
        async with asyncio.TaskGroup() as tasks:
            cutter = tasks.create_task(self._cut_stalled(STALLED_S))
            try:
                await super().shutdown(sockets)
            finally:
                cutter.cancel()

    async def _cut_stalled(self, period_s: float) -> None:
        unsent_before: dict[object, int] = {}
        while True:
            await asyncio.sleep(period_s)
            unsent_now: dict[object, int] = {}
            for connection in list(self.server_state.connections):
                unsent = connection.transport.get_write_buffer_size()
                if not unsent:
                    continue
                if unsent >= unsent_before.get(connection, unsent + 1):
                    logger.warning("stopping: cut a stalled connection (%d bytes unsent)", unsent)
                    connection.transport.abort()
                else:
                    unsent_now[connection] = unsent
            unsent_before = unsent_now


async def _run(
    home: Home,
    service: DecisionService,
    plan: GatewayPlan | None,
    limits: Limits,
    log_level: str,
    key: SigningKey,
    redactor: Redactor,
) -> None:
    events = EventHub()
    signer = checkpointer(key, service.audit_settings)  # signs the head now and then, and last
    store = SqliteAuditStore(
        home.audit_path, redactor=redactor.redact, on_stored=events.notify, checkpointer=signer
    )
    store.open()
    restored = restore_session_taints(store, service)
    if restored:
        logger.info("restored credential taint of %d session event(s) from the audit log", restored)
    for closed in unclosed_holds(store):
        logger.warning(
            "closing approval %s: held when the daemon last ended", closed.payload["approval_id"]
        )
        await store.append(closed)
    notifier = Notifier(enabled=service.notify, redact=redactor.redact_text)
    pipeline = Pipeline(
        service,
        store,
        redactor,
        notifier=notifier,
        events=events,
        redact_output=service.redacts_output,
    )
    vault = VaultService.open(home, store.append)  # values in memory only, for this daemon
    vault.subscribe(redactor.set_known)  # the redactor knows every vault value, at once
    # Without a listener only rotation (over the socket) uses it: the lockout never counts.
    settings = plan.settings if plan else GatewaySettings()
    auth = authenticator(home, settings, store.append, events.end_streams)
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
        if not service.redacts_output:
            logger.warning("[logging] redact = off: tool output and this log are not redacted")
            await store.append(AuditEvent(REDACTION_OFF_KIND, "daemon", None, REDACTION_OFF))
        sock = bind_unix_socket(home.socket_path)
        inode = os.lstat(home.socket_path).st_ino
        try:
            tcp = plan.endpoint.bind() if plan else None
            try:
                if plan:
                    auth.tokens.load_or_create()
                atomic_write(home.pid_path, f"{pid}\n".encode())
                listeners = _Listeners(home, pipeline, vault, auth, limits, log_level)
                reason = await listeners.serve(sock, (plan, tcp) if plan and tcp else None)
            finally:
                if tcp is not None:
                    tcp.close()
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


class _Listeners:
    """The socket's uvicorn server and, with a gateway, the TCP one: run and stopped together."""

    def __init__(
        self,
        home: Home,
        pipeline: Pipeline,
        vault: VaultService,
        auth: Authenticator,
        limits: Limits,
        log_level: str,
    ) -> None:
        self.home = home
        self.pipeline = pipeline
        self.vault = vault
        self.auth = auth
        self.limits = limits
        self.log_level = log_level
        self.servers: list[_Server] = []

    def stop(self, reason: str) -> None:
        # Held calls are answered (denied) at once: uvicorn waits for in-flight requests.
        self.pipeline.approvals.close()
        self.pipeline.events.close()  # ... and so it would for open event streams
        for server in self.servers:
            server.stop(reason)

    async def serve(
        self, sock: socket.socket, gateway: tuple[GatewayPlan, socket.socket] | None
    ) -> str:
        """Serve until a signal or ``POST /shutdown``; returns why it stopped."""
        ctx = DaemonContext(self.home, self.pipeline, self.limits, request_stop=lambda: None)
        # The app is built before the server that will run it, so its stop hook is tied here.
        ctx.request_stop = functools.partial(self.stop, "shutdown requested over the API")
        plan = gateway[0] if gateway else None
        socket_only = [
            *socket_routes(self.auth, self.limits, plan.url if plan else None),
            *vault_routes(self.vault, self.limits, self.pipeline.redactor.redact_text),
        ]
        main = self._server(create_app(ctx, socket_only))
        listening = [(main, sock)]
        if gateway is not None:
            plan, tcp = gateway
            settings = plan.settings
            app = gateway_app(plan, create_app(ctx), self.auth, self.limits)
            server = self._server(
                app,
                http=with_read_timeout(settings.read_timeout_s),
                lifespan="off",
                keep_alive_s=settings.idle_timeout_s,
                tls=plan.tls,
            )
            listening.append((server, tcp))
        loop = asyncio.get_running_loop()
        reloads: asyncio.Queue[None] = asyncio.Queue()
        loop.add_signal_handler(signal.SIGTERM, self.stop, "SIGTERM")
        loop.add_signal_handler(signal.SIGINT, self.stop, "SIGINT")
        loop.add_signal_handler(signal.SIGHUP, reloads.put_nowait, None)
        logger.info("serving on %s (pid %d)", self.home.socket_path, os.getpid())
        if plan is not None:
            logger.info("gateway on %s", plan.url)
        try:
            async with asyncio.TaskGroup() as tasks:
                reloader = tasks.create_task(_reload_on_signal(self.pipeline, reloads))
                async with asyncio.TaskGroup() as serving:
                    for server, listener in listening:
                        serving.create_task(self._run_server(server, listener))
                reloader.cancel()
        finally:
            for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
                loop.remove_signal_handler(signum)
        return main.stop_reason

    def _server(
        self,
        app: ASGIApp,
        *,
        http: type[asyncio.Protocol] | str = "httptools",
        lifespan: Literal["on", "off"] = "on",
        keep_alive_s: int = KEEP_ALIVE_S,
        tls: TlsFiles | None = None,
    ) -> _Server:
        config = uvicorn.Config(
            app,
            loop="uvloop",
            http=http,
            lifespan=lifespan,
            access_log=False,
            server_header=False,
            # Forwarded headers mean nothing on a Unix socket; on TCP the guard reads them,
            # from trusted proxies only.
            proxy_headers=False,
            timeout_keep_alive=keep_alive_s,
            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
            log_config=None,
            log_level=self.log_level,
            ssl_certfile=tls.cert if tls else None,
            ssl_keyfile=tls.key if tls else None,
        )
        server = _Server(config)
        self.servers.append(server)
        return server

    async def _run_server(self, server: _Server, listener: socket.socket) -> None:
        """Run one server; when it ends on its own, the daemon stops with it."""
        try:
            await server.serve(sockets=[listener])
        finally:
            if not server.should_exit:
                self.stop("a listener stopped unexpectedly")


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
