"""The checks of ``stockade verify``, in the order they run, and the loop that runs them.

Every check is read-only and runs the same with the daemon running (the audit log is
read on one WAL snapshot) or stopped. A check that cannot finish (an unreadable file,
a damaged database) is itself drift: a verification that could not verify must never
pass.

To add a check, write a :data:`~stockade.verify.report.Check` and append it to
:data:`CHECKS`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from stockade.caps.drift import check_capabilities
from stockade.errors import StockadeError
from stockade.home import Home
from stockade.verify.chain import check_audit_chain
from stockade.verify.checkpoints import check_audit_checkpoints
from stockade.verify.config import check_config_recorded
from stockade.verify.home import check_home
from stockade.verify.report import Check, CheckResult, Drift, Progress, Reporting
from stockade.verify.rules import check_rules_recorded

CHECKS: tuple[Check, ...] = (
    check_home,
    check_audit_chain,
    check_audit_checkpoints,
    check_config_recorded,
    check_rules_recorded,
    check_capabilities,
)


@dataclass(frozen=True, slots=True)
class VerifyResult:
    """Every check's result; ``ok`` exactly when none found drift."""

    checks: tuple[CheckResult, ...]

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks)

    @property
    def drifts(self) -> int:
        return sum(len(check.drifts) for check in self.checks)

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "checks": [check.to_json() for check in self.checks]}


def run(
    home: Home,
    checks: Sequence[Check] = CHECKS,
    *,
    progress: Progress | None = None,
) -> VerifyResult:
    """Run ``checks`` in order; ``progress`` goes to the long ones."""
    return VerifyResult(
        tuple(
            run_one(check if progress is None else _reporting(check, progress), home)
            for check in checks
        )
    )


def _reporting(check: Check, progress: Progress) -> Check:
    """The same check reporting its progress, when it is a long one."""
    long: object = check  # a Check is any callable; a long one also has ``reporting``
    return long.reporting(progress) if isinstance(long, Reporting) else check


def run_one(check: Check, home: Home) -> CheckResult:
    """One check; one that cannot finish reports that as its drift."""
    try:
        return check(home)
    except (StockadeError, OSError, sqlite3.Error) as exc:
        name = _name(check)
        message = exc.message if isinstance(exc, StockadeError) else f"{type(exc).__name__}: {exc}"
        hint = exc.hint if isinstance(exc, StockadeError) and exc.hint else None
        drift = Drift(
            name,
            f"could not be checked: {message}",
            hint or "repair what the message names, then run `stockade verify` again",
        )
        return CheckResult(name, "could not run", "", (drift,))


def _name(check: Check) -> str:
    """A check's id when it could not report one: ``check_audit_chain`` -> ``audit.chain``."""
    named = getattr(check, "name", None) or getattr(check, "__name__", "check")
    return str(named).removeprefix("check_").replace("_", ".")
