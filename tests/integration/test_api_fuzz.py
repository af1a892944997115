"""Schemathesis fuzzes every operation of the OpenAPI document against a real daemon.

The daemon is a real ``stockade serve`` subprocess on a temporary home (real pipeline,
real SQLite audit log) and the requests go over its real Unix socket: schemathesis
sends through a ``requests`` session whose adapter connects to the socket, so what is
fuzzed is exactly what a hook talks to (uvicorn's HTTP parsing and the body limits
included), not an ASGI shortcut. The document is the one the daemon serves.

Checks on every answer: no 5xx; the answer matches the documented schema, status code
and content type; a request generated to be malformed is refused with a 4xx
(``negative_data_rejection``, and :func:`malformed_requests_are_refused`, which judges
the bytes actually sent against the document); and
:func:`no_allow_for_a_malformed_request`: an ``allow`` only ever answers a request that
validates against the document, so no malformed request is ever allowed. Two explicit
tests cover what the generator does not try (an unknown field; NaN in ``tool_input``).

Destructive operations: ``POST /shutdown`` is sent only when the request is malformed
(a valid one would stop the daemon the other operations need), and so is ``POST
/secrets/exec`` (a valid one would run whatever program was generated); ``POST /audit/purge``
is sent as generated, ``confirm: true`` included, since it may only purge this
throwaway home's audit log (and purging at random times must not break the chain).
Held calls (``hold_s``) are answered by an approver thread that approves every pending
approval, so held ``ask`` verdicts end fast and as ``allow`` — which the allow check
then audits — and ``hold_timeout_s`` is 1 s for the ones it misses.

Budget: ``MAX_EXAMPLES`` random cases per operation on top of schemathesis's boundary
cases (its coverage phase); the module takes about 30 s of CPU (2 cores), under a minute.
"""

from __future__ import annotations

import copy
import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import jsonschema_rs
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from pydantic import ValidationError
from requests.adapters import HTTPAdapter
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)
from tests.daemon_support import DaemonProcess
from urllib3.connection import HTTPConnection
from urllib3.connectionpool import HTTPConnectionPool

from stockade.client import Client
from stockade.daemon.openapi import (
    EXAMPLES,
    OPERATIONS,
    PREFIX,
    Operation,
    openapi_document,
    route_key,
)
from stockade.errors import StockadeError
from stockade.home import Home, atomic_write

pytestmark = [pytest.mark.integration, pytest.mark.slow]

MAX_EXAMPLES = 20
REQUEST_TIMEOUT_S = 30.0
STREAM_READ_S = 0.3
BASE_URL = "http://stockade"  # the host is never resolved: every connection is the socket
SHUTDOWN = ("POST", "/api/v1/shutdown")
EXEC = ("POST", "/api/v1/secrets/exec")
Case = schemathesis.Case[Any]
OPERATIONS_BY_ROUTE: dict[tuple[str, str], Operation] = {
    route_key(op.method, op.route): op for op in OPERATIONS
}


class _UnixSocketConnection(HTTPConnection):
    def __init__(self, *args: Any, socket_path: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.socket_path = socket_path

    def _new_conn(self) -> socket.socket:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(30)
        sock.connect(self.socket_path)
        return sock


class UnixSocketAdapter(HTTPAdapter):
    """Sends every request of a ``requests`` session to one Unix socket."""

    def __init__(self, socket_path: Path) -> None:
        super().__init__()
        self.pool = HTTPConnectionPool("localhost", maxsize=4, socket_path=str(socket_path))
        self.pool.ConnectionCls = _UnixSocketConnection

    def get_connection_with_tls_context(self, *args: Any, **kwargs: Any) -> HTTPConnectionPool:
        return self.pool

    def close(self) -> None:
        self.pool.close()
        super().close()


def _approve_everything(home: Home, stop: threading.Event) -> None:
    """A human who approves every held call at once (racing expiry and the fuzzer is fine)."""
    with Client(home.socket_path, timeout=5.0) as client:
        while not stop.wait(0.05):
            try:
                for approval in client.request("GET", "/approvals")["approvals"]:
                    client.request("POST", f"/approvals/{approval['id']}/approve", {})
            except StockadeError:
                continue


@pytest.fixture(scope="module")
def fuzzed_daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DaemonProcess]:
    root = tmp_path_factory.mktemp("fuzz")
    home = Home(root / "home")
    home.ensure()
    atomic_write(home.config_path, b"[approvals]\nhold_timeout_s = 1\n")
    daemon = DaemonProcess(home, root / "daemon.log")
    stop = threading.Event()
    approver = threading.Thread(target=_approve_everything, args=(home, stop), daemon=True)
    try:
        daemon.start()
        approver.start()
        yield daemon
    finally:
        stop.set()
        if approver.is_alive():
            approver.join(10)
        daemon.stop()
    bugs = [line for line in daemon.log().splitlines() if "internal error" in line]
    assert bugs == [], "the daemon logged internal errors (see its log above them)"


@pytest.fixture(scope="module")
def session(fuzzed_daemon: DaemonProcess) -> Iterator[requests.Session]:
    with requests.Session() as opened:
        opened.mount(BASE_URL, UnixSocketAdapter(fuzzed_daemon.home.socket_path))
        yield opened


# A malformed request may also be refused for its size (413) or its media type (415).
REJECTIONS = [400, 404, 405, 408, 413, 415, 422]
CONFIG = schemathesis.Config.from_dict(
    {"checks": {"negative_data_rejection": {"expected-statuses": REJECTIONS}}}
)
schema = schemathesis.openapi.from_dict(copy.deepcopy(openapi_document()), config=CONFIG)


def test_the_daemon_serves_the_document(fuzzed_daemon: DaemonProcess) -> None:
    with fuzzed_daemon.client() as client:
        assert client.request("GET", "/openapi.json") == openapi_document()


def _malformed(case: Case, sent: requests.PreparedRequest) -> str | None:
    """Why ``sent`` does not validate against the document, or None when it does."""
    op = OPERATIONS_BY_ROUTE.get((case.method.upper(), case.operation.path))
    if op is None:
        return f"{case.method} is not an operation of {case.operation.path}"
    version = sent.headers.get("Stockade-API-Version")
    if version is not None and str(version).strip() != "1":  # HTTP strips surrounding blanks
        return "Stockade-API-Version is not 1"
    document = openapi_document()
    if op.query is not None:
        query = dict(parse_qsl(urlsplit(sent.url or "").query, keep_blank_values=True))
        try:
            op.query.model_validate(query)
        except ValidationError:
            return "the query string"
    if op.body is None:
        return None
    raw = sent.body or b""
    if not raw:
        return None if op.body_optional else "no body"
    assert isinstance(raw, bytes | str), "schemathesis sends whole bodies"
    media_type = str(sent.headers.get("Content-Type", "")).split(";")[0].strip().lower()
    if media_type != "application/json":
        return "not application/json"
    try:
        body = json.loads(raw, parse_constant=_no_constant)
    except ValueError:
        return "not JSON"
    # The document's components ride along, so that a nested model's $ref resolves.
    schemas = document["components"]["schemas"]
    body_schema = {**schemas[op.body.__name__], "components": {"schemas": schemas}}
    if not jsonschema_rs.validator_for(body_schema, validate_formats=True).is_valid(body):
        return "the body does not match its schema"
    return None


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def no_allow_for_a_malformed_request(
    ctx: schemathesis.CheckContext, response: schemathesis.Response, case: Case
) -> bool | None:
    """An answer carrying ``"verdict": "allow"`` answers a request that validates."""
    try:
        answer = json.loads(response.content)
    except ValueError:
        return None
    if isinstance(answer, dict) and answer.get("verdict") == "allow":
        why = _malformed(case, response.request)
        assert why is None, f"allow answered a malformed request ({why})"
    return True


def malformed_requests_are_refused(
    ctx: schemathesis.CheckContext, response: schemathesis.Response, case: Case
) -> bool | None:
    """Stricter than ``negative_data_rejection``, which lets an unknown field pass: the
    daemon must refuse those too (a misspelled ``project_rot`` must not be ignored)."""
    why = _malformed(case, response.request)
    if why is not None:
        assert 400 <= response.status_code < 500, f"a malformed request was accepted ({why})"
    return True


CHECKS = [
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
    content_type_conformance,
    negative_data_rejection,
    no_allow_for_a_malformed_request,
    malformed_requests_are_refused,
]


BODIES = [op for op in OPERATIONS if op.body is not None and op.route != SHUTDOWN[1]]
CALLS = [op for op in BODIES if op.body is not None and "tool_input" in op.body.model_fields]


def _send(session: requests.Session, method: str, path: str, body: bytes) -> requests.Response:
    path = path.replace("{approval_id}", "0badc0de")
    headers = {"Content-Type": "application/json"}
    return session.request(method, BASE_URL + path, data=body, headers=headers, timeout=30)


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("GET", "/audit/events/9223372036854775808", b"", 404),
        ("GET", "/audit/events?after=9223372036854775808", b"", 422),
        ("GET", "/audit/events?until=0.5", b"", 422),
        ("POST", "/audit/purge", b'{"before": "1700000000", "confirm": true}', 422),
        ("POST", "/audit/purge", b'{"before": "2025-01-31", "confirm": true}', 422),
    ],
)
def test_what_the_fuzzer_found_is_refused(
    session: requests.Session, method: str, path: str, body: bytes, status: int
) -> None:
    """Regressions: a seq beyond SQLite's integers was a 500; a bare number was a time."""
    answer = _send(session, method, PREFIX + path, body)
    assert answer.status_code == status, answer.text


@pytest.mark.parametrize("op", BODIES, ids=lambda op: op.path)
def test_an_unknown_field_is_refused(session: requests.Session, op: Operation) -> None:
    """What the fuzzer does not try: a valid body plus a misspelled field."""
    assert op.body is not None
    body = EXAMPLES[op.body] | {"project_rot": "/"}
    answer = _send(session, op.method, op.route, json.dumps(body).encode())
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["details"][0]["loc"] == ["project_rot"]


@pytest.mark.parametrize("op", CALLS, ids=lambda op: op.path)
@pytest.mark.parametrize("number", ["NaN", "Infinity", "-1e999"])
def test_a_number_json_cannot_hold_is_refused(
    session: requests.Session, op: Operation, number: str
) -> None:
    """The JSON reader takes NaN, and 1e999 as infinity, anywhere in ``tool_input``; the
    audit log cannot store either, so such a call is refused up front (not a 500)."""
    assert op.body is not None
    body = json.dumps(EXAMPLES[op.body] | {"tool_input": {"n": [0.5]}})
    answer = _send(session, op.method, op.route, body.replace("0.5", number).encode())
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["details"][0]["loc"] == ["tool_input"]


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_api_fuzz(case: Case, session: requests.Session) -> None:
    route = (case.method.upper(), case.operation.path)
    if route in (SHUTDOWN, EXEC):
        prepared = requests.Request(**case.as_transport_kwargs(base_url=BASE_URL)).prepare()
        if _malformed(case, prepared) is None:
            return  # a valid shutdown would stop the daemon under test; an exec runs a program
    op = OPERATIONS_BY_ROUTE.get(route)
    # A stream never ends: schemathesis reads it for this long, checking every event.
    streams = op is not None and op.media_type == "text/event-stream"
    timeout = STREAM_READ_S if streams else REQUEST_TIMEOUT_S
    case.call_and_validate(session=session, base_url=BASE_URL, checks=CHECKS, timeout=timeout)
