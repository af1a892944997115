"""The gateway's token: required on every API request, checked, rotated, rate limited.

Real HTTP over TCP against a real daemon subprocess; the audit log is read back over
the Unix socket. No request here may turn into an allow without the token.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import stat
import time
from collections.abc import Callable
from typing import Any

import pytest
from tests.daemon_support import (
    DaemonProcess,
    run_cli,
    start_gateway,
    tool_call,
    write_gateway_settings,
)

pytestmark = pytest.mark.integration

Spawn = Callable[..., DaemonProcess]
RM_HOME: dict[str, Any] = {"tool_name": "Bash", "tool_input": {"command": "rm -rf ~"}}


def _without_seq(decision: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in decision.items() if key != "event_seq"}


def test_every_api_request_needs_the_token(spawn_daemon: Spawn) -> None:
    gw = start_gateway(spawn_daemon(start=False))
    token_file = gw.process.home.root / "gateway.token"
    assert stat.S_IMODE(os.stat(token_file).st_mode) == 0o600
    assert len(gw.token) == 43

    missing = gw.request("GET", "/api/v1/health")
    assert (missing.status, missing.code) == (401, "unauthorized")
    assert missing.headers["www-authenticate"].startswith("Bearer")
    wrong = gw.request("GET", "/api/v1/health", token="A" * 43)
    assert (wrong.status, wrong.code) == (401, "unauthorized")
    basic = gw.request("GET", "/api/v1/health", headers={"Authorization": f"Basic {gw.token}"})
    assert basic.status == 401
    decide = gw.request("POST", "/api/v1/decide", body=tool_call(**RM_HOME), token="nope")
    assert decide.status == 401 and "verdict" not in decide.body

    health = gw.request("GET", "/api/v1/health", token=gw.token)
    assert health.status == 200 and health.body["pid"] == gw.process.pid
    # Every answer, a refusal too, is data that no browser may frame, sniff or cache.
    for answer in (missing, health):
        assert answer.headers["content-security-policy"].startswith("default-src 'none'")
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["cache-control"] == "no-store"
        assert answer.headers["x-frame-options"] == "DENY"

    # The same pipeline answers over TCP and over the socket.
    verdicts = []
    with gw.process.client() as client:
        for call in (tool_call(**RM_HOME), tool_call()):
            over_tcp = gw.request("POST", "/api/v1/decide", body=call, token=gw.token)
            over_socket = client.request("POST", "/decide", call)
            assert over_tcp.status == 200
            assert _without_seq(over_tcp.body) == _without_seq(over_socket)
            verdicts.append(over_tcp.body["verdict"])
    assert verdicts == ["deny", "allow"]

    # Rotations (of the token, of the identity key) and the gateway's own description exist
    # on the socket only.
    rotate = gw.request("POST", "/api/v1/gateway/token/rotate", body={}, token=gw.token)
    assert (rotate.status, rotate.code) == (404, "not_found")
    confirmed = {"confirm": True}
    rotate = gw.request("POST", "/api/v1/identity/rotate", body=confirmed, token=gw.token)
    assert (rotate.status, rotate.code) == (404, "not_found")
    assert gw.audit("identity.rotated") == []
    assert gw.request("GET", "/api/v1/gateway", token=gw.token).status == 404

    # The UI's page is public; asking "am I logged in?" without a cookie is a 401 but
    # not a failed attempt.
    page = gw.request("GET", "/")
    assert page.status == 200 and page.headers["content-type"].startswith("text/html")
    assert gw.request("GET", "/ui/session").status == 401

    failed = gw.audit("auth.failed")
    assert [event["payload"]["reason"] for event in failed] == [
        "no credentials",
        "wrong token",
        "malformed Authorization header",
        "wrong token",
    ]
    assert {event["payload"]["client"] for event in failed} == {"127.0.0.1"}
    assert failed[-1]["payload"]["path"] == "/api/v1/decide"

    # The TCP listener stops with the daemon.
    gw.process.stop()
    assert gw.process.wait() == 0
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", gw.port), timeout=5).close()
    _assert_token_nowhere(gw.process, gw.token)


def test_rotation_ends_the_old_token_and_every_ui_session(spawn_daemon: Spawn) -> None:
    gw = start_gateway(spawn_daemon(start=False))
    refused = gw.request("POST", "/ui/login", body={"token": "A" * 43})
    assert (refused.status, refused.code) == (401, "unauthorized")
    login = gw.request("POST", "/ui/login", body={"token": gw.token})
    assert login.status == 204
    cookie = login.headers["set-cookie"]
    attributes = {part.strip().lower() for part in cookie.split(";")[1:]}
    assert {"httponly", "path=/", "samesite=strict"} <= attributes
    assert "secure" not in attributes  # plain HTTP on loopback; see test_gateway_tls
    session = {"Cookie": cookie.split(";")[0]}
    assert gw.request("GET", "/ui/session", headers=session).body == {"authenticated": True}
    assert gw.request("GET", "/api/v1/health", headers=session).status == 200

    # An event stream opened with the session goes on no longer than the session.
    stream = http.client.HTTPConnection("127.0.0.1", gw.port, timeout=10)
    stream.request("GET", "/api/v1/events", headers=session)
    live = stream.getresponse()
    assert live.status == 200 and live.readline() == b"retry: 1000\n"

    rotated = run_cli(gw.process.home, "gateway", "token", "--rotate", "--json")
    assert rotated.returncode == 0, rotated.stderr
    answer = json.loads(rotated.stdout)
    new_token = answer["token"]
    live.read()  # returns at the stream's end (a socket timeout here fails the test)
    stream.close()
    assert answer["rotated"] is True and answer["sessions_ended"] == 1
    assert new_token != gw.token and len(new_token) == 43

    assert gw.request("GET", "/api/v1/health", token=gw.token).status == 401
    assert gw.request("GET", "/ui/session", headers=session).status == 401
    assert gw.request("GET", "/api/v1/health", token=new_token).status == 200
    shown = run_cli(gw.process.home, "gateway", "token")
    assert shown.stdout.strip() == new_token

    # Logout ends a session (the UI sends Origin with its POSTs).
    again = gw.request("POST", "/ui/login", body={"token": new_token})
    session = {"Cookie": again.headers["set-cookie"].split(";")[0]}
    origin = {"Origin": f"http://127.0.0.1:{gw.port}"}
    logout = gw.request("POST", "/ui/logout", headers={**session, **origin})
    assert logout.status == 204 and "max-age=0" in logout.headers["set-cookie"].lower()
    assert gw.request("GET", "/ui/session", headers=session).status == 401

    [event] = gw.audit("gateway.token_rotated")
    assert event["payload"] == {"by": "cli", "sessions_ended": 1}
    _assert_token_nowhere(gw.process, gw.token)
    _assert_token_nowhere(gw.process, new_token)


def test_lockout_refuses_failures_but_never_the_right_token(spawn_daemon: Spawn) -> None:
    """On loopback every local process shares one address: a lockout that refused the
    token too would let any of them keep the user out of the gateway."""
    lockout_s = 3
    settings = {"max_failures": 3, "failure_window_s": 60, "lockout_s": lockout_s}
    gw = start_gateway(spawn_daemon(start=False), settings)
    # Forwarded headers from a peer that is not a trusted proxy change nothing.
    statuses = [
        gw.request(
            "GET",
            "/api/v1/health",
            token=f"guess-{n}",
            headers={"X-Forwarded-For": f"203.0.113.{n}", "X-Real-IP": f"198.51.100.{n}"},
        ).status
        for n in range(3)
    ]
    assert statuses == [401, 401, 429]
    fresh = {"X-Forwarded-For": "192.0.2.77", "X-Real-IP": "192.0.2.77"}
    locked = gw.request("GET", "/api/v1/health", token="guess-3", headers=fresh)
    assert (locked.status, locked.code) == (429, "locked_out")
    assert 1 <= int(locked.headers["retry-after"]) <= lockout_s
    assert gw.request("POST", "/ui/login", body={"token": "guess-4"}).status == 429
    assert (
        gw.request("GET", "/api/v1/health", headers={"Cookie": "stockade_session=x"}).status == 429
    )
    # The holder of the token is not locked out with the guesser: bearer, login, cookie.
    assert gw.request("GET", "/api/v1/health", token=gw.token, headers=fresh).status == 200
    login = gw.request("POST", "/ui/login", body={"token": gw.token})
    assert login.status == 204
    session = {"Cookie": login.headers["set-cookie"].split(";")[0]}
    assert gw.request("GET", "/ui/session", headers=session).status == 200
    assert gw.request("GET", "/", headers=session).status == 200  # the UI's files
    # ... and those successes did not lift the lockout.
    assert gw.request("GET", "/api/v1/health", token="guess-5").status == 429

    failed = gw.audit("auth.failed")  # refusals while locked out are not attempts
    assert [(e["payload"]["client"], e["payload"]["forwarded"]) for e in failed] == [
        ("127.0.0.1", False)
    ] * 3
    [lockout] = gw.audit("auth.locked_out")
    assert lockout["payload"]["client"] == "127.0.0.1"
    assert lockout["payload"]["max_failures"] == 3

    deadline = time.monotonic() + lockout_s + 5
    while (probe := gw.request("GET", "/api/v1/health", token="guess-6")).status == 429:
        assert time.monotonic() < deadline, "the lockout did not end"
        time.sleep(0.2)
    assert probe.status == 401  # counted and audited again once the lockout is over
    assert len(gw.audit("auth.failed")) == 4
    _assert_token_nowhere(gw.process, gw.token)


def test_token_and_ui_commands_without_a_daemon(spawn_daemon: Spawn) -> None:
    process = spawn_daemon(start=False)
    off = run_cli(process.home, "ui")
    assert off.returncode == 1 and "stockade serve --http 127.0.0.1:8700" in off.stderr
    write_gateway_settings(process.home, {"listen": "[::1]:8700"})
    configured = run_cli(process.home, "ui", "--json")
    assert json.loads(configured.stdout) == {"url": "http://[::1]:8700/", "running": False}

    created = run_cli(process.home, "gateway", "token", "--json")
    assert created.returncode == 0, created.stderr
    answer = json.loads(created.stdout)
    assert answer["rotated"] is False and len(answer["token"]) == 43
    assert stat.S_IMODE(os.stat(answer["path"]).st_mode) == 0o600
    # Without a daemon a rotation is still audited (under the daemon lock).
    rotated = run_cli(process.home, "gateway", "token", "--rotate")
    assert rotated.returncode == 0 and rotated.stdout.strip() != answer["token"]
    # The daemon keeps the token it finds.
    gw = start_gateway(process)
    assert gw.token == rotated.stdout.strip()
    [event] = gw.audit("gateway.token_rotated")
    assert event["payload"] == {"by": "cli", "sessions_ended": 0}


def _assert_token_nowhere(process: DaemonProcess, token: str) -> None:
    """Neither the daemon's log nor any byte of the audit database holds the token."""
    assert token not in process.log()
    for path in process.home.root.glob("audit.db*"):
        assert token.encode() not in path.read_bytes(), path
