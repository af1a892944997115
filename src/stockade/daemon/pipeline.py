"""The data path in one screen: body -> ToolCall -> decide -> audit -> answer.

Two invariants live here. A failure while deciding is answered with a deny (and
audited as ``decision.error``), never with an error a hook might fail open on.
And no answer leaves before its audit event is durable: if the append fails, the
request fails with a 500, which carries no verdict and so is never an allow.

The engine is pure and fast (microseconds), so ``decide`` runs on the event loop;
only configuration reloads, which read files, go to a thread.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from stockade.audit import AuditEvent, SqliteAuditStore
from stockade.daemon.problems import ApiProblem
from stockade.daemon.schemas import PromptBody, ToolCallBody
from stockade.decision import Decision, Verdict, Zone
from stockade.errors import ConfigError
from stockade.policy.actions import TOOL_UNKNOWN
from stockade.policy.state import prompt_digest
from stockade.request import ToolCall
from stockade.service import DecisionService

logger = logging.getLogger(__name__)

ERROR_RULE = "error:internal"
TAINT_KIND = "session.tainted"
PAGE = 1000


def restore_session_taints(store: SqliteAuditStore, service: DecisionService) -> int:
    """Give every session that read a credential its taint back; returns how many events."""
    restored, after = 0, 0
    while True:
        events = store.query(after=after, limit=PAGE, kind=TAINT_KIND)
        for event in events:
            payload = event.payload
            sources = payload.get("sources")
            if event.session and isinstance(sources, list):
                harness = str(payload.get("harness", ""))
                service.restore_taint(harness, event.session, [str(x) for x in sources])
                restored += 1
        if len(events) < PAGE:
            return restored
        after = events[-1].seq


class Pipeline:
    """Turns validated bodies into audited answers; shared by the routes and SIGHUP."""

    def __init__(self, service: DecisionService, store: SqliteAuditStore) -> None:
        self.service = service
        self.store = store
        # Serializes reloads (SIGHUP and POST /reload may race); decisions never wait on it.
        self._reload_lock = asyncio.Lock()

    async def decide(self, body: ToolCallBody) -> dict[str, Any]:
        """Decide one call, advance its session, and answer only once the event is durable."""
        call = body.to_call()
        kind = "decision"
        tainted: list[str] = []
        try:
            before = self.service.session_state(call.harness, call.session_id)
            outcome = self.service.decide(call)
            decision = outcome.decision
            known = set(before.credential_sources)
            tainted = [s for s in outcome.state.credential_sources if s not in known]
        except Exception as exc:  # any engine bug must turn into a deny, not an allow
            logger.error("decision failed for session %s: %s", call.session_id, type(exc).__name__)
            kind = "decision.error"
            decision = _internal_deny()
        seq = await self._append(kind, call.harness, call.session_id, _payload(call, decision))
        if tainted:
            # Durable like the decision, so that a restarted daemon still knows this
            # session holds a credential (restored by `restore_session_taints`).
            taint = {"harness": call.harness, "sources": tainted, "decision_seq": seq}
            await self._append(TAINT_KIND, call.harness, call.session_id, taint)
        return {**decision.to_json(), "event_seq": seq}

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


def _internal_deny() -> Decision:
    return Decision(
        Verdict.DENY, "internal error while deciding; denied", ERROR_RULE, Zone.NEVER, TOOL_UNKNOWN
    )
