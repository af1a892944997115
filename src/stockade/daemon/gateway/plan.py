"""From the ``[gateway]`` settings (and ``serve --http``) to what the daemon will run.

Everything that can refuse — a malformed address, off loopback without TLS, a
readable key, a bad certificate — is checked by :func:`plan_gateway`, before the
daemon opens its audit log or binds anything.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pydantic import ValidationError
from starlette.types import ASGIApp

from stockade.config.model import GatewaySettings
from stockade.daemon.gateway.allowlist import Allowlist
from stockade.daemon.gateway.app import create_gateway_app
from stockade.daemon.gateway.auth import Audit, Authenticator
from stockade.daemon.gateway.clients import TrustedProxies
from stockade.daemon.gateway.endpoint import Endpoint
from stockade.daemon.gateway.lockout import Lockout
from stockade.daemon.gateway.sessions import SessionStore
from stockade.daemon.gateway.tls import TlsFiles, check_tls
from stockade.daemon.gateway.token import TokenStore
from stockade.daemon.limits import Limits
from stockade.errors import ConfigError
from stockade.home import Home


@dataclass(frozen=True, slots=True)
class GatewayPlan:
    settings: GatewaySettings
    endpoint: Endpoint
    tls: TlsFiles | None

    @property
    def url(self) -> str:
        return self.endpoint.url(tls=self.tls is not None)


def plan_gateway(settings: GatewaySettings, http: str | None = None) -> GatewayPlan | None:
    """The gateway to run (None: no TCP listener); ``http`` overrides ``listen``."""
    if http is not None:
        try:
            settings = GatewaySettings.model_validate({**settings.model_dump(), "listen": http})
        except ValidationError as exc:
            problem = str(exc.errors()[0]["msg"]).removeprefix("Value error, ")
            raise ConfigError(
                f"--http {http!r}: {problem}", "give HOST:PORT, e.g. 127.0.0.1:8700"
            ) from None
    if settings.listen is None:
        return None
    endpoint = Endpoint.parse(settings.listen)
    return GatewayPlan(settings, endpoint, check_tls(settings, endpoint))


def authenticator(
    home: Home, settings: GatewaySettings, audit: Audit, end_streams: Callable[[], object]
) -> Authenticator:
    lockout = Lockout(settings.max_failures, settings.failure_window_s, settings.lockout_s)
    return Authenticator(TokenStore(home), SessionStore(), lockout, audit, end_streams)


def gateway_app(plan: GatewayPlan, api: ASGIApp, auth: Authenticator, limits: Limits) -> ASGIApp:
    settings = plan.settings
    tls = plan.tls is not None
    allowlist = Allowlist(
        plan.endpoint,
        tls=tls,
        extra_hosts=settings.allowed_hosts,
        extra_origins=settings.allowed_origins,
    )
    proxies = TrustedProxies(settings.trusted_proxies)
    return create_gateway_app(api, auth, limits, allowlist, proxies, tls=tls)
