"""Token files in ``$STOCKADE_HOME/caps/``, and the list of revoked token ids.

::

    caps/                    0700
      cap_<16 hex>.json      0600  one token: {"statement": {...}, "signature": "..."}
      revoked.json           0600  {"version": 1, "revoked": ["cap_…", …]}

The daemon writes them (atomically); ``caps list`` and the drift check read them. A
revoked token's file is deleted, but its id stays listed in ``revoked.json`` (and in
the ``cap.revoked`` event), so a file restored from a backup still grants nothing.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from stockade.caps.token import Token, TokenError, is_token_id, parse_token
from stockade.errors import ConfigError
from stockade.home import DIR_MODE, Home, atomic_write

REVOKED_FILE = "revoked.json"
MAX_TOKEN_BYTES = 64 * 1024
FORMAT_VERSION = 1
_REVOKED_HINT = "restore it from a backup; the cap.revoked events of the audit log still count"


def caps_dir(home: Home) -> Path:
    return home.root / "caps"


def token_path(home: Home, token_id: str) -> Path:
    return caps_dir(home) / f"{token_id}.json"


def token_files(home: Home) -> list[Path]:
    """Every ``cap_….json`` in the directory, sorted (none when it does not exist)."""
    directory = caps_dir(home)
    try:
        names = os.listdir(directory)
    except FileNotFoundError:
        return []
    return sorted(
        directory / name
        for name in names
        if name.endswith(".json") and is_token_id(name[: -len(".json")])
    )


def read_raw(path: Path) -> bytes:
    """A token file's bytes (at most one byte past the limit, so that is refused)."""
    with open(path, "rb") as handle:
        return handle.read(MAX_TOKEN_BYTES + 1)


def read_token(path: Path) -> Token:
    """The token in ``path``; :class:`TokenError` when it is malformed."""
    return parse_raw(read_raw(path), path.name)


def parse_raw(raw: bytes, name: str) -> Token:
    """The token in a file's bytes, whose name must be its id."""
    if len(raw) > MAX_TOKEN_BYTES:
        raise TokenError(f"larger than {MAX_TOKEN_BYTES // 1024} KiB")
    try:
        token = parse_token(json.loads(raw))
    except ValueError as exc:  # JSONDecodeError and TokenError alike
        raise TokenError(str(exc) if isinstance(exc, TokenError) else "not valid JSON") from None
    if name != f"{token.id}.json":
        raise TokenError(f"holds token {token.id}, not the one its name says")
    return token


def write_token(home: Home, token: Token) -> Path:
    """Write ``token`` to its file (0600, atomic), creating ``caps/`` 0700 if needed."""
    directory = caps_dir(home)
    if not directory.exists():
        os.mkdir(directory, DIR_MODE)
    path = token_path(home, token.id)
    atomic_write(path, (json.dumps(token.to_json(), indent=2, sort_keys=True) + "\n").encode())
    return path


def delete_token(home: Home, token_id: str) -> bool:
    """Remove the token's file; whether there was one."""
    try:
        os.unlink(token_path(home, token_id))
    except FileNotFoundError:
        return False
    return True


def load_revoked(home: Home) -> set[str]:
    """The ids in ``revoked.json`` (empty when absent; unreadable or malformed: an error)."""
    path = caps_dir(home) / REVOKED_FILE
    try:
        data = json.loads(path.read_bytes())
    except FileNotFoundError:
        return set()
    except ValueError:
        raise ConfigError(f"{path} is not valid JSON", _REVOKED_HINT) from None
    ids = data.get("revoked") if isinstance(data, dict) else None
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise ConfigError(f"{path} has no list of revoked ids", _REVOKED_HINT)
    return set(ids)


def save_revoked(home: Home, revoked: set[str]) -> None:
    directory = caps_dir(home)
    if not directory.exists():
        os.mkdir(directory, DIR_MODE)
    document = {"version": FORMAT_VERSION, "revoked": sorted(revoked)}
    atomic_write(directory / REVOKED_FILE, (json.dumps(document, indent=2) + "\n").encode())
