"""Pending approvals: an ``ask`` held open until a human answers it or its time runs out.

An approval is bound to one exact call (harness, session, tool, SHA-256 of the canonical
JSON of its input) and answers only the request holding it: single use. Its life is
``pending`` → ``approved`` | ``denied`` | ``expired``, and ``approved`` → ``executed``
once the harness reports that the call ran. Every transition out of ``pending`` is
claimed synchronously on the event loop, so of two racing resolutions exactly one wins
and the other is told the status it lost to.

A resolution is *claimed* first (status set, racing claims refused) and *settled* once
its audit event is durable: the held request wakes only then, so no call runs on an
answer the log does not hold. The broker is memory only: a restarted daemon has no
pending approvals, and their held requests have failed with the old daemon (the shim
then denies).

The broker lives on the daemon's event loop and is not thread-safe.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import secrets
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from stockade.audit.events import format_ts
from stockade.daemon.problems import ApiProblem
from stockade.decision import Decision, Zone
from stockade.request import ToolCall

ClientGone = Callable[[], Awaitable[None]]

MAX_PENDING = 256
KEEP_RESOLVED = 1000
_ID_BYTES = 4


class ApprovalStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    DENIED = "denied"
    EXPIRED = "expired"
    EXECUTED = "executed"


class Severity(StrEnum):
    """How much a held call could cost if approved by mistake, from its zone."""

    INFO = "info"
    WARN = "warn"
    CRITICAL = "critical"

    @classmethod
    def of(cls, zone: Zone) -> Severity:
        if zone >= Zone.MACHINE:
            return cls.CRITICAL
        return cls.WARN if zone >= Zone.NETWORK else cls.INFO


class Resolution(StrEnum):
    """How a human answered; ``always`` also recorded a learned allow rule."""

    APPROVE = "approve"
    DENY = "deny"
    ALWAYS = "always"


class Expiry(StrEnum):
    """Why a pending approval expired; recorded as its ``resolved_by``."""

    TIMEOUT = "timeout"
    DISCONNECT = "disconnect"
    SHUTDOWN = "shutdown"
    UNRECORDED = "unrecorded"  # its request or resolution could not be audited


class HoldRefused(Exception):
    """No approval can be opened (the daemon is stopping, or too many are pending)."""


def input_sha256(tool_input: Mapping[str, Any]) -> str:
    """SHA-256 of the canonical JSON of a tool input: how a result is matched to its approval."""
    canonical = json.dumps(tool_input, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(slots=True, eq=False)
class Approval:
    """One held call. ``input`` is redacted; the raw call (``call``) never leaves memory:
    an "always" answer learns its rule from it."""

    id: str
    call: ToolCall = field(repr=False)
    harness: str
    session_id: str
    tool_name: str
    action: str
    input: Any
    input_sha256: str
    reason: str
    rule_id: str
    zone: str
    severity: Severity
    cwd: str
    project_root: str | None
    created_at: datetime
    expires_at: datetime
    status: ApprovalStatus = ApprovalStatus.PENDING
    resolved_at: datetime | None = None
    resolved_by: str | None = None
    note: str | None = None
    learned_rule: str | None = None
    settled: asyncio.Event = field(default_factory=asyncio.Event, repr=False)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "harness": self.harness,
            "session_id": self.session_id,
            "tool_name": self.tool_name,
            "action": self.action,
            "input": self.input,
            "input_sha256": self.input_sha256,
            "reason": self.reason,
            "rule_id": self.rule_id,
            "zone": self.zone,
            "severity": self.severity.value,
            "cwd": self.cwd,
            "project_root": self.project_root,
            "status": self.status.value,
            "created_at": format_ts(self.created_at),
            "expires_at": format_ts(self.expires_at),
            "resolved_at": None if self.resolved_at is None else format_ts(self.resolved_at),
            "resolved_by": self.resolved_by,
            "learned_rule": self.learned_rule,
        }


class ApprovalBroker:
    """The pending approvals and the most recent resolved ones (see the module docstring)."""

    def __init__(
        self,
        *,
        max_pending: int = MAX_PENDING,
        keep_resolved: int = KEEP_RESOLVED,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._max_pending = max_pending
        self._keep_resolved = keep_resolved
        self._clock = clock
        self._pending: dict[str, Approval] = {}
        self._resolved: OrderedDict[str, Approval] = OrderedDict()
        self._closed = False

    def open(
        self, call: ToolCall, decision: Decision, redacted_input: Any, timeout_s: float
    ) -> Approval:
        """A new pending approval for ``call``; raises :class:`HoldRefused` when none can be."""
        if self._closed:
            raise HoldRefused("the daemon is stopping")
        if len(self._pending) >= self._max_pending:
            raise HoldRefused(f"{self._max_pending} calls are already waiting for approval")
        now = self._clock()
        approval = Approval(
            id=self._new_id(),
            call=call,
            harness=call.harness,
            session_id=call.session_id,
            tool_name=call.tool_name,
            action=decision.action,
            input=redacted_input,
            input_sha256=input_sha256(call.tool_input),
            reason=decision.reason,
            rule_id=decision.rule_id,
            zone=decision.zone.label,
            severity=Severity.of(decision.zone),
            cwd=call.cwd,
            project_root=call.project_root,
            created_at=now,
            expires_at=now + timedelta(seconds=timeout_s),
        )
        self._pending[approval.id] = approval
        return approval

    def get(self, approval_id: str) -> Approval | None:
        return self._pending.get(approval_id) or self._resolved.get(approval_id)

    def require(self, approval_id: str) -> Approval:
        """The approval, or 404 ``not_found`` (it may also have aged out of memory)."""
        approval = self.get(approval_id)
        if approval is None:
            raise ApiProblem(
                404,
                "not_found",
                f"no approval with id {approval_id[:40]!r}",
                "see `stockade approvals list --all`",
            )
        return approval

    def require_pending(self, approval_id: str) -> Approval:
        """The approval if it is still pending; 404 when unknown, 409 with its status if not."""
        approval = self.require(approval_id)
        if approval.status is not ApprovalStatus.PENDING:
            raise ApiProblem(
                409,
                "not_pending",
                f"approval {approval.id} is not pending: it is {approval.status.value}",
                "an approval answers once; the agent must try the call again",
            )
        return approval

    def listing(self, *, include_resolved: bool) -> list[Approval]:
        """Oldest first; resolved ones only when asked for."""
        found = list(self._pending.values())
        if include_resolved:
            found += self._resolved.values()
        return sorted(found, key=lambda approval: approval.created_at)

    def claim(
        self, approval_id: str, status: ApprovalStatus, by: str, note: str | None
    ) -> Approval:
        """Take a pending approval to ``status``; 404 when unknown, 409 when not pending.

        The held request is not woken until :meth:`settle`.
        """
        approval = self.require_pending(approval_id)
        self._finish(approval, status, by)
        approval.note = note
        return approval

    def settle(self, approval: Approval, *, recorded: bool) -> None:
        """Wake the held request; a resolution the audit log does not hold counts as expired."""
        if not recorded:
            approval.status = ApprovalStatus.EXPIRED
            approval.resolved_by = Expiry.UNRECORDED.value
        approval.settled.set()

    def expire(self, approval: Approval, why: Expiry) -> None:
        """Expire ``approval`` if it is still pending (else a resolution won) and wake it."""
        if approval.status is ApprovalStatus.PENDING:
            self._finish(approval, ApprovalStatus.EXPIRED, why.value)
            approval.settled.set()

    async def wait(
        self, approval: Approval, timeout_s: float, client_gone: ClientGone | None
    ) -> None:
        """Until ``approval`` is settled; expired first when time runs out or the client left.

        ``client_gone`` returns once the held request's client has hung up. Cancelled
        (a forced shutdown), this still leaves nothing pending behind.
        """
        why = Expiry.TIMEOUT

        async def expire_when_gone(gone: ClientGone) -> None:
            nonlocal why
            with contextlib.suppress(Exception):  # a broken connection is a gone client
                await gone()
            why = Expiry.DISCONNECT
            self.expire(approval, why)

        try:
            async with asyncio.timeout(timeout_s), asyncio.TaskGroup() as tasks:
                watcher = (
                    None
                    if client_gone is None
                    else tasks.create_task(expire_when_gone(client_gone))
                )
                await approval.settled.wait()
                if watcher is not None:
                    watcher.cancel()
        except TimeoutError:
            pass
        finally:
            self.expire(approval, why)
        # A claimed resolution settles as soon as its audit append returns.
        await approval.settled.wait()

    def mark_executed(
        self, harness: str, session_id: str, tool_name: str, digest: str
    ) -> Approval | None:
        """The oldest approved, not yet executed approval of this exact call, now ``executed``."""
        for approval in self._resolved.values():
            if (
                approval.status is ApprovalStatus.APPROVED
                and approval.settled.is_set()
                and (approval.harness, approval.session_id) == (harness, session_id)
                and (approval.tool_name, approval.input_sha256) == (tool_name, digest)
            ):
                approval.status = ApprovalStatus.EXECUTED
                return approval
        return None

    def close(self) -> None:
        """Refuse new holds and expire every pending one, so a stopping daemon never waits."""
        self._closed = True
        for approval in list(self._pending.values()):
            self.expire(approval, Expiry.SHUTDOWN)

    def _finish(self, approval: Approval, status: ApprovalStatus, by: str) -> None:
        approval.status = status
        approval.resolved_at = self._clock()
        approval.resolved_by = by
        del self._pending[approval.id]
        self._resolved[approval.id] = approval
        while len(self._resolved) > self._keep_resolved:
            self._resolved.popitem(last=False)

    def _new_id(self) -> str:
        """Eight hex digits: easy to type, and 32 bits that another local process must guess."""
        while True:
            candidate = secrets.token_hex(_ID_BYTES)
            if self.get(candidate) is None:
                return candidate
