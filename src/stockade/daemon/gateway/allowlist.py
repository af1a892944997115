"""The Host and Origin headers a gateway request may carry (DNS rebinding and CSRF).

A web page cannot make the browser send someone else's ``Host``, but DNS rebinding
can point ``attacker.example`` at 127.0.0.1, so a request to our port may arrive
saying ``Host: attacker.example``: only the names this gateway is known by pass.
A cross-site page's requests say where they come from in ``Origin``: only the
gateway's own origins (and those the user lists) pass. Comparisons are exact and
case-insensitive; a default port (80 without TLS, 443 with) may be left out, as
browsers do.
"""

from __future__ import annotations

from collections.abc import Iterable

from stockade.daemon.gateway.endpoint import Endpoint


class Allowlist:
    def __init__(
        self,
        endpoint: Endpoint,
        *,
        tls: bool,
        extra_hosts: Iterable[str] = (),
        extra_origins: Iterable[str] = (),
    ) -> None:
        names = [endpoint.host]
        if endpoint.is_loopback or endpoint.is_wildcard:
            names += ["127.0.0.1", "localhost", "::1"]
        port = endpoint.port
        hosts = {Endpoint(name, port).authority for name in names}
        if port == (443 if tls else 80):
            hosts |= {authority.rpartition(":")[0] for authority in hosts}
        hosts |= {host.lower() for host in extra_hosts}
        self.hosts = frozenset(hosts)
        origins = {f"{scheme}://{host}" for host in hosts for scheme in ("http", "https")}
        self.origins = frozenset(origins | {origin.lower() for origin in extra_origins})

    def host_ok(self, host: str) -> bool:
        return host.lower() in self.hosts

    def origin_ok(self, origin: str) -> bool:
        return origin.lower() in self.origins
