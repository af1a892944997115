"""The data path in one screen: body -> ToolCall -> decide -> audit -> answer.

Two invariants live here. A failure while deciding is answered with a deny (and
audited as ``decision.error``), never with an error a hook might fail open on.
And no answer leaves before its audit event is durable: if the append fails, the
request fails with a 500, which carries no verdict and so is never an allow.

A held ``ask`` (``hold_s``, ADR 0004) waits for a human through the
:class:`ApprovalBroker`. Its credential reads taint the session only once it is
approved, and an approved call is judged again before it is allowed: the session
may have read a credential while it waited, and an approval never overrides a deny.

A tool's output that held a secret (a vault value or a secret's shape, found by the
redactor) taints its session too, as ``content:<label>``: what the call read was a
credential, whatever its name said. With ``[logging] redact = "off"`` (read at start)
the model gets the output as it was, but the secret is still found and taints.

A call's credential reads taint its session when it is answered with anything but a
deny, and again when a tool result says it succeeded, whatever it was answered: a
denied call can still have run (a harness that ignored the deny, a policy changed in
between), and what it read is then in the session all the same.

The engine is pure and fast (microseconds), so ``decide`` runs on the event loop;
configuration reloads, which read files, and redaction of large tool outputs go to
a thread.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections import Counter
from collections.abc import Iterator
from typing import Any

from stockade.audit import AuditEvent, SqliteAuditStore, StoredEvent
from stockade.caps.desk import CapsDesk
from stockade.config.learned import LearnedRule, save_learned
from stockade.daemon.approvals import (
    Approval,
    ApprovalBroker,
    ApprovalStatus,
    ClientGone,
    Expiry,
    HoldRefused,
    Resolution,
    input_sha256,
)
from stockade.daemon.events import EventHub
from stockade.daemon.notify import Notifier
from stockade.daemon.problems import ApiProblem
from stockade.daemon.schemas import (
    DecideBody,
    PromptBody,
    SessionBody,
    ToolCallBody,
    ToolResultBody,
)
from stockade.decision import Decision, Verdict, Zone
from stockade.errors import ConfigError
from stockade.policy.actions import TOOL_UNKNOWN, canonicalize
from stockade.policy.learning import Scope, ScopeError
from stockade.policy.state import Outcome, prompt_digest
from stockade.redact import MARKER, Redactor
from stockade.request import ToolCall
from stockade.service import DecisionService

logger = logging.getLogger(__name__)

ERROR_RULE = "error:internal"
TAINT_KIND = "session.tainted"
REQUEST_KIND = "permission.request"
RESOLVED_KIND = "permission.resolved"
_RESOLVED_AS = {
    Resolution.APPROVE: "approved",
    Resolution.DENY: "denied",
    Resolution.ALWAYS: "always",
}
PAGE = 1000
CONTENT_SOURCE = "content:"  # + the label of a secret found in a tool's output
CRASHED = "crash"  # why an approval the last run left held expired (see `unclosed_holds`)


def restore_session_taints(store: SqliteAuditStore, service: DecisionService) -> int:
    """Give every session that read a credential its taint back; returns how many events."""
    restored = 0
    for event in _events_of_kind(store, TAINT_KIND):
        payload = event.payload
        sources = payload.get("sources")
        if event.session and isinstance(sources, list):
            harness = str(payload.get("harness", ""))
            service.add_taint(harness, event.session, [str(x) for x in sources])
            restored += 1
    return restored


def unclosed_holds(store: SqliteAuditStore) -> list[AuditEvent]:
    """The ``permission.resolved`` events that close what the last run left held.

    A daemon that stops closes every pending approval (``why: shutdown``); one that was
    killed, or whose machine went down, leaves its ``permission.request`` events without
    an answer. Approvals live in memory, and the hooks that waited on them are gone, so
    each is recorded as expired, ``why: crash``, before this run starts.
    """
    starts = store.query(kind="daemon.started", limit=1, descending=True)
    after = starts[0].seq if starts else 0
    held = {
        str(event.payload.get("approval_id")): event
        for event in _events_of_kind(store, REQUEST_KIND, after)
    }
    for event in _events_of_kind(store, RESOLVED_KIND, after):
        held.pop(str(event.payload.get("approval_id")), None)
    closed = []
    for event in held.values():
        ref = {key: event.payload.get(key) for key in _APPROVAL_REF}
        payload = {**ref, "resolution": "expired", "why": CRASHED}
        closed.append(AuditEvent(RESOLVED_KIND, event.actor, event.session, payload))
    return closed


def _events_of_kind(store: SqliteAuditStore, kind: str, after: int = 0) -> Iterator[StoredEvent]:
    """Every event of ``kind`` after seq ``after``, a page at a time."""
    while True:
        events = store.query(after=after, limit=PAGE, kind=kind)
        yield from events
        if len(events) < PAGE:
            return
        after = events[-1].seq


class Pipeline:
    """Turns validated bodies into audited answers; shared by the routes and SIGHUP."""

    def __init__(
        self,
        service: DecisionService,
        store: SqliteAuditStore,
        redactor: Redactor | None = None,
        approvals: ApprovalBroker | None = None,
        notifier: Notifier | None = None,
        events: EventHub | None = None,
        redact_output: bool = True,
    ) -> None:
        """``events`` is the hub ``store`` reports to (its ``on_stored``); without
        ``redact_output`` (``[logging] redact = "off"``) tool output goes back as it was."""
        self.service = service
        self.store = store
        self.redactor = redactor or Redactor()
        self.approvals = approvals or ApprovalBroker()
        self.notifier = notifier or Notifier(enabled=False)
        self.events = events or EventHub()
        self.redact_output = redact_output
        # Serializes reloads (SIGHUP and POST /reload may race); decisions never wait on it.
        self._reload_lock = asyncio.Lock()
        # Serializes changes to the learned rules file (read, add or remove, write).
        self._rules_lock = asyncio.Lock()

    @functools.cached_property
    def caps(self) -> CapsDesk:
        """Agents and capability grants: granted, revoked and reported through the log."""
        return CapsDesk(self.service.capabilities, self.store)

    async def decide(
        self, body: DecideBody, client_gone: ClientGone | None = None
    ) -> dict[str, Any]:
        """Decide one call, advance its session, and answer only once the event is durable.

        With ``hold_s`` an ``ask`` waits for a human, or until ``client_gone`` returns.
        """
        call = body.to_call()
        kind = "decision"
        try:
            outcome = self.service.evaluate(call)
        except Exception as exc:  # any engine bug must turn into a deny, not an allow
            logger.error("decision failed for session %s: %s", call.session_id, type(exc).__name__)
            kind = "decision.error"
            outcome = Outcome(_internal_deny())
        await self.caps.report_rejections()  # a token found to grant nothing: audited once
        approval: Approval | None = None
        hold_s = body.hold_s if outcome.decision.verdict is Verdict.ASK else None
        if hold_s is not None:
            outcome, approval = await self._hold(call, outcome.decision, hold_s, client_gone)
        tainted = self._taint(call, outcome.admitted_reads)
        payload = _payload(call, outcome.decision)
        if hold_s is not None:
            approval_id = None if approval is None else approval.id
            payload |= {"engine_verdict": Verdict.ASK.value, "approval_id": approval_id}
        seq = await self._append(kind, call.harness, call.session_id, payload)
        if tainted:
            # Durable like the decision, so that a restarted daemon still knows this
            # session holds a credential (restored by `restore_session_taints`).
            taint = {"harness": call.harness, "sources": tainted, "decision_seq": seq}
            await self._append(TAINT_KIND, call.harness, call.session_id, taint)
        answer = {**outcome.decision.to_json(), "event_seq": seq}
        if approval is not None:
            answer["approval"] = {"id": approval.id, "status": approval.status.value}
        return answer

    async def _hold(
        self, call: ToolCall, asked: Decision, hold_s: float, client_gone: ClientGone | None
    ) -> tuple[Outcome, Approval | None]:
        """Hold an ``ask`` until a human answers; the outcome to answer and audit."""
        timeout_s = min(hold_s, self.service.hold_timeout_s)
        redacted = self.redactor.redact(dict(call.tool_input))
        try:
            approval = self.approvals.open(call, asked, redacted, timeout_s)
        except HoldRefused as exc:
            return Outcome(_deny_asked(asked, f"{exc}; denied")), None
        approval.reason = self.redactor.redact_text(approval.reason)  # it may quote the input
        requested = {
            **_approval_ref(approval),
            "agent": call.agent,
            "action": approval.action,
            "input": dict(call.tool_input),
            "cwd": call.cwd,
            "project_root": call.project_root,
            "reason": approval.reason,
            "rule_id": approval.rule_id,
            "zone": approval.zone,
            "severity": approval.severity.value,
            "expires_at": approval.to_json()["expires_at"],
        }
        try:
            await self._append(REQUEST_KIND, call.harness, call.session_id, requested)
        except BaseException:
            self.approvals.expire(approval, Expiry.UNRECORDED)
            raise
        self.notifier.held(approval)
        await self.approvals.wait(approval, timeout_s, client_gone)
        status, ref = approval.status, approval.id
        if status is ApprovalStatus.APPROVED:
            # Judged again: the session may have read a credential while this call waited.
            again = self.service.evaluate(call)
            if again.decision.verdict is Verdict.DENY:
                reason = f"approved (approval {ref}), but now denied: {again.decision.reason}"
                return Outcome(_deny_asked(again.decision, reason)), approval
            reason = f"approved by a human (approval {ref}): {asked.reason}"
            allowed = Decision(Verdict.ALLOW, reason, asked.rule_id, asked.zone, asked.action)
            return Outcome(allowed, again.credential_reads), approval
        if status is ApprovalStatus.DENIED:
            note = f": {approval.note}" if approval.note else ""
            reason = f"denied by a human (approval {ref}){note}"
            return Outcome(_deny_asked(asked, reason)), approval
        expired = {**_approval_ref(approval), "resolution": "expired", "why": approval.resolved_by}
        await self._append(RESOLVED_KIND, call.harness, call.session_id, expired)
        reason = _expiry_reason(approval, timeout_s)
        return Outcome(_deny_asked(asked, reason)), approval

    async def resolve(
        self,
        approval_id: str,
        resolution: Resolution,
        by: str,
        note: str | None,
        scope: Scope | None = None,
    ) -> dict[str, Any]:
        """Answer a pending approval; 404 unknown, 409 no longer pending.

        ``always`` first works out the narrow rule (422 when none fits, and the
        approval stays pending), then claims the approval, saves the rule and records
        both in one ``permission.resolved`` event before the held call wakes.
        """
        learned: LearnedRule | None = None
        if resolution is Resolution.ALWAYS:
            learned = self._learn(self.approvals.require_pending(approval_id), by, note, scope)
        status = ApprovalStatus.DENIED if resolution is Resolution.DENY else ApprovalStatus.APPROVED
        approval = self.approvals.claim(approval_id, status, by, note)
        recorded = False
        try:
            if learned is not None:
                await self._save_rule(learned)
                approval.learned_rule = learned.id
            payload = {
                **_approval_ref(approval),
                "resolution": _RESOLVED_AS[resolution],
                "by": by,
                "note": note,
                "learned_rule": None if learned is None else learned.to_json(),
            }
            await self._append(RESOLVED_KIND, by, approval.session_id, payload)
            recorded = True
        finally:
            self.approvals.settle(approval, recorded=recorded)
        return approval.to_json()

    def preview_rule(self, approval_id: str, by: str, scope: Scope | None) -> dict[str, Any]:
        """The rules an "always" answer by ``by`` with ``scope`` would record, recording
        nothing: what a person is shown before choosing (404, 409, 422 as :meth:`resolve`)."""
        approval = self.approvals.require_pending(approval_id)
        learned = self._learn(approval, by, None, scope)
        return {
            "approval_id": approval.id,
            "project_root": learned.project_root,
            "harness": learned.harness,
            "tool_name": learned.tool_name,
            "rules": learned.to_json()["rules"],
        }

    def _learn(
        self, approval: Approval, by: str, note: str | None, scope: Scope | None
    ) -> LearnedRule:
        """The rule an "always" answer to ``approval`` records; 422 when none is narrow."""
        reason = f"always allowed by {by} (approval {approval.id})"
        try:
            root, rules = self.service.propose_rule(approval.call, scope or Scope(), reason=reason)
        except ScopeError as exc:
            raise ApiProblem(
                422, "no_narrow_rule", str(exc), "approve this call once instead"
            ) from None
        spelled = [rule.model_dump(mode="json", exclude_none=True) for rule in rules]
        if self.redactor.redact(spelled) != spelled:  # rules.json, GET /rules, the UI
            raise ApiProblem(
                422,
                "no_narrow_rule",
                "this call's input holds a secret, and a learned rule would have to keep it",
                "approve this call once instead, or narrow the scope (--prefix)",
            )
        return LearnedRule.record(
            project_root=root,
            harness=approval.harness,
            tool_name=approval.tool_name,
            rules=rules,
            approval_id=approval.id,
            by=by,
            note=note,
        )

    async def _save_rule(self, learned: LearnedRule) -> None:
        async with self._rules_lock:
            await self._use_rules((*self.service.learned_rules, learned))

    async def _use_rules(self, rules: tuple[LearnedRule, ...]) -> None:
        """Save ``rules``, then decide with them (the caller holds the rules lock)."""
        await asyncio.to_thread(save_learned, self.service.rules_path, rules)
        self.service.use_learned(rules)

    async def revoke_rule(self, rule_id: str, by: str) -> dict[str, Any]:
        """Remove a learned rule at once; 404 when there is none by that id."""
        async with self._rules_lock:
            current = self.service.learned_rules
            found = next((entry for entry in current if entry.id == rule_id), None)
            if found is None:
                raise ApiProblem(
                    404,
                    "not_found",
                    f"no learned rule {rule_id[:40]!r}",
                    "see `stockade rules list`",
                )
            await self._use_rules(tuple(entry for entry in current if entry is not found))
        revoked = {"rule": found.to_json(), "by": by}
        seq = await self._append("rule.revoked", by, None, revoked)
        return {"revoked": found.to_json(), "event_seq": seq}

    async def tool_result(self, body: ToolResultBody) -> dict[str, Any]:
        """Record what became of a call and redact its output; the output itself is not kept.

        A call that succeeded taints its session with what it read, even one that was
        denied: it ran. A call that ran (succeeded or failed) and printed a secret taints
        it with ``content:<label>``.
        """
        call = body.to_call()
        digest = input_sha256(call.tool_input)
        tainted: list[str] = []
        if body.status == "succeeded":
            try:
                tainted = self._taint(call, self.service.evaluate(call).credential_reads)
            except Exception as exc:  # the call already ran; still record it
                logger.error(
                    "taint check failed for session %s: %s", call.session_id, type(exc).__name__
                )
        redacted, found = None, Counter[str]()
        if body.output is not None:
            redacted, found = await asyncio.to_thread(self._redact_output, body.output)
            if found and body.status != "not_run":
                held = tuple(CONTENT_SOURCE + label for label in sorted(found))
                tainted += self._taint(call, held)
        payload = {
            "harness": call.harness,
            "session": call.session_id,
            "agent": call.agent,
            "tool": call.tool_name,
            "tool_use_id": body.tool_use_id,
            "action": canonicalize(call.harness, call.tool_name).action,
            "input_sha256": digest,
            "status": body.status,
            "output_chars": None if body.output is None else len(body.output),
            "redacted_labels": sorted(found),
            "redacted_count": found.total(),
        }
        seq = await self._append("tool.result", call.harness, call.session_id, payload)
        if tainted:
            taint = {"harness": call.harness, "sources": tainted, "tool_result_seq": seq}
            await self._append(TAINT_KIND, call.harness, call.session_id, taint)
        if body.status != "not_run":
            approval = self.approvals.mark_executed(
                call.harness, call.session_id, call.tool_name, digest
            )
            if approval is not None:
                executed = {**_approval_ref(approval), "tool_result_seq": seq}
                await self._append("permission.executed", call.harness, call.session_id, executed)
        if not self.redact_output:
            redacted = body.output
        return {"output": redacted, "redacted": redacted != body.output, "event_seq": seq}

    async def session_event(self, body: SessionBody) -> dict[str, Any]:
        """Record that a session started or ended."""
        kind = "session.started" if body.event == "start" else "session.ended"
        payload = {
            "harness": body.harness,
            "session": body.session_id,
            "agent": body.agent,
            "cwd": body.cwd,
            "project_root": body.project_root,
            "model": body.model,
            "source": body.source,
            "reason": body.reason,
        }
        return {"event_seq": await self._append(kind, body.harness, body.session_id, payload)}

    def _taint(self, call: ToolCall, reads: tuple[str, ...]) -> list[str]:
        """Add credential reads to the call's session; returns those it did not hold yet."""
        return self.service.add_taint(call.harness, call.session_id, reads) if reads else []

    def _redact_output(self, output: str) -> tuple[str, Counter[str]]:
        """The redacted text, and how many secrets of each label it had (markers already
        in the output do not count)."""
        redacted = self.redactor.redact_text(output)
        if redacted == output:
            return redacted, Counter()
        found = Counter(MARKER.findall(redacted))
        found.subtract(MARKER.findall(output))
        return redacted, +found

    def check(self, body: ToolCallBody) -> dict[str, Any]:
        """A dry run: the same decision, no audit event and no change to session state."""
        try:
            return self.service.check(body.to_call()).to_json()
        except Exception as exc:
            logger.error("check failed: %s", type(exc).__name__)
            return _internal_deny().to_json()

    async def screen_prompt(self, body: PromptBody) -> dict[str, Any]:
        """Screen a prompt; only its hash and the matched pattern are ever recorded."""
        submission = body.to_submission()
        try:
            screening = self.service.screen_prompt(submission)
            verdict, reason = screening.verdict, screening.reason
            pattern, digest = screening.pattern, screening.prompt_sha256
            kind = "prompt.screened"
        except Exception as exc:
            logger.error("prompt screening failed: %s", type(exc).__name__)
            verdict, reason, pattern = Verdict.DENY, "internal error while screening; denied", None
            digest = prompt_digest(submission.prompt)
            kind = "prompt.error"
        payload = {
            "harness": submission.harness,
            "session": submission.session_id,
            "verdict": verdict.value,
            "pattern": pattern,
            "prompt_sha256": digest,
        }
        seq = await self._append(kind, submission.harness, submission.session_id, payload)
        return {
            "verdict": verdict.value,
            "reason": reason,
            "pattern": pattern,
            "prompt_sha256": digest,
            "event_seq": seq,
        }

    async def reload(self) -> str:
        """Reload configuration; on ``ConfigError`` the running policy stays and it re-raises."""
        async with self._reload_lock:
            previous = self.service.config_hash
            try:
                config_hash = await asyncio.to_thread(self.service.reload)
            except ConfigError as exc:
                logger.warning("configuration reload failed; keeping the running policy")
                await self._append("config.reload_failed", "daemon", None, {"error": exc.message})
                raise
            payload = {"previous_config_hash": previous, "config_hash": config_hash}
            await self._append("config.reloaded", "daemon", None, payload)
            logger.info("configuration reloaded (%s)", config_hash[:12])
            return config_hash

    async def _append(
        self, kind: str, actor: str, session: str | None, payload: dict[str, Any]
    ) -> int:
        try:
            stored = await self.store.append(AuditEvent(kind, actor, session, payload))
        except Exception as exc:
            logger.error("audit append of %s failed: %s", kind, type(exc).__name__)
            raise ApiProblem(
                500,
                "internal",
                "the audit log could not record this request, so it was not allowed",
                "see the daemon's log; check free disk space and `stockade audit verify`",
            ) from None
        return int(stored.seq)


def _payload(call: ToolCall, decision: Decision) -> dict[str, Any]:
    """The decision event; the store's redactor scrubs secrets out of ``input``."""
    return {
        "harness": call.harness,
        "session": call.session_id,
        "agent": call.agent,
        "tool": call.tool_name,
        "action": decision.action,
        "input": dict(call.tool_input),
        "cwd": call.cwd,
        "project_root": call.project_root,
        "verdict": decision.verdict.value,
        "reason": decision.reason,
        "rule_id": decision.rule_id,
        "zone": decision.zone.label,
    }


_APPROVAL_REF = ("approval_id", "harness", "session", "tool", "input_sha256")


def _approval_ref(approval: Approval) -> dict[str, Any]:
    """What names an approval in each of its audit events (the keys of ``_APPROVAL_REF``)."""
    return {
        "approval_id": approval.id,
        "harness": approval.harness,
        "session": approval.session_id,
        "tool": approval.tool_name,
        "input_sha256": approval.input_sha256,
    }


def _deny_asked(decision: Decision, reason: str) -> Decision:
    return Decision(Verdict.DENY, reason, decision.rule_id, decision.zone, decision.action)


def _expiry_reason(approval: Approval, timeout_s: float) -> str:
    ref = f"approval {approval.id}"
    if approval.resolved_by == Expiry.SHUTDOWN:
        return f"the daemon stopped before anyone approved this call ({ref}); denied"
    if approval.resolved_by == Expiry.DISCONNECT:
        return f"the hook left before anyone approved this call ({ref}); denied"
    if approval.resolved_by == Expiry.UNRECORDED:
        return f"the answer to this call could not be recorded ({ref}); denied"
    return (
        f"no one approved this call within {timeout_s:g} s ({ref}); denied "
        "(`stockade approvals approve ID` answers a held call)"
    )


def _internal_deny() -> Decision:
    return Decision(
        Verdict.DENY, "internal error while deciding; denied", ERROR_RULE, Zone.NEVER, TOOL_UNKNOWN
    )
