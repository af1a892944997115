"""The pipeline's fail-closed paths, with a failing service or store (no socket, no server)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pytest

from stockade.audit import AuditEvent, SqliteAuditStore, StoredEvent
from stockade.daemon.app import CatchAll
from stockade.daemon.pipeline import ERROR_RULE, Pipeline
from stockade.daemon.problems import ApiProblem
from stockade.daemon.schemas import DecideBody, PromptBody
from stockade.errors import ConfigError
from stockade.service import DecisionService

CALL = DecideBody(
    harness="codex",
    session_id="s-9",
    tool_name="shell",
    tool_input={"command": "ls"},
    cwd="/tmp/p",
)


class BrokenService:
    """Every method raises, as an engine bug would."""

    config_hash = "old"

    def evaluate(self, call: Any) -> Any:
        raise RuntimeError("engine bug quoting the input: ls")

    def check(self, call: Any) -> Any:
        raise RuntimeError("engine bug")

    def screen_prompt(self, submission: Any) -> Any:
        raise RuntimeError("engine bug")

    def reload(self) -> str:
        raise ConfigError("stockade.toml: key `level`: bad", "fix it")


class FailingStore:
    async def append(self, event: AuditEvent) -> StoredEvent:
        raise OSError("disk full")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqliteAuditStore]:
    opened = SqliteAuditStore(tmp_path / "audit.db")
    opened.open()
    yield opened
    opened.close()


def _pipeline(service: object, store: object) -> Pipeline:
    return Pipeline(cast(DecisionService, service), cast(SqliteAuditStore, store))


def test_a_failing_decision_is_an_audited_deny(store: SqliteAuditStore) -> None:
    answer = asyncio.run(_pipeline(BrokenService(), store).decide(CALL))
    assert answer["verdict"] == "deny" and answer["rule_id"] == ERROR_RULE
    event = store.get(answer["event_seq"])
    assert event is not None and event.kind == "decision.error"
    assert event.payload["verdict"] == "deny" and event.session == "s-9"


def test_a_failing_held_decision_is_a_deny_without_a_hold(store: SqliteAuditStore) -> None:
    pipeline = _pipeline(BrokenService(), store)
    answer = asyncio.run(pipeline.decide(CALL.model_copy(update={"hold_s": 30.0})))
    assert answer["verdict"] == "deny" and "approval" not in answer
    assert pipeline.approvals.listing(include_resolved=True) == []


def test_a_failing_check_is_a_deny(store: SqliteAuditStore) -> None:
    answer = _pipeline(BrokenService(), store).check(CALL)
    assert answer["verdict"] == "deny" and "event_seq" not in answer


def test_a_failing_prompt_screen_is_a_deny(store: SqliteAuditStore) -> None:
    body = PromptBody(harness="gemini", session_id="s", prompt="secret words", cwd="/tmp")
    answer = asyncio.run(_pipeline(BrokenService(), store).screen_prompt(body))
    assert answer["verdict"] == "deny"
    event = store.get(answer["event_seq"])
    assert event is not None and "secret words" not in str(event.to_json())


def test_an_audit_failure_is_a_500_not_an_answer() -> None:
    pipeline = _pipeline(BrokenService(), FailingStore())
    with pytest.raises(ApiProblem) as caught:
        asyncio.run(pipeline.decide(CALL))
    assert (caught.value.status, caught.value.code) == (500, "internal")


def test_a_failed_reload_is_audited_and_reraised(store: SqliteAuditStore) -> None:
    with pytest.raises(ConfigError):
        asyncio.run(_pipeline(BrokenService(), store).reload())
    kinds = [event.kind for event in store.query()]
    assert kinds == ["config.reload_failed"]


def test_catch_all_answers_500_without_the_message(caplog: pytest.LogCaptureFixture) -> None:
    secret = "sk-ant-" + "q" * 24

    async def app(scope: Any, receive: Any, send: Any) -> None:
        raise ValueError(secret)

    sent: list[dict[str, Any]] = []

    async def send(message: Any) -> None:
        sent.append(message)

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    scope = {"type": "http", "method": "GET", "path": "/x", "headers": []}
    asyncio.run(CatchAll(app)(scope, receive, send))
    assert sent[0]["status"] == 500
    assert b'"internal"' in sent[1]["body"]
    assert "ValueError" in caplog.text and secret not in caplog.text
