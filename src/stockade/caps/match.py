"""Whether an agent's grants cover a call: the check the engine runs for a restricted agent.

Pure, like the engine that calls it (:class:`stockade.policy.grants.Grants`): it gets
the call, its canonical action and the facts the inspectors found, one per part of the
call, and answers with the missing grant, or ``None``. Every part must be covered
(by any grant of the right family): ``ls && rm -rf x`` needs ``ls`` *and* ``rm``, a
``read_many_files`` needs every path, a fetch every URL's host. A part whose facts
are unknown (a path that did not resolve, a URL without a host, a command that did
not split) is covered only by a grant without constraints.

Grants are compiled once per set (the book caches the set until a token changes), so
a decision costs a few dict and regex lookups.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from stockade.caps.grant import FS_READ, FS_WRITE, NET_FETCH, SHELL_EXEC, Grant
from stockade.policy import actions as A
from stockade.policy.globs import compile_glob, glob_to_regex
from stockade.policy.rules import CallFacts, command_words, domain_matches
from stockade.request import ToolCall


def path_regex(pattern: str) -> re.Pattern[str]:
    """The glob as a regex; ``/dir/**`` also matches ``/dir`` itself (a search of it)."""
    if pattern.endswith("/**"):
        return re.compile(glob_to_regex(pattern[:-3]) + r"(?:/.*)?\Z", re.DOTALL)
    return compile_glob(pattern)


class _Family:
    """The grants of one family: ``unconstrained`` or the union of their constraints."""

    __slots__ = ("unconstrained", "values")

    def __init__(self) -> None:
        self.unconstrained = False
        self.values: list[Any] = []

    def add(self, values: Sequence[Any]) -> None:
        if values:
            self.values.extend(values)
        else:
            self.unconstrained = True


class GrantSet:
    """One agent's live grants, compiled; implements the engine's ``Grants`` protocol."""

    __slots__ = (
        "agent",
        "commands",
        "domains",
        "grants",
        "mcp",
        "programs",
        "reads",
        "tools",
        "writes",
    )

    def __init__(self, agent: str, grants: Sequence[Grant]) -> None:
        self.agent = agent
        self.grants = tuple(grants)
        tools: list[str] = []
        self.reads, self.writes = _Family(), _Family()
        self.commands, self.domains = _Family(), _Family()
        self.mcp: list[tuple[re.Pattern[str], tuple[tuple[str, re.Pattern[str]], ...]]] = []
        for grant in self.grants:
            c = grant.constraints
            family = grant.family
            if family == "tool.call":
                tools.append(f"(?:{glob_to_regex(grant.capability)})")
            elif family == "mcp.call":
                args = tuple((name, compile_glob(glob)) for name, glob in c.args)
                self.mcp.append((compile_glob(grant.capability), args))
            elif family == FS_READ:
                self.reads.add([path_regex(p) for p in c.paths])
            elif family == FS_WRITE:
                self.writes.add([path_regex(p) for p in c.paths])
            elif family == SHELL_EXEC:
                self.commands.add([p.split() for p in c.commands])
            elif family == NET_FETCH:
                self.domains.add(c.domains)
        # One alternation for every tool glob; prefixes filed by their first word.
        self.tools = re.compile("|".join(tools) + r"\Z", re.DOTALL) if tools else None
        self.programs: dict[str, list[list[str]]] = {}
        for prefix in self.commands.values:
            self.programs.setdefault(prefix[0], []).append(prefix)

    def missing(self, call: ToolCall, action: str, facts: Sequence[CallFacts]) -> str | None:
        """The grant this call lacks, as a reason; ``None`` when its grants cover it."""
        tool = call.tool_name
        if self.tools is not None and self.tools.match("tool.call." + tool):
            return None
        if action in (A.FS_READ, A.FS_SEARCH):
            lack = _paths(self.reads, facts)
            capability = FS_READ
        elif action == A.FS_WRITE:
            lack = _paths(self.writes, facts)
            capability = FS_WRITE
        elif action == A.SHELL_EXEC:
            lack = _commands(self.commands.unconstrained, self.programs, facts)
            capability = SHELL_EXEC
        elif action == A.NET_FETCH:
            lack = _hosts(self.domains, facts)
            capability = NET_FETCH
        elif action == A.MCP_CALL:
            return self._mcp(call)
        else:
            return self._reason(f"tool.call.{tool}")
        if lack is None:
            return None
        return self._reason(f"{capability} {lack!r}" if lack else f"{capability} (unknown target)")

    def _mcp(self, call: ToolCall) -> str | None:
        canonical = A.canonicalize(call.harness, call.tool_name)
        name = f"mcp.call.{canonical.mcp_server}.{canonical.mcp_tool}"
        named = [args for regex, args in self.mcp if regex.match(name)]
        if any(_args_match(args, call.tool_input) for args in named):
            return None
        return self._reason(name + (" with these arguments" if named else ""))

    def _reason(self, what: str) -> str:
        return f"agent {self.agent} has no grant for {what}"


def _paths(family: _Family, facts: Sequence[CallFacts]) -> str | None:
    """The first path no grant covers ("" for a part with no known path), or ``None``."""
    if family.unconstrained:
        return None
    for part in facts:
        if not part.paths:
            return ""
        for path in part.paths:
            if not any(regex.match(path) for regex in family.values):
                return path
    return None


def _commands(
    unconstrained: bool, programs: dict[str, list[list[str]]], facts: Sequence[CallFacts]
) -> str | None:
    """The program of the first part no prefix (filed by its program) covers, or ``None``.

    A wrapper the parser stripped (``sudo``, ``env``, ``timeout`` …) is a program the part
    runs as well: it is covered by any prefix that starts with it.
    """
    if unconstrained:
        return None
    seen = False
    for part in facts:
        for argv in part.commands:
            seen = True
            words = command_words(argv)
            if not words:
                return ""
            prefixes = programs.get(words[0], ())
            if not any(words[: len(prefix)] == prefix for prefix in prefixes):
                return words[0]
        for wrappers in part.wrappers:
            for wrapper in wrappers:  # `sudo git push` runs sudo too: it needs its own grant
                if wrapper not in programs:
                    return wrapper
    return None if seen else ""


def _hosts(family: _Family, facts: Sequence[CallFacts]) -> str | None:
    if family.unconstrained:
        return None
    for part in facts:
        if not part.hosts:
            return ""
        for host in part.hosts:
            if not any(domain_matches(domain, host) for domain in family.values):
                return host
    return None


def _args_match(
    args: tuple[tuple[str, re.Pattern[str]], ...], tool_input: Mapping[str, Any]
) -> bool:
    """Each constrained argument is a string matching its glob, and no ``..`` escapes it."""
    for name, regex in args:
        value = tool_input.get(name)
        if not isinstance(value, str) or "\x00" in value:
            return False
        if ".." in value.split("/") or not regex.match(value):
            return False
    return True
