"""The daemon's lifecycle from the command line: ``serve``, ``status``, ``stop``, ``reload``.

``serve`` runs in the foreground (a service manager or ``&`` backgrounds it); the
others are clients of the running daemon. Startup refusals (unsafe home, invalid
configuration, a daemon already running) are :class:`StockadeError` subclasses and
are printed with their hints by the root group.
"""

from __future__ import annotations

import os
import time
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from stockade.cli import output
from stockade.cli.context import state
from stockade.errors import ConfigError, DaemonUnavailable, StockadeError

_START_HINT = "start it with `stockade serve`"


class LogLevel(StrEnum):
    DEBUG = "debug"
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


def serve(
    ctx: typer.Context,
    log_level: Annotated[
        LogLevel, typer.Option("--log-level", help="Daemon log verbosity (logs go to stderr).")
    ] = LogLevel.INFO,
    http: Annotated[
        str | None,
        typer.Option(
            "--http",
            metavar="HOST:PORT",
            help="Also serve the API and web UI over TCP (overrides [gateway] listen); "
            "off loopback TLS is required.",
        ),
    ] = None,
) -> None:
    """Run the daemon in the foreground until SIGINT/SIGTERM or `stockade stop`."""
    from stockade.daemon.lifecycle import serve as run_daemon

    raise typer.Exit(run_daemon(state(ctx).home, log_level=log_level.value, http=http))


def status(ctx: typer.Context, json_out: output.JsonFlag = False) -> None:
    """Show whether the daemon runs, its pid, uptime and version. Exit 4 when it does not."""
    home = state(ctx).home
    try:
        client = state(ctx).client()
        health = client.request("GET", "/health")
        version = client.request("GET", "/version")
    except DaemonUnavailable as exc:
        if json_out:
            output.emit_json({"running": False, "socket": str(home.socket_path)})
        raise _not_running(home.socket_path) from exc
    data = {
        "running": True,
        "pid": health.get("pid"),
        "uptime_s": health.get("uptime_s"),
        "version": version.get("version"),
        "api": version.get("api"),
        "socket": str(home.socket_path),
    }
    if json_out:
        output.emit_json(data)
        return
    output.key_values(
        [
            ("status", output.status_text("running")),
            ("pid", str(data["pid"])),
            ("uptime", _duration(data["uptime_s"])),
            ("version", f"{data['version']} (API {data['api']})"),
            ("socket", str(home.socket_path)),
        ]
    )


def stop(
    ctx: typer.Context,
    timeout: Annotated[
        float, typer.Option("--timeout", min=0.0, help="Seconds to wait for the daemon to exit.")
    ] = 10.0,
) -> None:
    """Ask the daemon to shut down and wait until its socket is gone.

    A daemon that is not running is not an error: the goal state is reached, so this
    prints "not running" and exits 0 (scripts can call ``stop`` unconditionally).
    """
    home = state(ctx).home
    client = state(ctx).client()
    try:
        pid = client.request("GET", "/health").get("pid")
        client.request("POST", "/shutdown", {})
    except DaemonUnavailable:
        typer.echo(f"stockade is not running (no daemon on {home.socket_path})")
        return
    deadline = time.monotonic() + timeout
    while home.socket_path.exists() and _alive(pid):
        if time.monotonic() >= deadline:
            raise StockadeError(
                f"the daemon (pid {pid}) did not stop within {timeout:g} s",
                f"wait longer (--timeout), check {home.log_path}, or `kill {pid}`",
            )
        time.sleep(0.1)
    typer.echo(f"stockade stopped (pid {pid})")


def reload(ctx: typer.Context, json_out: output.JsonFlag = False) -> None:
    """Reload the configuration; when it is invalid the running policy is kept (exit 2)."""
    from stockade.client import ApiError

    try:
        result = state(ctx).client().request("POST", "/reload", {})
    except DaemonUnavailable as exc:
        raise _not_running(state(ctx).home.socket_path) from exc
    except ApiError as exc:
        if exc.code != "invalid_config":
            raise
        raise ConfigError(f"{exc.message}\nthe daemon kept its running policy", exc.hint) from exc
    if json_out:
        output.emit_json(result)
    else:
        typer.echo(f"configuration reloaded (config sha256 {result.get('config_hash', '?')})")


def _not_running(socket_path: Path) -> DaemonUnavailable:
    return DaemonUnavailable(
        f"stockade is not running (no daemon answers on {socket_path})", _START_HINT
    )


def _alive(pid: Any) -> bool:
    """Whether ``pid`` still exists; unknown pids count as alive so we wait for the socket."""
    if not isinstance(pid, int) or pid <= 0:
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _duration(seconds: Any) -> str:
    if not isinstance(seconds, int | float):
        return "?"
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes}m {secs}s"
    return f"{minutes}m {secs}s" if minutes else f"{seconds:.1f}s"


def register(app: typer.Typer) -> None:
    for command in (serve, status, stop, reload):
        app.command()(command)
