"""``$STOCKADE_HOME/agents.json``: the agents that are capability-restricted.

An agent is a name a harness install, a job or a script sends with its calls
(``stockade install <harness> --agent NAME`` puts it in the hook command). A name in
this registry may do only what its live grants cover; any other name, or none, is
judged by the policy alone, as before. The name is asserted by the caller, not
authenticated: it binds an install to its grants, the way a hook command binds it to
the daemon (ADR 0007).

Like ``rules.json`` the file is daemon-written (0600, atomic) and read at start; the
running daemon's copy is the one that counts, so a file edited behind its back changes
nothing until a restart, and the drift check reports it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stockade.errors import ConfigError
from stockade.home import Home, atomic_write

FORMAT_VERSION = 1
_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
MAX_NOTE = 500


def agents_path(home: Home) -> Path:
    return home.root / "agents.json"


def check_agent_name(name: str) -> str:
    """``name`` when it is a valid agent name; ``ValueError`` saying what a name may be."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        shown = repr(name[:70]) if isinstance(name, str) else type(name).__name__
        raise ValueError(
            f"invalid agent name {shown}: 1 to 64 characters of a-z, 0-9, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    return name


@dataclass(frozen=True, slots=True)
class Agent:
    """One registered agent."""

    name: str
    added_at: str
    by: str
    note: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "added_at": self.added_at, "by": self.by, "note": self.note}

    @classmethod
    def from_json(cls, data: Any) -> Agent:
        if not isinstance(data, dict) or set(data) != {"name", "added_at", "by", "note"}:
            raise ValueError("an agent is an object of name, added_at, by, note")
        note = data["note"]
        if not all(isinstance(data[k], str) for k in ("added_at", "by")) or not (
            note is None or isinstance(note, str)
        ):
            raise ValueError("added_at and by must be strings, note a string or null")
        return cls(check_agent_name(data["name"]), data["added_at"], data["by"], note)


def load_agents(home: Home) -> dict[str, Agent]:
    """The registry by name; empty when the file is absent; ``ConfigError`` when it is bad."""
    path = agents_path(home)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ConfigError(f"{path}: unreadable ({exc.strerror})", "check its permissions") from None
    try:
        data = json.loads(raw)
        if not isinstance(data, dict) or data.get("version") != FORMAT_VERSION:
            raise ValueError(f"expected an object with version {FORMAT_VERSION}")
        entries = data.get("agents")
        if not isinstance(entries, list):
            raise ValueError("agents must be a list")
        agents = [Agent.from_json(entry) for entry in entries]
    except ValueError as exc:
        raise ConfigError(
            f"{path}: {exc}",
            "restore it from a backup, or move it away (every agent is then unrestricted)",
        ) from None
    return {agent.name: agent for agent in agents}


def save_agents(home: Home, agents: dict[str, Agent]) -> None:
    """Replace the file atomically (0600) with ``agents``, sorted by name."""
    document = {
        "version": FORMAT_VERSION,
        "agents": [agents[name].to_json() for name in sorted(agents)],
    }
    atomic_write(agents_path(home), (json.dumps(document, indent=2) + "\n").encode())
