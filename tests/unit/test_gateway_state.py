"""The gateway's state machines, with an injected clock: lockout, UI sessions, the token file."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from stockade.daemon.gateway.lockout import Lockout
from stockade.daemon.gateway.sessions import SessionStore
from stockade.daemon.gateway.token import TokenStore, token_path
from stockade.errors import StockadeError
from stockade.home import Home


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_lockout_counts_failures_in_a_sliding_window() -> None:
    clock = Clock()
    lockout = Lockout(3, window_s=60, lockout_s=300, clock=clock)
    assert not lockout.fail("a") and not lockout.fail("a")
    clock.now += 61  # both fell out of the window
    assert not lockout.fail("a") and not lockout.fail("a")
    assert lockout.retry_after("a") is None
    assert lockout.fail("a")  # the third within 60 s starts the lockout, once
    assert lockout.retry_after("a") == 300
    assert lockout.retry_after("b") is None  # per address
    lockout.succeed("a")  # success does not lift a lockout
    clock.now += 299.5
    assert lockout.retry_after("a") == pytest.approx(0.5)
    clock.now += 1
    assert lockout.retry_after("a") is None
    # After the lockout the count starts again from zero.
    assert not lockout.fail("a")


def test_success_clears_the_failure_count() -> None:
    lockout = Lockout(2, window_s=60, lockout_s=60, clock=Clock())
    assert not lockout.fail("a")
    lockout.succeed("a")
    assert not lockout.fail("a")


def test_lockout_memory_is_bounded() -> None:
    lockout = Lockout(1, window_s=60, lockout_s=60, max_clients=2, clock=Clock())
    for client in ("a", "b", "c"):
        assert lockout.fail(client)
    assert lockout.retry_after("a") is None  # the stalest was dropped
    assert lockout.retry_after("c") == 60


def test_sessions_expire_end_and_die_together() -> None:
    clock = Clock()
    sessions = SessionStore(lifetime_s=100, max_sessions=3, clock=clock)
    first, second = sessions.create(), sessions.create()
    assert first != second and len(first) >= 43
    assert sessions.valid(first) and not sessions.valid("forged") and not sessions.valid("")
    sessions.end(first)
    assert not sessions.valid(first) and sessions.valid(second)
    clock.now += 100
    assert not sessions.valid(second)  # absolute lifetime
    live = [sessions.create() for _ in range(4)]
    assert not sessions.valid(live[0]) and all(sessions.valid(s) for s in live[1:])
    assert sessions.end_all() == 3
    assert not any(sessions.valid(s) for s in live)


def test_token_file_is_private_stable_and_rotates(tmp_path: Path) -> None:
    home = Home(tmp_path)
    store = TokenStore(home)
    assert not store.matches(b"anything")  # nothing loaded: nothing matches
    token = store.load_or_create()
    assert stat.S_IMODE(os.stat(token_path(home)).st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gateway.token"]
    assert TokenStore(home).load_or_create() == token  # a second reader agrees
    assert store.matches(token.encode()) and not store.matches(token.encode()[:-1])
    rotated = store.rotate()
    assert rotated != token and store.matches(rotated.encode())
    assert not store.matches(token.encode())
    assert token_path(home).read_text().strip() == rotated


def test_a_malformed_token_file_is_an_error_not_a_token(tmp_path: Path) -> None:
    token_path(Home(tmp_path)).write_text("short\n")
    with pytest.raises(StockadeError, match="malformed") as raised:
        TokenStore(Home(tmp_path)).load_or_create()
    assert "short" not in raised.value.diagnostics()
