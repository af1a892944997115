"""``home``: ``$STOCKADE_HOME`` is still private, and so is the identity's signing key.

The same rules the daemon enforces when it starts (:meth:`stockade.home.Home.problems`):
a home open to group or world, a symlink, a file someone else owns. A signing key that
was readable by others is worse than a loose file: whoever copied it can sign
checkpoints (and, later, capabilities) as this daemon, so its repair adds a rotation.
"""

from __future__ import annotations

import os

from stockade.home import Home
from stockade.identity import IdentityFiles
from stockade.verify.report import CheckResult, Drift

NAME = "home"
TITLE = "the home and its identity key are private to you"
ROTATE = "; it may have been copied: rotate it with `stockade identity rotate --yes`"


def check_home(home: Home) -> CheckResult:
    if not os.path.lexists(home.root):
        return CheckResult(NAME, TITLE, f"{home.root} does not exist yet: nothing to check")
    private_key = IdentityFiles(home).private_path
    drifts = tuple(
        Drift(
            str(problem.path),
            f"{problem.path} {problem.problem}",
            problem.fix + (ROTATE if problem.path == private_key else ""),
        )
        for problem in home.problems()
    )
    key = "identity key 0600" if os.path.lexists(private_key) else "no identity key yet"
    return CheckResult(NAME, TITLE, f"{home.root}: directory 0700, files 0600, {key}", drifts)
