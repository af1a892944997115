"""Findings: what an inspector noticed about one part of a call.

A call is split into *subjects* (one per shell command part, one per file, one per
URL), each with the facts rules are matched against and the findings about it. A
finding either carries a hard verdict (a guard's deny) or only a zone, which the
security level turns into a verdict.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

from stockade.decision import Verdict, Zone
from stockade.policy.rules import CallFacts


class Finding(NamedTuple):
    """One thing an inspector noticed; immutable (cached analyses share them).

    A named tuple rather than a frozen dataclass: a decision creates several, and a
    frozen dataclass's ``__init__`` costs twice as much.
    """

    zone: Zone
    rule_id: str
    reason: str
    verdict: Verdict | None = None

    @property
    def denies(self) -> bool:
        return self.verdict is Verdict.DENY or self.zone is Zone.NEVER


@dataclass(slots=True)
class Subject:
    """One part of a call, the facts rules see for it, and what was found."""

    facts: CallFacts
    findings: list[Finding] = field(default_factory=list)


@dataclass(slots=True)
class Analysis:
    """Everything the inspectors learned about one call."""

    subjects: list[Subject] = field(default_factory=list)
    credential_sources: list[str] = field(default_factory=list)
    sinks: set[str] = field(default_factory=set)
    writes_outside: list[str] = field(default_factory=list)
