"""Security levels: each maps the seven zones of risk to a verdict.

| zone      | permissive | standard | strict | paranoid |
|-----------|------------|----------|--------|----------|
| safe      | allow      | allow    | allow  | allow    |
| workspace | allow      | allow    | allow  | ask      |
| build     | allow      | allow    | ask    | ask      |
| network   | allow      | ask      | ask    | deny     |
| external  | allow      | ask      | ask    | deny     |
| machine   | ask        | ask      | deny   | deny     |
| never     | deny       | deny     | deny   | deny     |

``never`` is denied at every level; peers only *ask* there, Stockade does not.
"""

from __future__ import annotations

from stockade.config.model import Level
from stockade.decision import Verdict, Zone

A, Q, D = Verdict.ALLOW, Verdict.ASK, Verdict.DENY

LEVEL_TABLE: dict[Level, tuple[Verdict, ...]] = {
    Level.PERMISSIVE: (A, A, A, A, A, Q, D),
    Level.STANDARD: (A, A, A, Q, Q, Q, D),
    Level.STRICT: (A, A, Q, Q, Q, D, D),
    Level.PARANOID: (A, Q, Q, D, D, D, D),
}


def zone_verdict(level: Level, zone: Zone) -> Verdict:
    """The verdict ``level`` gives ``zone``."""
    return LEVEL_TABLE[level][zone]
