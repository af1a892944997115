"""Addresses: ``listen`` parsing, loopback or not, Host/Origin allowlists, proxies, TLS files."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from stockade.config.model import GatewaySettings
from stockade.daemon.gateway.allowlist import Allowlist
from stockade.daemon.gateway.clients import ClientAddress, TrustedProxies
from stockade.daemon.gateway.endpoint import Endpoint
from stockade.daemon.gateway.plan import plan_gateway
from stockade.daemon.gateway.tls import check_tls
from stockade.errors import ConfigError


@pytest.mark.parametrize(
    ("listen", "host", "port", "loopback"),
    [
        ("127.0.0.1:8700", "127.0.0.1", 8700, True),
        ("127.9.9.9:1", "127.9.9.9", 1, True),
        ("localhost:8700", "localhost", 8700, True),
        ("[::1]:8700", "::1", 8700, True),
        ("0.0.0.0:443", "0.0.0.0", 443, False),  # noqa: S104 - parsed, not bound
        ("[::]:443", "::", 443, False),
        ("192.168.1.5:8443", "192.168.1.5", 8443, False),
        ("[::ffff:127.0.0.1]:80", "::ffff:127.0.0.1", 80, False),
    ],
)
def test_listen_addresses(listen: str, host: str, port: int, loopback: bool) -> None:
    endpoint = Endpoint.parse(GatewaySettings(listen=listen).listen or "")
    assert (endpoint.host, endpoint.port, endpoint.is_loopback) == (host, port, loopback)


@pytest.mark.parametrize(
    "listen",
    ["8700", "127.0.0.1", "127.0.0.1:0", "127.0.0.1:65536", "127.0.0.1:x", "::1:8700",
     "[127.0.0.1]:80", "example.com:80", ":8700", "[::1]8700", "127.0.0.1:+80"],
)  # fmt: skip
def test_malformed_listen_is_a_config_error(listen: str) -> None:
    with pytest.raises(ValidationError):
        GatewaySettings(listen=listen)
    with pytest.raises(ConfigError, match="--http"):
        plan_gateway(GatewaySettings(), listen)


@pytest.mark.parametrize(
    "settings",
    [
        {"tls_cert": "/c.pem"},
        {"trusted_proxies": ["10.0.0.0/33"]},
        {"trusted_proxies": ["proxy.example"]},
        {"allowed_origins": ["ui.example"]},
        {"allowed_origins": ["https://ui.example/path"]},
        {"allowed_origins": ["ftp://ui.example"]},
        {"max_failures": 0},
        {"read_timeout_s": 0},
        {"surprise": 1},
    ],
)
def test_invalid_gateway_settings(settings: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        GatewaySettings.model_validate(settings)


def test_allowlist_defaults_on_loopback() -> None:
    allow = Allowlist(Endpoint.parse("127.0.0.1:8700"), tls=False, extra_hosts=["Stockade.LAN"])
    for host in (
        "127.0.0.1:8700",
        "localhost:8700",
        "LocalHost:8700",
        "[::1]:8700",
        "stockade.lan",
    ):
        assert allow.host_ok(host), host
    for host in ("127.0.0.1", "localhost:8701", "attacker.example:8700", "", "127.0.0.1:8700 "):
        assert not allow.host_ok(host), host
    assert allow.origin_ok("http://localhost:8700") and allow.origin_ok("https://stockade.lan")
    for origin in ("null", "http://localhost", "http://evil.example", "http://localhost:8700/"):
        assert not allow.origin_ok(origin), origin


def test_allowlist_off_loopback_and_default_ports() -> None:
    remote = Allowlist(Endpoint.parse("192.168.1.5:443"), tls=True, extra_origins=["https://x.y"])
    assert remote.hosts == {"192.168.1.5:443", "192.168.1.5"}
    assert remote.origin_ok("https://192.168.1.5") and remote.origin_ok("https://x.y")
    assert not remote.host_ok("localhost:443")
    # A wildcard bind also answers on loopback.
    assert Allowlist(Endpoint.parse("[::]:8443"), tls=True).host_ok("localhost:8443")


def _scope(peer: str, headers: list[tuple[str, str]]) -> dict[str, Any]:
    encoded = [(name.encode(), value.encode()) for name, value in headers]
    return {"type": "http", "client": (peer, 40000), "headers": encoded}


XFF = "x-forwarded-for"


@pytest.mark.parametrize(
    ("peer", "headers", "expected"),
    [
        # Untrusted peers: forwarded headers are ignored.
        ("198.51.100.1", [(XFF, "127.0.0.1")], ClientAddress("198.51.100.1")),
        ("127.0.0.1", [("x-real-ip", "127.0.0.1")], ClientAddress("127.0.0.1")),
        # A trusted proxy: the rightmost hop that is not a proxy.
        ("10.0.0.2", [(XFF, "1.1.1.1, 203.0.113.9")], ClientAddress("203.0.113.9", True)),
        ("10.0.0.2", [(XFF, "203.0.113.9, 10.0.0.7")], ClientAddress("203.0.113.9", True)),
        ("10.0.0.2", [(XFF, "1.1.1.1"), (XFF, "2.2.2.2")], ClientAddress("2.2.2.2", True)),
        ("10.0.0.2", [(XFF, "10.0.0.8, 10.0.0.9")], ClientAddress("10.0.0.8", True)),
        ("10.0.0.2", [(XFF, " , ")], ClientAddress("10.0.0.2")),
        ("10.0.0.2", [("x-real-ip", "2001:db8::1")], ClientAddress("2001:db8::1", True)),
        ("10.0.0.2", [("x-real-ip", "not an ip")], ClientAddress("10.0.0.2")),
        ("::ffff:10.0.0.2", [(XFF, "203.0.113.9")], ClientAddress("203.0.113.9", True)),
        ("10.0.0.2", [(XFF, "garbage" * 20)], ClientAddress(("garbage" * 20)[:64], True)),
    ],
)
def test_client_address(peer: str, headers: list[tuple[str, str]], expected: ClientAddress) -> None:
    proxies = TrustedProxies(["10.0.0.0/24", "127.0.0.2"])
    assert proxies.client_of(_scope(peer, headers)) == expected


def test_no_trusted_proxies_means_the_peer() -> None:
    scope = _scope("::ffff:127.0.0.1", [(XFF, "203.0.113.9")])
    assert TrustedProxies([]).client_of(scope) == ClientAddress("127.0.0.1")


def test_tls_files_must_exist_load_and_be_private(tmp_path: Path) -> None:
    loopback = Endpoint.parse("127.0.0.1:8443")
    assert check_tls(GatewaySettings(), loopback) is None
    with pytest.raises(ConfigError, match="off loopback"):
        check_tls(GatewaySettings(), Endpoint.parse("0.0.0.0:8443"))  # noqa: S104
    missing = GatewaySettings(tls_cert=str(tmp_path / "c.pem"), tls_key=str(tmp_path / "k.pem"))
    with pytest.raises(ConfigError, match="tls_cert"):
        check_tls(missing, loopback)
    relative = GatewaySettings(tls_cert="c.pem", tls_key="k.pem")
    with pytest.raises(ConfigError, match="absolute"):
        check_tls(relative, loopback)
    for name in ("c.pem", "k.pem"):
        (tmp_path / name).write_text("not PEM\n")
    os.chmod(tmp_path / "k.pem", 0o644)
    with pytest.raises(ConfigError, match="group or others can read it"):
        check_tls(missing, loopback)
    os.chmod(tmp_path / "k.pem", 0o600)
    with pytest.raises(ConfigError, match="cannot load"):
        check_tls(missing, loopback)
