"""``stockade verify``: drift detection across the whole home.

Each check is a function ``(home) -> CheckResult`` (:mod:`stockade.verify.report`), one
module each: :mod:`~stockade.verify.home`, :mod:`~stockade.verify.chain`,
:mod:`~stockade.verify.checkpoints` (and the ``--anchor`` check),
:mod:`~stockade.verify.config`, :mod:`~stockade.verify.rules`. The runner
(:mod:`stockade.verify.runner`) calls every one of its ``CHECKS`` in order; the CLI
(:mod:`stockade.cli.verify`) exits 6 when any of them found drift.
"""
