"""What a handler reports about one command, and the record the engine receives.

:class:`Result` stays mutable while the analysis raises its zone (:meth:`Result.floor`)
for what redirections, wrappers and ancestors imply; :class:`CommandFacts` is the frozen
record handed on. Rule ids and reasons are built here so that every handler names them alike.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from stockade.decision import Zone
from stockade.policy.shell import SimpleCommand


@dataclass(frozen=True, slots=True)
class CommandFacts:
    """What one simple command does, as far as can be known without running it."""

    command: SimpleCommand
    zone: Zone
    rule_id: str
    reason: str
    reads: tuple[str, ...] = ()
    writes: tuple[str, ...] = ()
    sinks: frozenset[str] = frozenset()


_CATEGORY = {Zone.SAFE: "readonly", Zone.WORKSPACE: "write", Zone.BUILD: "build"}
_CATEGORY |= {Zone.NETWORK: "network", Zone.EXTERNAL: "external", Zone.MACHINE: "machine"}
_WHY = {Zone.SAFE: "only reads", Zone.WORKSPACE: "modifies files", Zone.BUILD: "runs code"}
_WHY |= {Zone.NETWORK: "uses the network", Zone.EXTERNAL: "acts on another system"}
_WHY |= {Zone.MACHINE: "changes the machine"}


class Result:
    __slots__ = ("reads", "reason", "rule", "sinks", "writes", "zone")

    def __init__(
        self, zone: Zone, rule: str, reason: str,
        reads: Iterable[str] = (), writes: Iterable[str] = (), sinks: Iterable[str] = (),
    ) -> None:  # fmt: skip
        self.zone, self.rule, self.reason = zone, rule, reason
        self.reads, self.writes, self.sinks = list(reads), list(writes), set(sinks)
        self.sinks |= _ZONE_SINKS.get(zone, set())

    def floor(self, zone: Zone, rule: str, reason: str) -> None:
        """Raise to ``zone`` (naming the new rule) unless already at least that high."""
        if zone > self.zone:
            self.zone, self.rule, self.reason = zone, rule, reason
        self.sinks |= _ZONE_SINKS.get(zone, set())


_ZONE_SINKS = {Zone.NETWORK: {"network"}, Zone.EXTERNAL: {"network", "external"}}


def zoned(
    zone: Zone, name: str, what: str = "", *, reads: Iterable[str] = (), writes: Iterable[str] = ()
) -> Result:
    reason = f"{what or name} {_WHY[zone]}"
    return Result(zone, f"shell.{_CATEGORY[zone]}.{name}", reason, reads, writes)


def never(rule: str, reason: str, writes: Iterable[str] = ()) -> Result:
    return Result(Zone.NEVER, f"shell.catastrophic.{rule}", reason, writes=writes)
