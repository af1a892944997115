"""The gateway token: the one secret that opens the TCP gateway, kept 0600 in the home.

The TCP port is reachable by every local process and by every web page the user's
browser opens, so loopback is no authentication: every request carries this token
(or a UI session obtained with it). It is 32 random bytes, URL-safe base64, created
on the first start with a gateway, compared in constant time, and never logged,
audited or put in a URL. A new token is written next to the old one and renamed over
it (readers see one or the other); the first one is linked into place so that two
processes creating it at once agree on a single token.
"""

from __future__ import annotations

import base64
import contextlib
import hmac
import os
import secrets
from pathlib import Path

from stockade.errors import StockadeError
from stockade.home import FILE_MODE, Home, atomic_write

TOKEN_BYTES = 32
TOKEN_FILE = "gateway.token"  # noqa: S105 - the file name, not a secret
_TOKEN_CHARS = len(base64.urlsafe_b64encode(bytes(TOKEN_BYTES)).rstrip(b"="))
_ROTATE_HINT = "replace it with `stockade gateway token --rotate`"


def token_path(home: Home) -> Path:
    return home.root / TOKEN_FILE


def new_token() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(TOKEN_BYTES)).rstrip(b"=").decode()


class TokenStore:
    """The token file of one home, and the token in memory for constant-time checks."""

    def __init__(self, home: Home) -> None:
        self.path = token_path(home)
        self._token: bytes | None = None

    def load_or_create(self) -> str:
        """The token, created (0600) if the home has none yet."""
        if not os.path.lexists(self.path):
            _create(self.path, new_token())
        token = _read(self.path)
        self._token = token.encode()
        return token

    def rotate(self) -> str:
        """Replace the token; from now on only the new one matches."""
        token = new_token()
        atomic_write(self.path, f"{token}\n".encode(), FILE_MODE)
        self._token = token.encode()
        return token

    def matches(self, presented: bytes) -> bool:
        """Whether ``presented`` is the token (constant time; False before one is loaded)."""
        return self._token is not None and hmac.compare_digest(presented, self._token)


def _create(path: Path, token: str) -> None:
    """Write ``token`` to ``path`` unless a token appeared there meanwhile (then keep that)."""
    staging = path.with_name(f".{path.name}.{secrets.token_hex(8)}.new")
    atomic_write(staging, f"{token}\n".encode(), FILE_MODE)
    try:
        os.link(staging, path)
    except FileExistsError:
        pass
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(staging)


def _read(path: Path) -> str:
    try:
        token = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise StockadeError(f"cannot read the gateway token {path}: {exc}", _ROTATE_HINT) from None
    if len(token) != _TOKEN_CHARS or not all(c.isalnum() or c in "-_" for c in token):
        raise StockadeError(f"the gateway token {path} is malformed", _ROTATE_HINT)
    return token
