"""Where the gateway listens: a parsed ``HOST:PORT``, whether that is loopback, and the socket.

We bind the TCP socket ourselves, before the daemon serves anything, so that a
port already in use stops startup with an error naming the address and the setting
instead of a half-started daemon whose socket works and whose gateway does not.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from dataclasses import dataclass

from stockade.config.model import split_listen
from stockade.errors import StockadeError

BACKLOG = 512


@dataclass(frozen=True, slots=True)
class Endpoint:
    """An IP literal (or ``localhost``) and a port."""

    host: str
    port: int

    @classmethod
    def parse(cls, text: str) -> Endpoint:
        return cls(*split_listen(text))

    @property
    def address(self) -> str:
        """The IP to bind (``localhost`` means 127.0.0.1)."""
        return "127.0.0.1" if self.host == "localhost" else self.host

    @property
    def is_loopback(self) -> bool:
        return ipaddress.ip_address(self.address).is_loopback

    @property
    def is_wildcard(self) -> bool:
        """0.0.0.0 or ``::``: every interface, loopback included."""
        return ipaddress.ip_address(self.address).is_unspecified

    @property
    def authority(self) -> str:
        """``host:port`` as a Host header spells it (IPv6 in brackets)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    def url(self, *, tls: bool) -> str:
        """The address a browser on this machine opens (loopback for a wildcard bind)."""
        shown = Endpoint("127.0.0.1", self.port) if self.is_wildcard else self
        return f"{'https' if tls else 'http'}://{shown.authority}/"

    def bind(self) -> socket.socket:
        """A listening, non-blocking socket; a clear error when the address is taken."""
        family = socket.AF_INET6 if ":" in self.address else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.address, self.port))
            sock.listen(BACKLOG)
            sock.setblocking(False)
        except OSError as exc:
            sock.close()
            raise StockadeError(
                f"the gateway cannot listen on {self.authority}: "
                f"{exc.strerror or os.strerror(exc.errno or 0)}",
                "choose another address with `stockade serve --http HOST:PORT` or "
                "[gateway] listen, or stop what uses it",
            ) from None
        except BaseException:
            sock.close()
            raise
        return sock
