"""TLS and the refusal to boot: off loopback the gateway serves HTTPS or nothing.

The certificates are made here with ``cryptography`` and checked by a real TLS
handshake (``ssl`` verifying against that certificate). The refusals run the real
``serve`` entry point and read its exit code and message.
"""

from __future__ import annotations

import datetime
import http.client
import ipaddress
import json
import os
import socket
import ssl
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from tests.daemon_support import (
    DaemonProcess,
    daemon_env,
    free_port,
    run_cli,
    serve_command,
    start_gateway,
    write_gateway_settings,
)

from stockade.audit import SqliteAuditStore
from stockade.home import Home

pytestmark = pytest.mark.integration

Spawn = Callable[..., DaemonProcess]


def _self_signed(directory: Path, key_mode: int = 0o600) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 / localhost / this machine's addresses, and its key."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "stockade test")])
    now = datetime.datetime.now(datetime.UTC)
    addresses = [ipaddress.ip_address("127.0.0.1"), *map(ipaddress.ip_address, _own_ips())]
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), *(x509.IPAddress(ip) for ip in addresses)]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    os.chmod(key_path, key_mode)
    return cert_path, key_path


def _own_ips() -> list[str]:
    """This machine's non-loopback IPv4 addresses (from the kernel's routing choice)."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("192.0.2.1", 9))  # no packet is sent: UDP connect only routes
            address: str = probe.getsockname()[0]
    except OSError:
        return []
    return [] if ipaddress.ip_address(address).is_loopback else [address]


def _refusal(home: Home, http: str | None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        serve_command(home, http=http),
        capture_output=True,
        text=True,
        env=daemon_env(home),
        timeout=30,
        check=False,
    )


def test_tls_on_loopback_is_a_real_verified_handshake(spawn_daemon: Spawn, tmp_path: Path) -> None:
    cert, key = _self_signed(tmp_path)
    settings = {"tls_cert": str(cert), "tls_key": str(key)}
    gw = start_gateway(spawn_daemon(start=False), settings)
    verifying = ssl.create_default_context(cafile=str(cert))
    health = gw.request("GET", "/api/v1/health", token=gw.token, context=verifying)
    assert health.status == 200 and health.body["pid"] == gw.process.pid

    login = gw.request("POST", "/ui/login", body={"token": gw.token}, context=verifying)
    assert "secure" in {part.strip().lower() for part in login.headers["set-cookie"].split(";")}

    # A client that does not trust the certificate gets no answer at all.
    with pytest.raises(ssl.SSLCertVerificationError):
        gw.request("GET", "/api/v1/health", context=ssl.create_default_context())
    # Neither does one speaking plain HTTP to the TLS port.
    with pytest.raises((http.client.HTTPException, ConnectionError)):
        gw.request("GET", "/api/v1/health", token=gw.token)

    shown = run_cli(gw.process.home, "ui", "--json")
    assert json.loads(shown.stdout) == {"url": f"https://127.0.0.1:{gw.port}/", "running": True}


@pytest.mark.parametrize(
    ("address", "how"),
    [
        ("0.0.0.0", "flag"),  # noqa: S104 - refused, never bound
        ("[::]", "config"),
        *((ip, "flag") for ip in _own_ips()),
    ],
)
def test_off_loopback_without_tls_refuses_to_boot(home: Home, address: str, how: str) -> None:
    listen = f"{address}:{free_port()}"
    write_gateway_settings(home, {"listen": listen} if how == "config" else {})
    refused = _refusal(home, listen if how == "flag" else None)
    assert refused.returncode == 2, refused.stderr
    assert "off loopback" in refused.stderr and "tls_cert" in refused.stderr
    # Refused before anything started: no socket, no audit log, no token.
    assert sorted(p.name for p in home.root.iterdir()) == ["daemon.lock", "stockade.toml"]


def test_tls_off_loopback_boots_and_a_readable_key_does_not(
    spawn_daemon: Spawn, tmp_path: Path
) -> None:
    ips = _own_ips()
    if not ips:
        pytest.skip("this machine has no non-loopback IPv4 address")
    cert, key = _self_signed(tmp_path, key_mode=0o640)
    process = spawn_daemon(start=False)
    listen = f"{ips[0]}:{free_port(ips[0])}"
    write_gateway_settings(process.home, {"tls_cert": str(cert), "tls_key": str(key)})
    refused = _refusal(process.home, listen)
    assert refused.returncode == 2
    assert "group or others can read it" in refused.stderr and f"chmod 600 {key}" in refused.stderr

    os.chmod(key, 0o600)
    process.http = listen
    process.start()
    token = run_cli(process.home, "gateway", "token").stdout.strip()
    verifying = ssl.create_default_context(cafile=str(cert))
    conn = http.client.HTTPSConnection(ips[0], int(listen.rsplit(":", 1)[1]), context=verifying)
    try:
        conn.request("GET", "/api/v1/health", headers={"Authorization": f"Bearer {token}"})
        assert conn.getresponse().status == 200
    finally:
        conn.close()


def test_a_taken_port_stops_startup(home: Home) -> None:
    port = free_port()
    with socket.create_server(("127.0.0.1", port)):
        taken = _refusal(home, f"127.0.0.1:{port}")
    assert taken.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in taken.stderr and "--http" in taken.stderr
    assert not home.socket_path.exists()
    store = SqliteAuditStore(home.audit_path)
    store.open()
    try:
        [stopped] = store.query(kind="daemon.stopped")
    finally:
        store.close()
    assert stopped.payload["reason"] == "startup failed"
