"""The runner of ``stockade verify``: order, progress for long checks, and a check that fails.

The checks themselves run on real homes in ``tests/integration/test_verify.py``; here the
checks are small functions written for the test, which is what a check is.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from stockade.errors import StockadeError
from stockade.home import Home
from stockade.verify.report import CheckResult, Drift, Progress
from stockade.verify.runner import run

HOME = Home(Path("/nonexistent/stockade-home"))


def check_fine(home: Home) -> CheckResult:
    return CheckResult("fine", "all is well", "checked nothing")


def check_broken_thing(home: Home) -> CheckResult:
    raise StockadeError("cannot read the thing", "make it readable")


def check_unreadable(home: Home) -> CheckResult:
    raise PermissionError(13, "Permission denied")


@dataclass(frozen=True)
class Long:
    progress: Progress | None = None

    def reporting(self, progress: Progress) -> Long:
        return Long(progress)

    def __call__(self, home: Home) -> CheckResult:
        if self.progress is not None:
            self.progress(5, 10)
        return CheckResult("long", "reports progress", str(self.progress is not None))


def test_checks_run_in_order_and_a_failing_check_is_drift() -> None:
    result = run(HOME, (check_fine, check_broken_thing, check_unreadable))
    seen = [check.name for check in result.checks]
    assert seen == ["fine", "broken.thing", "unreadable"]
    assert not result.ok and result.drifts == 2
    fine, broken, unreadable = result.checks
    assert fine.ok and not broken.ok
    assert broken.drifts == (
        Drift("broken.thing", "could not be checked: cannot read the thing", "make it readable"),
    )
    assert "PermissionError" in unreadable.drifts[0].problem
    assert result.to_json()["ok"] is False
    assert [c["name"] for c in result.to_json()["checks"]] == seen


def test_only_long_checks_are_given_the_progress() -> None:
    calls: list[tuple[int, int]] = []
    result = run(HOME, (Long(), check_fine), progress=lambda d, t: calls.append((d, t)))
    assert result.ok and result.checks[0].detail == "True" and calls == [(5, 10)]
    assert run(HOME, (Long(),)).checks[0].detail == "False"
