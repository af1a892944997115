"""What the engine answers: a verdict, why, which rule decided, and the zone."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum, StrEnum


class Verdict(StrEnum):
    """allow < ask < deny: the most restrictive verdict always wins."""

    ALLOW = "allow"
    ASK = "ask"
    DENY = "deny"

    @property
    def severity(self) -> int:
        return _VERDICT_SEVERITY[self]

    @staticmethod
    def strictest(*verdicts: Verdict) -> Verdict:
        """The most restrictive of ``verdicts`` (``DENY`` when given none: fail closed)."""
        return max(verdicts, key=_VERDICT_SEVERITY.__getitem__, default=Verdict.DENY)


_VERDICT_SEVERITY = {Verdict.ALLOW: 0, Verdict.ASK: 1, Verdict.DENY: 2}


class Zone(IntEnum):
    """Seven ordered levels of risk; a security level maps each to a verdict."""

    SAFE = 0
    WORKSPACE = 1
    BUILD = 2
    NETWORK = 3
    EXTERNAL = 4
    MACHINE = 5
    NEVER = 6

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Zone:
        try:
            return cls[text.upper()]
        except KeyError:
            valid = ", ".join(z.label for z in cls)
            raise ValueError(f"unknown zone {text!r}; valid: {valid}") from None


@dataclass(frozen=True, slots=True)
class Decision:
    """The engine's answer to one request.

    ``rule_id`` names the rule that decided (``"zone:network"``, ``"guard:path.outside-project"``,
    ``"tools.deny[2]"``, ``"flow:credential-then-network"``, ...), so that every verdict
    can be traced back to configuration or to built-in behaviour.
    ``action`` is the canonical action (``fs.write``, ``shell.exec`` ...).
    """

    verdict: Verdict
    reason: str
    rule_id: str
    zone: Zone
    action: str

    def to_json(self) -> dict[str, str]:
        return {
            "verdict": self.verdict.value,
            "reason": self.reason,
            "rule_id": self.rule_id,
            "zone": self.zone.label,
            "action": self.action,
        }
