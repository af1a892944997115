"""The pipeline without a socket or server: its fail-closed paths, with a failing service
or store, and how tool results taint a session, with a real service and store."""

from __future__ import annotations

import asyncio
import base64
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pytest
from tests.engine_support import Sandbox, make_sandbox

from stockade.audit import AuditEvent, SqliteAuditStore, StoredEvent
from stockade.caps.book import CapabilityBook
from stockade.daemon.app import CatchAll
from stockade.daemon.pipeline import ERROR_RULE, Pipeline
from stockade.daemon.problems import ApiProblem
from stockade.daemon.schemas import DecideBody, PromptBody, ToolResultBody
from stockade.errors import ConfigError
from stockade.home import Home
from stockade.redact import Redactor
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
    capabilities = CapabilityBook(Home(Path("/nonexistent")))  # no agents, nothing to report

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


@pytest.fixture
def strict_box(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Sandbox:
    box = make_sandbox(tmp_path, monkeypatch)
    box.configure('level = "strict"\n')  # strict denies reading a credential
    return box


def _key_read(box: Sandbox, **extra: Any) -> dict[str, Any]:
    key = str(box.user_home / ".ssh" / "id_rsa")
    return {
        "harness": "claude-code",
        "session_id": box.session,
        "tool_name": "Read",
        "tool_input": {"file_path": key},
        "cwd": str(box.project),
        **extra,
    }


def _taint_events(store: SqliteAuditStore) -> list[StoredEvent]:
    return store.query(kind="session.tainted")


def test_a_denied_credential_read_that_ran_taints_the_session(
    strict_box: Sandbox, store: SqliteAuditStore
) -> None:
    box = strict_box
    pipeline = _pipeline(box.service, store)
    denied = asyncio.run(pipeline.decide(DecideBody(**_key_read(box))))
    assert (denied["verdict"], denied["rule_id"]) == ("deny", "guard:credential-read")
    assert _taint_events(store) == []
    assert not box.service.session_state("claude-code", box.session).tainted

    # The harness ran it anyway.
    ran = asyncio.run(pipeline.tool_result(ToolResultBody(**_key_read(box, status="succeeded"))))
    [taint] = _taint_events(store)
    key = os.path.realpath(box.user_home / ".ssh" / "id_rsa")
    assert taint.session == box.session and taint.seq == ran["event_seq"] + 1
    assert taint.payload == {
        "harness": "claude-code",
        "sources": [f".ssh/**:{key}"],
        "tool_result_seq": ran["event_seq"],
    }
    fetch = DecideBody(
        **{**_key_read(box), "tool_name": "WebFetch", "tool_input": {"url": "https://a.example/"}}
    )
    blocked = asyncio.run(pipeline.decide(fetch))
    assert (blocked["verdict"], blocked["rule_id"]) == ("deny", "flow:credential-then-network")
    # Reported twice, recorded once.
    asyncio.run(pipeline.tool_result(ToolResultBody(**_key_read(box, status="succeeded"))))
    assert len(_taint_events(store)) == 1


@pytest.mark.parametrize("status", ["failed", "not_run"])
def test_a_credential_read_that_did_not_succeed_does_not_taint(
    strict_box: Sandbox, store: SqliteAuditStore, status: str
) -> None:
    box = strict_box
    pipeline = _pipeline(box.service, store)
    answer = asyncio.run(pipeline.tool_result(ToolResultBody(**_key_read(box, status=status))))
    assert store.get(answer["event_seq"]) is not None
    assert _taint_events(store) == []
    assert not box.service.session_state("claude-code", box.session).tainted


def test_a_known_value_in_any_form_is_redacted_and_taints(
    strict_box: Sandbox, tmp_path: Path
) -> None:
    """A value the vault would hand over (``set_known``), base64ed by the agent: the model gets
    the marker, the store holds no form of it, the session may not reach the network."""
    box = strict_box
    value = "vault-only-canary-0123456789"
    redactor = Redactor()
    store = SqliteAuditStore(tmp_path / "known.db", redactor=redactor.redact)
    store.open()
    try:
        redactor.set_known({"DEPLOY": value})
        pipeline = Pipeline(box.service, store, redactor)
        notes = str(box.project / "notes.txt")
        output = base64.b64encode(b"xy" + value.encode()).decode()
        body = {**_key_read(box), "tool_input": {"file_path": notes}, "status": "succeeded"}
        answer = asyncio.run(pipeline.tool_result(ToolResultBody(**body, output=output)))
        assert answer["redacted"] and "[REDACTED:secret:DEPLOY:" in answer["output"]
        [taint] = _taint_events(store)
        assert taint.payload["sources"] == ["content:secret:DEPLOY"]
        fetch = {**body, "tool_name": "WebFetch", "tool_input": {"url": "https://a.example/"}}
        del fetch["status"]
        blocked = asyncio.run(pipeline.decide(DecideBody(**fetch, hold_s=None)))
        assert blocked["rule_id"] == "flow:credential-then-network"
        echoed = {**body, "tool_name": "Bash", "tool_input": {"command": f"echo {value}"}}
        asyncio.run(pipeline.tool_result(ToolResultBody(**echoed)))
    finally:
        store.close()
    for path in tmp_path.glob("known.db*"):  # with the WAL, if any is left
        assert value.encode() not in path.read_bytes(), path


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
