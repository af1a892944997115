"""Who is asking: the TCP peer, or — only behind a proxy the user named — the proxy's client.

``X-Forwarded-For`` and ``X-Real-IP`` are plain request headers: anyone can send
them. They are believed only when the TCP peer itself is a configured trusted proxy,
and then ``X-Forwarded-For`` is read from the right (the hop the last proxy saw),
skipping addresses that are themselves trusted proxies: the leftmost entries were
written by the client and prove nothing. The address found is used for the lockout
and the audit log; it never grants anything (every request needs the token anyway).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

from starlette.types import Scope

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
UNKNOWN = "unknown"
_MAX_HOP_CHARS = 64


@dataclass(frozen=True, slots=True)
class ClientAddress:
    """The address a request is attributed to, and whether a proxy's word was taken for it."""

    host: str
    forwarded: bool = False


class TrustedProxies:
    """The ``trusted_proxies`` setting as networks (IPs are /32 or /128 networks)."""

    def __init__(self, entries: Iterable[str]) -> None:
        self._networks = tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)

    def __contains__(self, host: str) -> bool:
        address = _parse(host)
        return address is not None and any(address in network for network in self._networks)

    def client_of(self, scope: Scope) -> ClientAddress:
        """The address ``scope``'s request is attributed to."""
        peer = scope.get("client")
        host = _normal(peer[0]) if peer else UNKNOWN
        if not self._networks or host not in self:
            return ClientAddress(host)
        forwarded = _header_values(scope, b"x-forwarded-for")
        hops = [hop.strip() for value in forwarded for hop in value.split(",") if hop.strip()]
        for hop in reversed(hops):
            if hop not in self:
                return ClientAddress(_normal(hop)[:_MAX_HOP_CHARS], forwarded=True)
        if hops:  # every hop is a trusted proxy: the first one is the client
            return ClientAddress(_normal(hops[0]), forwarded=True)
        real_ip = _header_values(scope, b"x-real-ip")
        if len(real_ip) == 1 and _parse(real_ip[0].strip()) is not None:
            return ClientAddress(_normal(real_ip[0].strip()), forwarded=True)
        return ClientAddress(host)


def _header_values(scope: Scope, name: bytes) -> list[str]:
    return [value.decode("latin-1") for key, value in scope["headers"] if key == name]


def _parse(host: str) -> IPAddress | None:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped  # a dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d
    return address


def _normal(host: str) -> str:
    """An address in its canonical text form; anything else unchanged."""
    address = _parse(host)
    return host if address is None else str(address)
