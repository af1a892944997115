"""ApiApp's outer layers, driven as ASGI: ``POST /decide`` answered past Starlette's stack,
the version gate in front of it, and every escaping exception a 500 problem, logged once
without its message."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import pytest
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import Message

from stockade.daemon.app import DECIDE_PATH, ApiApp
from stockade.daemon.problems import ApiProblem

SECRET = "sk-ant-" + "q" * 24


async def _boom(request: Request) -> JSONResponse:
    raise ValueError(SECRET)


def _call(
    app: ApiApp, method: str, path: str, headers: tuple[tuple[bytes, bytes], ...] = ()
) -> list[Message]:
    body = b'{"tool_name": "Read"}'
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            *headers,
        ],
        "client": None,
        "server": None,
    }
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    return sent


def _app(decision: Any) -> ApiApp:
    return ApiApp(decision, [Route("/api/v1/boom", _boom, methods=["GET"])])


def _problem(sent: list[Message]) -> tuple[int, str]:
    assert [message["type"] for message in sent] == ["http.response.start", "http.response.body"]
    return sent[0]["status"], json.loads(sent[1]["body"])["error"]["code"]


def test_a_decision_is_sent_as_json_response_would_send_it() -> None:
    answer = {"verdict": "allow", "reason": "lu à l'intérieur ✓", "event_seq": 7, "zone": None}

    async def decision(request: Request) -> dict[str, Any]:
        assert json.loads(await request.body()) == {"tool_name": "Read"}
        return answer

    start, body = _call(_app(decision), "POST", DECIDE_PATH)
    expected = JSONResponse(answer)
    assert (start["status"], start["headers"], body["body"]) == (
        200,
        expected.raw_headers,
        expected.body,
    )


def test_a_problem_raised_by_the_decision_is_its_answer() -> None:
    async def decision(request: Request) -> dict[str, Any]:
        raise ApiProblem(422, "invalid_request", "tool_input must be an object")

    assert _problem(_call(_app(decision), "POST", DECIDE_PATH)) == (422, "invalid_request")


def test_the_version_gate_answers_before_the_decision_runs() -> None:
    async def decision(request: Request) -> dict[str, Any]:
        raise AssertionError("the gate let an unsupported version through")

    sent = _call(_app(decision), "POST", DECIDE_PATH, ((b"stockade-api-version", b"v9"),))
    assert _problem(sent) == (400, "unsupported_api_version")


async def _raising_decision(request: Request) -> dict[str, Any]:
    raise ValueError(SECRET)


@pytest.mark.parametrize(
    ("method", "path"), [("POST", DECIDE_PATH), ("GET", "/api/v1/boom")], ids=["decide", "route"]
)
def test_an_exception_is_one_500_problem_logged_once_without_its_message(
    method: str, path: str, caplog: pytest.LogCaptureFixture
) -> None:
    """On a plain route Starlette's ServerErrorMiddleware answers and re-raises; the
    outer CatchAll must then log it, send nothing more and let nothing escape."""
    with caplog.at_level(logging.ERROR):
        sent = _call(_app(_raising_decision), method, path)
    assert _problem(sent) == (500, "internal")
    logged = [record for record in caplog.records if "ValueError" in record.getMessage()]
    assert len(logged) == 1
    assert SECRET not in caplog.text
