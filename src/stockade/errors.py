"""The exception tree. Every error says what happened and what to do next.

    StockadeError(message, hint)
     ├── ConfigError          invalid or unsafe configuration (file, key, problem)
     ├── UnsafeHomeError      $STOCKADE_HOME is a symlink, foreign-owned or too open
     ├── AdapterError         a harness payload that cannot be understood
     ├── DaemonUnavailable    no daemon answers on the socket
     ├── DaemonAlreadyRunning a live daemon already answers on the socket
     └── AuditIntegrityError  the audit chain does not verify

Subclasses exist only where a caller branches on them or the exit code differs.
Messages never carry secret values.
"""

from __future__ import annotations


class StockadeError(Exception):
    """Base error: ``message`` says what went wrong, ``hint`` what to try next."""

    exit_code = 1

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def diagnostics(self) -> str:
        """The message and, when there is one, the hint, ready to print."""
        return f"{self.message}\n  hint: {self.hint}" if self.hint else self.message


class ConfigError(StockadeError):
    """Configuration that cannot be loaded; names the file, the key and the problem."""

    exit_code = 2


class UnsafeHomeError(StockadeError):
    """``$STOCKADE_HOME`` is not private to this user; the daemon refuses to start."""

    exit_code = 3


class AdapterError(StockadeError):
    """A harness payload that does not parse into a normalized request."""


class DaemonUnavailable(StockadeError):
    """No daemon answers on the socket."""

    exit_code = 4


class DaemonAlreadyRunning(StockadeError):
    """A live daemon answers on the socket; it is never taken over."""

    exit_code = 5


class AuditIntegrityError(StockadeError):
    """The audit chain does not verify."""

    exit_code = 6
