"""What one drift check of ``stockade verify`` reports.

A check never repairs anything: it names what drifted and how a user can repair it,
so that the report can be read by a person and (``--json``) by a script alike.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from stockade.home import Home


@dataclass(frozen=True, slots=True)
class Drift:
    """One thing that is not as the audit log says it should be."""

    subject: str  # what drifted: "token cap_123", "event 4711", "stockade.toml"
    problem: str  # what is wrong with it, in one sentence
    repair: str  # what the user can do about it, in one sentence

    def to_json(self) -> dict[str, Any]:
        return {"subject": self.subject, "problem": self.problem, "repair": self.repair}


@dataclass(frozen=True, slots=True)
class CheckResult:
    """The outcome of one check: ``ok`` exactly when it found no drift."""

    name: str  # stable id: "audit.chain", "audit.checkpoints", "caps.tokens", ...
    title: str  # one line for people: "every audit event verifies"
    detail: str = ""  # what was checked: "1 000 000 events, 977 checkpoints"
    drifts: tuple[Drift, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        return not self.drifts

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "ok": self.ok,
            "detail": self.detail,
            "drifts": [drift.to_json() for drift in self.drifts],
        }


Check = Callable[[Home], CheckResult]

Progress = Callable[[int, int], None]
"""``progress(done, total)``: how far a long check got (the CLI draws a bar from it)."""


@runtime_checkable
class Reporting(Protocol):
    """A long check that can report its progress (the audit chain scan)."""

    def reporting(self, progress: Progress) -> Check:
        """The same check, calling ``progress`` as it goes."""
        ...
