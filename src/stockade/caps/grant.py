"""What a capability grants: one action family and the constraints that narrow it.

The capabilities, and the constraint each takes (none given: the whole family):

===============================  ========================================================
capability                       constraint
===============================  ========================================================
``tool.call.<name-glob>``        none: any call to a tool whose harness name matches
``fs.read`` / ``fs.write``       ``paths``: absolute globs (``~/`` expanded at grant time);
                                 ``fs.read`` also covers searches (Glob, Grep, LS)
``shell.exec``                   ``commands``: word-wise prefixes; *every* part of a
                                 compound command must start with one of them, and
                                 each wrapper (``sudo`` …) must start one
``net.fetch``                    ``domains``: ``example.com`` or ``*.example.com``
``mcp.call.<server>.<tool>``     ``args``: ``{name: glob}``, each a string argument of
                                 the call that must match (globs allowed in server, tool)
===============================  ========================================================

Validation happens here, once, at grant time: a token that holds a constraint this
module would refuse is refused when it is loaded too, so nothing downstream meets a
malformed one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from stockade.policy.globs import compile_glob

TOOL_CALL = "tool.call."
MCP_CALL = "mcp.call."
FS_READ, FS_WRITE, SHELL_EXEC, NET_FETCH = "fs.read", "fs.write", "shell.exec", "net.fetch"
FORMS = (
    "tool.call.<name-glob>",
    FS_READ,
    FS_WRITE,
    SHELL_EXEC,
    NET_FETCH,
    "mcp.call.<server>.<tool>",
)
MAX_CONSTRAINTS = 64
MAX_TEXT = 1000
_NAME_GLOB = re.compile(r"[A-Za-z0-9_*?\[\]!.:-]+")
_MCP = re.compile(r"mcp\.call\.(?P<server>[A-Za-z0-9_*?\[\]!-]+)\.(?P<tool>[A-Za-z0-9_*?\[\]!.-]+)")
_DOMAIN = re.compile(r"(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*")
_ARG_NAME = re.compile(r"[A-Za-z0-9_.-]{1,100}")
_SHELL_SYNTAX = frozenset(";&|`$()<>\n\\\"'")
_DURATION = re.compile(r"(?P<n>[0-9]{1,6})(?P<unit>[smhdw])")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


class GrantError(ValueError):
    """A capability or constraint that cannot be granted; the message says why."""


@dataclass(frozen=True, slots=True)
class Constraints:
    """What narrows a capability; each field applies to one capability family only."""

    paths: tuple[str, ...] = ()
    commands: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()
    args: tuple[tuple[str, str], ...] = ()  # (argument name, glob), sorted by name

    def to_json(self) -> dict[str, Any]:
        """The ``constraints`` object of a token: only the fields that are set."""
        data: dict[str, Any] = {}
        for name in ("paths", "commands", "domains"):
            values = getattr(self, name)
            if values:
                data[name] = list(values)
        if self.args:
            data["args"] = dict(self.args)
        return data

    @classmethod
    def from_json(cls, data: Any) -> Constraints:
        if not isinstance(data, dict) or set(data) - {"paths", "commands", "domains", "args"}:
            raise GrantError("constraints must be an object of paths, commands, domains, args")
        lists = {}
        for name in ("paths", "commands", "domains"):
            values = data.get(name, [])
            if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
                raise GrantError(f"constraints.{name} must be a list of strings")
            lists[name] = tuple(values)
        args = data.get("args", {})
        if not isinstance(args, dict) or not all(isinstance(v, str) for v in args.values()):
            raise GrantError("constraints.args must map argument names to globs")
        return cls(args=tuple(sorted(args.items())), **lists)


@dataclass(frozen=True, slots=True)
class Grant:
    """One validated capability and its constraints, ready to match calls."""

    capability: str
    constraints: Constraints = field(default_factory=Constraints)

    @property
    def family(self) -> str:
        """``tool.call``, ``mcp.call`` or the capability itself (``fs.read`` …)."""
        for prefix in (TOOL_CALL, MCP_CALL):
            if self.capability.startswith(prefix):
                return prefix[:-1]
        return self.capability


def make_grant(capability: str, constraints: Constraints, *, user_home: str) -> Grant:
    """A validated :class:`Grant`; ``~/`` paths become absolute under ``user_home``.

    Raises :class:`GrantError` naming the problem and what is accepted instead.
    """
    capability = capability.strip()
    family = _family(capability)
    allowed = {
        FS_READ: "paths",
        FS_WRITE: "paths",
        SHELL_EXEC: "commands",
        NET_FETCH: "domains",
        "mcp.call": "args",
        "tool.call": None,
    }[family]
    given = {name for name, value in _fields(constraints) if value}
    wrong = given - ({allowed} if allowed else set())
    if wrong:
        takes = f"takes only {allowed}" if allowed else "takes no constraints"
        raise GrantError(f"{capability} {takes}, not {', '.join(sorted(wrong))}")
    if sum(len(value) for _, value in _fields(constraints)) > MAX_CONSTRAINTS:
        raise GrantError(f"at most {MAX_CONSTRAINTS} constraints per grant")
    checked = Constraints(
        paths=tuple(_path(p, user_home) for p in constraints.paths),
        commands=tuple(_command(c) for c in constraints.commands),
        domains=tuple(_domain(d) for d in constraints.domains),
        args=tuple(sorted((_arg_name(k), _glob(v, "argument glob")) for k, v in constraints.args)),
    )
    return Grant(capability, checked)


def parse_arg(text: str) -> tuple[str, str]:
    """``path=/srv/*`` -> ``("path", "/srv/*")`` (the CLI's ``--arg``)."""
    name, sep, glob = text.partition("=")
    if not sep:
        raise GrantError(f"--arg {text!r} must be NAME=GLOB, e.g. path=/srv/*")
    return name, glob


def expires_at(text: str, now: datetime) -> datetime:
    """``2h``, ``30m``, ``7d``, ``1w``, ``90s`` after ``now``, or an ISO 8601 time with zone."""
    match = _DURATION.fullmatch(text.strip())
    if match:
        return now + timedelta(seconds=int(match["n"]) * _UNITS[match["unit"]])
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise GrantError(
            f"--expires {text!r} is neither a duration (2h, 30m, 7d) nor an ISO 8601 time"
        ) from None
    if moment.tzinfo is None:
        raise GrantError(f"--expires {text!r} needs a time zone, e.g. 2027-01-31T12:00:00Z")
    if moment <= now:
        raise GrantError(f"--expires {text!r} is in the past")
    return moment.astimezone(UTC)


def _family(capability: str) -> str:
    if capability in (FS_READ, FS_WRITE, SHELL_EXEC, NET_FETCH):
        return capability
    if capability.startswith(TOOL_CALL):
        if _NAME_GLOB.fullmatch(capability[len(TOOL_CALL) :]):
            _glob(capability, "tool name glob")
            return "tool.call"
    elif capability.startswith(MCP_CALL):
        if _MCP.fullmatch(capability):
            _glob(capability, "MCP server and tool glob")
            return "mcp.call"
    raise GrantError(f"unknown capability {capability[:100]!r}; valid: {', '.join(FORMS)}")


def _fields(constraints: Constraints) -> list[tuple[str, tuple[Any, ...]]]:
    return [
        ("paths", constraints.paths),
        ("commands", constraints.commands),
        ("domains", constraints.domains),
        ("args", constraints.args),
    ]


def _text(value: str, what: str) -> str:
    if not value or len(value) > MAX_TEXT or "\x00" in value:
        raise GrantError(f"{what} must be 1 to {MAX_TEXT} characters without NUL bytes")
    return value


def _glob(pattern: str, what: str) -> str:
    try:
        compile_glob(_text(pattern, what))
    except re.error:
        raise GrantError(f"{what} {pattern[:100]!r} is not a valid glob") from None
    return pattern


def _path(pattern: str, user_home: str) -> str:
    pattern = _text(pattern.strip(), "a path glob")
    if pattern == "~" or pattern.startswith("~/"):
        pattern = user_home.rstrip("/") + pattern[1:]
    if not pattern.startswith("/"):
        raise GrantError(f"path {pattern[:100]!r} must be absolute (or start with ~/)")
    if ".." in pattern.split("/"):
        raise GrantError(f"path {pattern[:100]!r} may not contain '..'")
    return _glob(pattern, "path glob")


def _command(prefix: str) -> str:
    words = _text(prefix, "a command prefix").split()
    if not words:
        raise GrantError("a command prefix needs at least one word, e.g. 'git status'")
    if any(char in _SHELL_SYNTAX for char in prefix):
        raise GrantError(
            f"command prefix {prefix[:100]!r} holds shell syntax; give the words of one "
            "command, e.g. 'git status' (each part of a compound command is checked alone)"
        )
    return " ".join(words)


def _domain(domain: str) -> str:
    cleaned = _text(domain, "a domain").strip().lower().rstrip(".")
    if not _DOMAIN.fullmatch(cleaned) or len(cleaned) > 253:
        raise GrantError(f"domain {domain[:100]!r} must be like example.com or *.example.com")
    return cleaned


def _arg_name(name: str) -> str:
    if not _ARG_NAME.fullmatch(name):
        raise GrantError(f"argument name {name[:100]!r} must be letters, digits, _ . or -")
    return name
