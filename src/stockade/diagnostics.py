"""The result of one health check, shared by ``stockade doctor`` and the install checks.

Each check has a stable id (for scripts and docs), a status and, when not ok, what
fixes it. ``warn`` is for states that are legitimate but worth knowing; ``fail`` is
for what makes Stockade unsafe or unusable.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Status = Literal["ok", "warn", "fail"]


@dataclass(frozen=True, slots=True)
class Check:
    """One finding: ``fix`` says what to run when ``status`` is not ok."""

    id: str
    status: Status
    message: str
    fix: str | None = None

    def to_json(self) -> dict[str, str | None]:
        return {"id": self.id, "status": self.status, "message": self.message, "fix": self.fix}
