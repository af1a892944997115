"""``audit.chain``: every event of the audit log verifies against the hash chain.

The chain is :func:`stockade.audit.verify_database`'s, read-only on one WAL snapshot, so
it runs beside a live daemon. It catches an edited, inserted, deleted or reordered
event; a cut tail or a rebuilt chain is ``audit.checkpoints``'s to catch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from stockade.audit import verify_database
from stockade.home import Home
from stockade.identity import IdentityFiles
from stockade.verify.report import CheckResult, Drift, Progress

NAME = "audit.chain"
TITLE = "every audit event verifies against the hash chain"


def tampered(home: Home, seq: int) -> str:
    """The repair of any audit drift: there is none in place, only evidence to keep."""
    return (
        f"events from seq {seq} on cannot be trusted: keep a copy of {home.audit_path} "
        "for investigation, and compare it with a backup or a kept anchor"
    )


@dataclass(frozen=True, slots=True)
class AuditChain:
    """The check; ``progress(checked, total)`` is told how far the scan got."""

    progress: Progress | None = None
    name: ClassVar[str] = NAME

    def reporting(self, progress: Progress) -> AuditChain:
        return AuditChain(progress)

    def __call__(self, home: Home) -> CheckResult:
        path = home.audit_path
        if not path.exists():
            return _no_log(home)
        report = verify_database(path, progress=self.progress)
        detail = f"{report.checked:,} events, head #{report.head.seq}"
        if report.ok or report.first_bad_seq is None:
            return CheckResult(NAME, TITLE, detail)
        seq = report.first_bad_seq
        drift = Drift(f"event {seq}", str(report.problem), tampered(home, seq))
        return CheckResult(NAME, TITLE, detail, (drift,))


def _no_log(home: Home) -> CheckResult:
    """No log is fine before the first start; with an identity the daemon ran, so it is gone."""
    if not IdentityFiles(home).exists():
        return CheckResult(NAME, TITLE, "no audit log yet: the daemon creates it when it starts")
    drift = Drift(
        str(home.audit_path),
        "the audit log is missing, though the daemon has an identity, so it has run",
        "restore the log from a backup; `stockade serve` would start a new, empty one",
    )
    return CheckResult(NAME, TITLE, "no audit log", (drift,))


check_audit_chain = AuditChain()
