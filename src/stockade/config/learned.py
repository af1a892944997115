"""``$STOCKADE_HOME/rules.json``: the allow rules people recorded by answering "always".

Kept apart from ``stockade.toml`` because the daemon writes it (the user's file is
never rewritten by a program) and because each entry carries its history: which
approval made it, who answered, when. The daemon is its only writer; the file is
read at start and on reload, written atomically (0600) on each change. An entry
applies to one project root, exactly.
"""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from stockade.config.model import Rule
from stockade.errors import ConfigError
from stockade.home import atomic_write

FORMAT_VERSION = 1
ID_PREFIX = "always-"


class LearnedRule(BaseModel):
    """One "always" answer: the rules it added and where they came from."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    project_root: str
    harness: str
    tool_name: str
    rules: list[Rule] = Field(min_length=1)
    approval_id: str | None = None
    by: str
    note: str | None = None
    created_at: str

    @classmethod
    def record(
        cls,
        *,
        project_root: str,
        harness: str,
        tool_name: str,
        rules: list[Rule],
        by: str,
        approval_id: str | None = None,
        note: str | None = None,
    ) -> LearnedRule:
        """A new entry, with a fresh id and the current time."""
        return cls(
            id=ID_PREFIX + secrets.token_hex(4),
            project_root=project_root,
            harness=harness,
            tool_name=tool_name,
            rules=rules,
            approval_id=approval_id,
            by=by,
            note=note,
            created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        )

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)

    def named(self) -> list[tuple[str, Rule]]:
        """The rules with the ids decisions will name (``always-…`` and a part index)."""
        if len(self.rules) == 1:
            return [(self.id, self.rules[0])]
        return [(f"{self.id}.{index}", rule) for index, rule in enumerate(self.rules)]


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: int
    rules: list[LearnedRule]


def load_learned(path: Path) -> tuple[LearnedRule, ...]:
    """The learned rules; none when the file is absent; ``ConfigError`` when it is bad."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return ()
    except OSError as exc:
        raise ConfigError(f"{path}: unreadable ({exc.strerror})", "check its permissions") from None
    try:
        data = _File.model_validate_json(raw)
    except ValidationError as exc:
        first = exc.errors(include_input=False, include_url=False)[0]
        where = ".".join(str(part) for part in first["loc"]) or "(file)"
        raise ConfigError(
            f"{path}: {where}: {first['msg']}",
            "fix or remove the entry (`stockade rules revoke ID`), or move the file away",
        ) from None
    if data.version != FORMAT_VERSION:
        raise ConfigError(
            f"{path}: format version {data.version} is not supported (expected {FORMAT_VERSION})",
            "upgrade Stockade, or move the file away",
        )
    return tuple(data.rules)


def save_learned(path: Path, rules: tuple[LearnedRule, ...]) -> None:
    """Replace the file atomically with ``rules``."""
    document = _File(version=FORMAT_VERSION, rules=list(rules))
    text = json.dumps(document.model_dump(mode="json", exclude_none=True), indent=2)
    atomic_write(path, (text + "\n").encode())
