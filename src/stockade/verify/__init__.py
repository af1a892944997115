"""``stockade verify``: drift detection across the whole home.

Each check is a function ``(home) -> CheckResult`` (:mod:`stockade.verify.report`);
the runner calls them in order and exits non-zero when any of them found drift.
"""
