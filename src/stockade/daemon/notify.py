"""Desktop notification of a held call, so that a person knows something waits for them.

``notify-send`` (libnotify) is run when it is on ``PATH``; elsewhere nothing happens.
It runs in a daemon thread, detached from the request: a desktop without a
notification service can make it hang for seconds, and a hold must not wait on that.
The text names the tool, the approval id and how to answer, never the input (which
may hold what the redactor did not recognize).
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from stockade.daemon.approvals import Approval

logger = logging.getLogger(__name__)

NOTIFY_TIMEOUT_S = 10.0
_URGENCY = {"info": "normal", "warn": "normal", "critical": "critical"}


class Notifier:
    """Announces held calls; disabled, or with no ``notify-send`` found, it does nothing."""

    def __init__(
        self,
        *,
        enabled: bool,
        redact: Callable[[str], str] = str,
        command: str = "notify-send",
    ) -> None:
        self._command = shutil.which(command) if enabled else None
        self._redact = redact

    def held(self, approval: Approval) -> None:
        if self._command is None:
            return
        argv = [
            self._command,
            "--app-name=Stockade",
            f"--urgency={_URGENCY[approval.severity.value]}",
            f"Stockade: {approval.tool_name} is waiting for your approval",
            f"{approval.harness} session {approval.session_id[:40]}: "
            f"{self._redact(approval.reason)[:200]}\n"
            f"Answer with `stockade approvals approve {approval.id}` (or deny), "
            "or in the control UI.",
        ]
        threading.Thread(target=self._run, args=(argv,), daemon=True).start()

    @staticmethod
    def _run(argv: list[str]) -> None:
        try:
            subprocess.run(
                argv,
                timeout=NOTIFY_TIMEOUT_S,
                check=False,
                capture_output=True,
                stdin=subprocess.DEVNULL,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            logger.warning("notify-send failed: %s", type(exc).__name__)
