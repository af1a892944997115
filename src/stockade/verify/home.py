"""``home``: ``$STOCKADE_HOME`` is still private, and the identity is still one key pair.

The same rules the daemon enforces when it starts (:meth:`stockade.home.Home.problems`):
a home open to group or world, a symlink, a file someone else owns. A signing key that
was readable by others is worse than a loose file: whoever copied it can sign
checkpoints (and, later, capabilities) as this daemon, so its repair adds a rotation.
And ``public.json`` must hold the private key's public half: checkpoints are checked
against it, so a public key swapped for another one would vouch for whatever that
other key signed.
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
    files = IdentityFiles(home)
    problems = home.problems()
    drifts = [
        Drift(
            str(problem.path),
            f"{problem.path} {problem.problem}",
            problem.fix + (ROTATE if problem.path == files.private_path else ""),
        )
        for problem in problems
    ]
    exposed = any(problem.path == files.private_path for problem in problems)
    if files.exists() and not exposed:
        drifts.extend(_public_half(files))
    key = "identity key 0600" if files.exists() else "no identity key yet"
    return CheckResult(
        NAME, TITLE, f"{home.root}: directory 0700, files 0600, {key}", tuple(drifts)
    )


def _public_half(files: IdentityFiles) -> list[Drift]:
    key = files.load_signing_key()
    current = files.keyring().current
    if current is not None and current.fingerprint == key.fingerprint:
        return []
    shown = "no key" if current is None else current.fingerprint
    return [
        Drift(
            str(files.public_path),
            f"{files.public_path} names {shown}, not the private key's {key.fingerprint}",
            "restart the daemon, which rewrites it from the private key; if you did not "
            "change it, checkpoints were checked against a key that is not this daemon's: "
            "verify against a kept anchor (`stockade verify --anchor FILE`)",
        )
    ]
