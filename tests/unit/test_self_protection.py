"""An agent must not reach the daemon that judges it: not its CLI, its files or its socket.

The socket answers approvals, so an agent that could write to it could approve its
own held call. Every spelling below must be denied as self-protection.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.engine_support import Sandbox, make_sandbox

from stockade.decision import Verdict
from stockade.home import Home
from stockade.policy.inspect import SOCKET_NAME


@pytest.fixture
def box(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Sandbox:
    return make_sandbox(tmp_path, monkeypatch)


def test_the_socket_name_is_the_homes() -> None:
    assert Home(Path("/x")).socket_path.name == SOCKET_NAME


@pytest.mark.parametrize(
    "command",
    [
        "curl --unix-socket {sock} -X POST http://x/api/v1/approvals/ab12cd34/approve",
        "curl --unix-socket={sock} http://x/api/v1/approvals",
        "nc -U {sock}",
        "socat - UNIX-CONNECT:{sock}",
        "python3 -c 'import socket; s=socket.socket(1); s.connect(\"{sock}\")'",
        "cd {stockade_home} && curl --unix-socket stockade.sock http://x/",
        "ln -s {stockade_home} ./h",
        "cp {stockade_home}/stockade.toml /tmp/x",
        "ls && curl --unix-socket {sock} http://x/api/v1/approvals",
    ],
)
def test_commands_that_reach_the_daemon_are_denied(box: Sandbox, command: str) -> None:
    stockade_home = str(box.home.root)
    filled = command.format(sock=f"{stockade_home}/stockade.sock", stockade_home=stockade_home)
    decision = box.bash(filled)
    assert decision.verdict is Verdict.DENY, decision
    assert decision.rule_id in ("guard:self-protection", "guard:stockade-home"), decision


def test_tilde_spelling_of_the_home_is_denied(
    box: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    relative = box.home.root.relative_to(box.user_home)
    decision = box.bash(f"curl --unix-socket ~/{relative}/api http://x/")
    assert decision.verdict is Verdict.DENY
    assert decision.rule_id == "guard:self-protection"


def test_ordinary_curl_is_not_caught(box: Sandbox) -> None:
    assert box.bash("curl --unix-socket /var/run/docker.sock http://x/").rule_id != (
        "guard:self-protection"
    )
