"""The approval broker and the pipeline's resolutions, on a real audit store (no socket)."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pytest
from tests.engine_support import Sandbox, make_sandbox

from stockade.audit import AuditEvent, SqliteAuditStore, StoredEvent
from stockade.daemon.approvals import (
    Approval,
    ApprovalBroker,
    ApprovalStatus,
    HoldRefused,
    Resolution,
    input_sha256,
)
from stockade.daemon.pipeline import Pipeline
from stockade.daemon.problems import ApiProblem
from stockade.daemon.schemas import DecideBody
from stockade.decision import Decision, Verdict, Zone
from stockade.request import ToolCall
from stockade.service import DecisionService

CALL = ToolCall(
    harness="codex",
    session_id="s-1",
    tool_name="shell",
    tool_input={"command": "curl https://example.com"},
    cwd="/tmp/p",
)
ASKED = Decision(Verdict.ASK, "curl uses the network", "shell.network.curl", Zone.NETWORK, "shell")


def _open(broker: ApprovalBroker, call: ToolCall = CALL, timeout_s: float = 10) -> Approval:
    return broker.open(call, ASKED, dict(call.tool_input), timeout_s)


def _status(problem: pytest.ExceptionInfo[ApiProblem]) -> tuple[int, str]:
    return problem.value.status, problem.value.code


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqliteAuditStore]:
    opened = SqliteAuditStore(tmp_path / "audit.db")
    opened.open()
    yield opened
    opened.close()


def _pipeline(store: object, broker: ApprovalBroker | None = None) -> Pipeline:
    # The resolutions never consult the service: None stands in for it.
    return Pipeline(cast(DecisionService, None), cast(SqliteAuditStore, store), approvals=broker)


def test_input_hash_is_of_the_canonical_json() -> None:
    canonical = '{"a":"é","b":[1,2]}'
    assert input_sha256({"b": [1, 2], "a": "é"}) == hashlib.sha256(canonical.encode()).hexdigest()
    assert input_sha256({"a": "é", "b": [1, 2]}) == input_sha256({"b": [1, 2], "a": "é"})
    assert input_sha256({"a": 1}) != input_sha256({"a": "1"})


def test_an_approval_answers_once() -> None:
    broker = ApprovalBroker()
    approval = _open(broker)
    assert [a.id for a in broker.listing(include_resolved=False)] == [approval.id]
    assert len(approval.id) == 8 and int(approval.id, 16) >= 0

    broker.claim(approval.id, ApprovalStatus.APPROVED, "cli", None)
    with pytest.raises(ApiProblem) as again:
        broker.claim(approval.id, ApprovalStatus.DENIED, "api", None)
    assert _status(again) == (409, "not_pending")
    assert "it is approved" in again.value.message
    assert broker.listing(include_resolved=False) == []
    assert broker.listing(include_resolved=True) == [approval]
    assert approval.to_json()["resolved_by"] == "cli"


def test_unknown_ids_are_404() -> None:
    with pytest.raises(ApiProblem) as unknown:
        ApprovalBroker().claim("deadbeef" * 20, ApprovalStatus.APPROVED, "cli", None)
    assert _status(unknown) == (404, "not_found")
    assert len(unknown.value.message) < 80  # the id is not echoed whole


def test_a_wait_times_out_into_expired() -> None:
    broker = ApprovalBroker()

    async def scenario() -> Approval:
        approval = _open(broker, timeout_s=0.05)
        await broker.wait(approval, 0.05, None)
        return approval

    approval = asyncio.run(scenario())
    assert (approval.status, approval.resolved_by) == (ApprovalStatus.EXPIRED, "timeout")
    with pytest.raises(ApiProblem) as late:
        broker.claim(approval.id, ApprovalStatus.APPROVED, "cli", None)
    assert _status(late) == (409, "not_pending") and "it is expired" in late.value.message


def test_a_client_that_leaves_expires_its_approval() -> None:
    broker = ApprovalBroker()

    async def scenario() -> Approval:
        approval = _open(broker)
        await asyncio.wait_for(broker.wait(approval, 30, lambda: _gone_after(0.01)), 5)
        return approval

    approval = asyncio.run(scenario())
    assert (approval.status, approval.resolved_by) == (ApprovalStatus.EXPIRED, "disconnect")


async def _gone_after(delay: float) -> None:
    await asyncio.sleep(delay)


def test_a_cancelled_wait_leaves_nothing_pending() -> None:
    broker = ApprovalBroker()

    async def scenario() -> Approval:
        approval = _open(broker)
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(broker.wait(approval, 30, None), 0.05)
        return approval

    assert asyncio.run(scenario()).status is ApprovalStatus.EXPIRED
    assert broker.listing(include_resolved=False) == []


def test_closing_expires_pending_and_refuses_new_holds() -> None:
    broker = ApprovalBroker()

    async def scenario() -> Approval:
        approval = _open(broker)
        async with asyncio.timeout(5), asyncio.TaskGroup() as tasks:
            tasks.create_task(broker.wait(approval, 30, lambda: _gone_after(30)))
            await asyncio.sleep(0)
            broker.close()
        return approval

    approval = asyncio.run(scenario())
    assert (approval.status, approval.resolved_by) == (ApprovalStatus.EXPIRED, "shutdown")
    with pytest.raises(HoldRefused, match="stopping"):
        _open(broker)


def test_pending_and_resolved_are_bounded() -> None:
    broker = ApprovalBroker(max_pending=2, keep_resolved=2)
    first, second = _open(broker), _open(broker)
    with pytest.raises(HoldRefused, match="already waiting"):
        _open(broker)
    for approval in (first, second):
        broker.claim(approval.id, ApprovalStatus.DENIED, "api", None)
    third = _open(broker)
    broker.claim(third.id, ApprovalStatus.DENIED, "api", None)
    assert broker.get(first.id) is None
    assert broker.get(second.id) is second and broker.get(third.id) is third


def test_executed_only_for_the_same_settled_approved_call() -> None:
    broker = ApprovalBroker()
    approval = _open(broker)
    digest = approval.input_sha256
    broker.claim(approval.id, ApprovalStatus.APPROVED, "cli", None)
    # Claimed but not yet recorded: the call has not been allowed, so it cannot have run.
    assert broker.mark_executed("codex", "s-1", "shell", digest) is None
    broker.settle(approval, recorded=True)
    assert broker.mark_executed("codex", "s-2", "shell", digest) is None
    assert broker.mark_executed("codex", "s-1", "shell", "0" * 64) is None
    assert broker.mark_executed("gemini", "s-1", "shell", digest) is None
    assert broker.mark_executed("codex", "s-1", "shell", digest) is approval
    assert approval.status is ApprovalStatus.EXECUTED
    assert broker.mark_executed("codex", "s-1", "shell", digest) is None


def test_racing_resolutions_exactly_one_wins(store: SqliteAuditStore) -> None:
    broker = ApprovalBroker()
    pipeline = _pipeline(store, broker)

    async def scenario() -> list[Any]:
        approval = _open(broker)
        racers = [
            pipeline.resolve(approval.id, answer, by, None)
            for answer, by in (
                (Resolution.APPROVE, "cli"),
                (Resolution.DENY, "api"),
                (Resolution.APPROVE, "api"),
                (Resolution.DENY, "cli"),
            )
        ]
        return list(await asyncio.gather(*racers, return_exceptions=True))

    results = asyncio.run(scenario())
    won = [r for r in results if isinstance(r, dict)]
    lost = [r for r in results if isinstance(r, ApiProblem)]
    assert len(won) == 1 and len(lost) == 3
    assert all(problem.status == 409 for problem in lost)
    (event,) = store.query()
    assert (event.kind, event.payload["resolution"]) == ("permission.resolved", won[0]["status"])


def test_a_resolution_with_a_note_is_recorded_with_who(store: SqliteAuditStore) -> None:
    broker = ApprovalBroker()
    pipeline = _pipeline(store, broker)

    async def scenario() -> tuple[dict[str, Any], Approval]:
        approval = _open(broker)
        async with asyncio.timeout(5), asyncio.TaskGroup() as tasks:
            tasks.create_task(broker.wait(approval, 30, None))
            answer = await pipeline.resolve(
                approval.id, Resolution.DENY, "cli", "use the staging host"
            )
        return answer, approval

    answer, approval = asyncio.run(scenario())
    assert answer["status"] == "denied" and answer["resolved_by"] == "cli"
    assert approval.note == "use the staging host"
    (event,) = store.query()
    assert (event.kind, event.actor, event.session) == ("permission.resolved", "cli", "s-1")
    assert event.payload["resolution"] == "denied"
    assert event.payload["note"] == "use the staging host"
    assert event.payload["approval_id"] == approval.id


class SlowStore:
    """A real audit log whose appends take a while, as on a busy disk."""

    def __init__(self, store: SqliteAuditStore) -> None:
        self.store = store

    async def append(self, event: AuditEvent) -> StoredEvent:
        await asyncio.sleep(0.2)
        return await self.store.append(event)


def test_a_resolution_being_recorded_wins_over_the_timeout(store: SqliteAuditStore) -> None:
    broker = ApprovalBroker()
    pipeline = _pipeline(SlowStore(store), broker)

    async def scenario() -> Approval:
        approval = _open(broker, timeout_s=0.05)
        async with asyncio.timeout(5), asyncio.TaskGroup() as tasks:
            tasks.create_task(broker.wait(approval, 0.05, None))
            await pipeline.resolve(approval.id, Resolution.APPROVE, "cli", None)
        return approval

    approval = asyncio.run(scenario())
    assert (approval.status, approval.resolved_by) == (ApprovalStatus.APPROVED, "cli")
    assert [event.kind for event in store.query()] == ["permission.resolved"]


class FailingStore:
    async def append(self, event: AuditEvent) -> StoredEvent:
        raise OSError("disk full")


def test_an_unrecorded_approval_does_not_let_the_call_run() -> None:
    broker = ApprovalBroker()
    pipeline = _pipeline(FailingStore(), broker)

    async def scenario() -> Approval:
        approval = _open(broker)
        async with asyncio.timeout(5), asyncio.TaskGroup() as tasks:
            tasks.create_task(broker.wait(approval, 30, None))
            with pytest.raises(ApiProblem) as failed:
                await pipeline.resolve(approval.id, Resolution.APPROVE, "cli", None)
        assert _status(failed) == (500, "internal")
        return approval

    approval = asyncio.run(scenario())
    assert (approval.status, approval.resolved_by) == (ApprovalStatus.EXPIRED, "unrecorded")


@pytest.fixture
def box(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Sandbox:
    return make_sandbox(tmp_path, monkeypatch)


def _held_read(box: Sandbox) -> DecideBody:
    """A credential read in the project: ``ask`` at the standard level."""
    return DecideBody(
        harness="codex",
        session_id="s-1",
        tool_name="shell",
        tool_input={"command": f"cat {box.project}/.env"},
        cwd=str(box.project),
        hold_s=30.0,
    )


def test_a_stopping_daemon_denies_a_held_call_at_once(
    box: Sandbox, store: SqliteAuditStore
) -> None:
    pipeline = Pipeline(box.service, store)
    pipeline.approvals.close()
    answer = asyncio.run(asyncio.wait_for(pipeline.decide(_held_read(box)), 5))
    assert answer["verdict"] == "deny" and "stopping" in answer["reason"]
    assert "approval" not in answer
    (event,) = store.query()
    assert event.kind == "decision"
    assert (event.payload["engine_verdict"], event.payload["approval_id"]) == ("ask", None)
    assert not box.service.session_state("codex", "s-1").tainted


def test_an_unrecorded_hold_leaves_nothing_pending(box: Sandbox) -> None:
    pipeline = Pipeline(box.service, cast(SqliteAuditStore, FailingStore()))
    with pytest.raises(ApiProblem):
        asyncio.run(asyncio.wait_for(pipeline.decide(_held_read(box)), 5))
    (approval,) = pipeline.approvals.listing(include_resolved=True)
    assert (approval.status, approval.resolved_by) == (ApprovalStatus.EXPIRED, "unrecorded")
