"""Trusted project files: a project's ``.stockade.toml`` may loosen policy only when trusted.

Trust is recorded as the sha256 of the file's bytes, so an edited file is untrusted
again until the user re-trusts it (``stockade trust DIR``).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from stockade.errors import ConfigError
from stockade.home import Home, atomic_write

PROJECT_FILE = ".stockade.toml"


class TrustStore:
    """``$STOCKADE_HOME/trusted.json``: project directory -> hash of its trusted file."""

    def __init__(self, home: Home) -> None:
        self._path = home.trust_path

    def entries(self) -> dict[str, str]:
        try:
            data = json.loads(self._path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            raise ConfigError(f"{self._path}: unreadable trust store ({exc})", "remove it") from exc
        if not isinstance(data, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in data.items()
        ):
            raise ConfigError(f"{self._path}: malformed trust store", "remove it and re-trust")
        return data

    def trust(self, directory: Path) -> str:
        """Trust the current content of ``directory/.stockade.toml``; returns its hash."""
        root = Path(os.path.realpath(directory))
        file = root / PROJECT_FILE
        try:
            digest = hashlib.sha256(file.read_bytes()).hexdigest()
        except OSError as exc:
            raise ConfigError(f"cannot read {file}: {exc.strerror}", "is it a project?") from exc
        entries = self.entries()
        entries[str(root)] = digest
        self._write(entries)
        return digest

    def revoke(self, directory: Path) -> bool:
        entries = self.entries()
        removed = entries.pop(str(Path(os.path.realpath(directory))), None) is not None
        if removed:
            self._write(entries)
        return removed

    def is_trusted(self, root: str, digest: str) -> bool:
        return self.entries().get(root) == digest

    def _write(self, entries: dict[str, str]) -> None:
        atomic_write(self._path, json.dumps(entries, indent=2, sort_keys=True).encode() + b"\n")
