"""TLS for the gateway, and the refusal to serve off loopback without it.

Off loopback the token (and every held call's input) would cross the network in
clear text, so a ``listen`` that is not loopback without ``tls_cert`` and
``tls_key`` stops the daemon before it starts. The key must not be readable by
group or others: a key anyone can read authenticates nobody. Both files are loaded
once here so that a wrong path, a bad PEM or a key that does not match the
certificate is a startup error naming the setting, not a failure on the first
connection.
"""

from __future__ import annotations

import os
import ssl
import stat
from dataclasses import dataclass
from pathlib import Path

from stockade.config.model import GatewaySettings
from stockade.daemon.gateway.endpoint import Endpoint
from stockade.errors import ConfigError


@dataclass(frozen=True, slots=True)
class TlsFiles:
    cert: Path
    key: Path


def check_tls(settings: GatewaySettings, endpoint: Endpoint) -> TlsFiles | None:
    """The TLS files to serve with, or None for plain HTTP on loopback; raises otherwise."""
    if settings.tls_cert is None or settings.tls_key is None:
        if not endpoint.is_loopback:
            raise ConfigError(
                f"refusing to start: the gateway would listen on {endpoint.authority}, off "
                "loopback, without TLS ([gateway] tls_cert and tls_key are not set)",
                "set [gateway] tls_cert and tls_key in stockade.toml, or listen on "
                "127.0.0.1 (e.g. `stockade serve --http 127.0.0.1:8700`)",
            )
        return None
    files = TlsFiles(
        _existing("tls_cert", settings.tls_cert), _existing("tls_key", settings.tls_key)
    )
    mode = stat.S_IMODE(os.stat(files.key).st_mode)
    if mode & 0o077:
        raise ConfigError(
            f"refusing to start: the TLS key {files.key} ([gateway] tls_key) has mode "
            f"{mode:04o}; group or others can read it",
            f"chmod 600 {files.key}",
        )
    try:
        ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER).load_cert_chain(files.cert, files.key)
    except (ssl.SSLError, OSError) as exc:
        raise ConfigError(
            f"cannot load [gateway] tls_cert {files.cert} with tls_key {files.key}: "
            f"{getattr(exc, 'reason', None) or exc}",
            "both must be PEM files, and the key must belong to the certificate",
        ) from None
    return files


def _existing(key: str, value: str) -> Path:
    path = Path(value).expanduser()
    if not path.is_absolute() or not path.is_file():
        raise ConfigError(
            f"[gateway] {key} = {value!r} is not an existing file (absolute path or ~/...)",
            f"point [gateway] {key} at the PEM file",
        )
    return path
