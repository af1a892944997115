"""The vault with the real CLI and a real daemon: values go in, are used, and never come out.

Every command is the real ``stockade`` console script, fed the value on stdin (a pipe,
as in ``printf '%s' VALUE | stockade secret add NAME``). The keychain is keyring's own
``fail`` backend (``tests/conftest.py``), so the key is the key file unless a test sets
``STOCKADE_MASTER_KEY`` or, in one test, puts keyrings.alt's file backend in the keychain's
place.

Crash-safety is tested with a real ``kill -9``: ``STOCKADE_TEST_VAULT_CRASH_AT`` (a test
hook in :mod:`stockade.vault.store`) makes the rotating process — the CLI, or the
daemon — SIGKILL itself right after the named step, and the next start must find every
secret with its value.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
from tests.daemon_support import STOCKADE, DaemonProcess, daemon_env, start_gateway
from tests.integration.conftest import RawRequest

from stockade.client import ApiError, Client
from stockade.home import Home
from stockade.vault import offline
from stockade.vault.store import CRASH_HOOK

pytestmark = pytest.mark.integration

VALUES = {
    "GITHUB_TOKEN": "tok-7f3a9c1e5b2d4f60a8e1",
    "db.password": "correct horse battery staple",
    "_weird": "päss wörd ✓ $(rm -rf ~) 'q\"",
}
# The child proves it got the value by printing its sha256, never the value itself.
HASH_ENV = (
    "import hashlib, os, sys; print(hashlib.sha256(os.environ[sys.argv[1]].encode()).hexdigest())"
)


def cli(
    home: Home, *args: str, stdin: str | None = None, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [STOCKADE, *args],
        input=stdin if stdin is not None else "",
        env=daemon_env(home, env),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def exec_hash(home: Home, name: str) -> str:
    """sha256 of ``secret://name`` as a program the daemon started received it (asked over
    the socket; `stockade secret exec` itself is run in the first test)."""
    body = {"argv": [sys.executable, "-c", HASH_ENV, "V"], "env": {"V": f"secret://{name}"}}
    with Client(home.socket_path, timeout=30) as client:
        answer = client.request("POST", "/secrets/exec", body)
    assert answer["exit_code"] == 0, answer
    return str(answer["stdout"]).strip()


def audit(home: Home, kind: str) -> list[dict[str, Any]]:
    with Client(home.socket_path) as client:
        found = client.request("GET", "/audit/events", query={"kind": kind, "limit": 1000})
    return [event["payload"] for event in found["events"]]


def nowhere_on_disk(root: Path, *values: str) -> None:
    """No file under ``root`` holds any of ``values`` (raw bytes, any encoding of it)."""
    for path in root.rglob("*"):
        if path.is_file() and not path.is_symlink():
            data = path.read_bytes()
            for value in values:
                for form in (value.encode(), json.dumps(value).encode()[1:-1]):
                    assert form not in data, f"{value!r} found in {path}"


def test_secrets_end_to_end_with_the_daemon_and_without(
    home: Home, spawn_daemon: Callable[..., DaemonProcess], raw_request: RawRequest
) -> None:
    # With no daemon, add writes the vault itself (under daemon.lock) and audits it.
    first = cli(home, "secret", "add", "GITHUB_TOKEN", stdin=VALUES["GITHUB_TOKEN"])
    assert first.returncode == 0, first.stderr
    daemon = spawn_daemon()
    added = cli(home, "secret", "add", "db.password", "--json", stdin=VALUES["db.password"] + "\n")
    assert added.returncode == 0, added.stderr  # through the daemon's socket
    assert json.loads(added.stdout)["replaced"] is False
    with daemon.client() as api:
        api.request("POST", "/secrets", {"name": "_weird", "value": VALUES["_weird"]})
        listed = json.loads(cli(home, "secret", "list", "--json").stdout)
        assert [s["name"] for s in listed["secrets"]] == sorted(VALUES)
        assert listed["key_source"] == "file"
        for name, value in VALUES.items():  # the offline one too: the daemon read it at start
            assert exec_hash(home, name) == sha256(value)  # one trailing newline was dropped

        # `secret exec`: stdout, stderr and the exit code come back; plain variables pass.
        script = (
            f'{sys.executable} -c "{HASH_ENV}" V; echo "$A"; echo oops >&2; '
            'echo "${STOCKADE_MASTER_KEY:-no key}"; exit 7'
        )
        ran = cli(
            home,
            "secret",
            "exec",
            "-e",
            "V=secret://_weird",
            "-e",
            "A=plain",
            "--",
            "sh",
            "-c",
            script,
        )
        expected = f"{sha256(VALUES['_weird'])}\nplain\nno key\n"
        assert (ran.returncode, ran.stdout, ran.stderr) == (7, expected, "oops\n")
        with pytest.raises(ApiError, match="unknown handle secret://NOPE") as unknown:
            api.request("POST", "/secrets/exec", {"argv": ["true"], "env": {"X": "secret://NOPE"}})
        assert unknown.value.status == 404

        again = cli(home, "secret", "add", "db.password", stdin="another")
        assert again.returncode == 1 and "--replace" in again.stderr
        replaced = {"name": "db.password", "value": "new-db-pass-4711", "replace": True}
        assert api.request("POST", "/secrets", replaced)["replaced"] is True
        assert exec_hash(home, "db.password") == sha256("new-db-pass-4711")

        refused = cli(home, "secret", "rm", "_weird")
        assert refused.returncode == 2 and "--yes" in refused.stderr
        assert cli(home, "secret", "rm", "_weird", "--yes").returncode == 0
        with pytest.raises(ApiError, match="_weird"):
            api.request(
                "POST", "/secrets/exec", {"argv": ["true"], "env": {"X": "secret://_weird"}}
            )

        rotated = cli(home, "secret", "rotate-key", "--yes", "--json")
        assert rotated.returncode == 0, rotated.stderr
        assert json.loads(rotated.stdout)["secrets"] == 2
        assert exec_hash(home, "GITHUB_TOKEN") == sha256(VALUES["GITHUB_TOKEN"])

    # A bad request never echoes the value it carried.
    leaked = "leak-me-if-you-can-123"
    for body in ({"name": "bad name", "value": leaked}, {"name": "N", "value": leaked, "x": 1}):
        headers = {"content-type": "application/json"}
        status, answer = raw_request("POST", "/api/v1/secrets", json.dumps(body).encode(), headers)
        assert status == 422 and leaked not in json.dumps(answer)

    resolved = audit(home, "secret.resolved")
    assert resolved[0] == {
        "handles": ["secret://GITHUB_TOKEN"],
        "vars": ["V"],
        "for": "api",
        "why": f"exec {Path(sys.executable).name}",
    }
    cli_exec = {"handles": ["secret://_weird"], "vars": ["V"], "for": "cli", "why": "exec sh"}
    assert cli_exec in resolved  # `stockade secret exec` names itself
    added_names = [payload["name"] for payload in audit(home, "secret.added")]
    assert added_names == ["GITHUB_TOKEN", "db.password", "_weird", "db.password"]
    assert [payload["name"] for payload in audit(home, "secret.removed")] == ["_weird"]
    assert len(audit(home, "secret.key_rotated")) == 1
    daemon.stop()
    everything = [*VALUES.values(), "new-db-pass-4711", leaked]
    nowhere_on_disk(home.root, *everything)
    assert not any(value in daemon.log() for value in everything)


def test_the_gateway_answers_no_secret_route(
    home: Home, spawn_daemon: Callable[..., DaemonProcess]
) -> None:
    gateway = start_gateway(spawn_daemon(start=False))
    assert cli(home, "secret", "add", "A", stdin="gateway-test-value").returncode == 0
    for method, path, body in (
        ("GET", "/api/v1/secrets", None),
        ("POST", "/api/v1/secrets", {"name": "B", "value": "x"}),
        ("POST", "/api/v1/secrets/exec", {"argv": ["true"], "env": {"X": "secret://A"}}),
        ("POST", "/api/v1/secrets/rotate-key", {"confirm": True}),
    ):
        reply = gateway.request(method, path, body=body, token=gateway.token)
        assert reply.status == 404, (path, reply.body)
    assert cli(home, "secret", "list", "--json").returncode == 0  # the socket still serves


@pytest.mark.parametrize("step", ["staged", "switched"])
@pytest.mark.parametrize("rotator", ["cli", "daemon"])
def test_a_rotation_killed_halfway_loses_nothing(
    home: Home, spawn_daemon: Callable[..., DaemonProcess], step: str, rotator: str
) -> None:
    for name, value in VALUES.items():  # as `secret add` does with no daemon
        offline.add(home, name, value, replace=False, by="cli")
    key_file = home.root / "vault" / "master.key"
    old_key = key_file.read_bytes()
    crash = {CRASH_HOOK: step}
    if rotator == "cli":
        killed = cli(home, "secret", "rotate-key", "--yes", env=crash)
        assert killed.returncode == -signal.SIGKILL
    else:
        daemon = spawn_daemon(env=crash)
        killed = cli(home, "secret", "rotate-key", "--yes")
        assert killed.returncode != 0 and daemon.wait() == -signal.SIGKILL
    assert (home.root / "vault" / "master.key.next").exists()  # killed mid-rotation

    listed = json.loads(cli(home, "secret", "list", "--json").stdout)  # needs no key
    assert [s["name"] for s in listed["secrets"]] == sorted(VALUES)
    spawn_daemon()  # finishes (switched) or rolls back (staged) the rotation, then serves
    for name, value in VALUES.items():
        assert exec_hash(home, name) == sha256(value)
    assert not (home.root / "vault" / "master.key.next").exists()
    assert (key_file.read_bytes() == old_key) == (step == "staged")


def test_the_master_key_from_the_environment(
    home: Home, spawn_daemon: Callable[..., DaemonProcess]
) -> None:
    key = {"STOCKADE_MASTER_KEY": base64.b64encode(os.urandom(32)).decode()}
    keyed = spawn_daemon(env=key)
    assert cli(home, "secret", "add", "A", stdin="env-keyed-value").returncode == 0
    assert exec_hash(home, "A") == sha256("env-keyed-value")
    assert not (home.root / "vault" / "master.key").exists()
    # The daemon dropped the key from its environment: no child inherits it.
    ran = cli(home, "secret", "exec", "--", "sh", "-c", 'echo "${STOCKADE_MASTER_KEY:-none}"')
    assert ran.stdout == "none\n"
    refused = cli(home, "secret", "rotate-key", "--yes")
    assert refused.returncode == 1 and "STOCKADE_MASTER_KEY" in refused.stderr

    def vault_check(env: Mapping[str, str] | None) -> dict[str, Any]:
        report = json.loads(cli(home, "doctor", "--json", env=env).stdout)
        found: dict[str, Any] = {c["id"]: c for c in report["checks"]}["vault.key"]
        return found

    assert vault_check(key)["status"] == "ok"
    assert "STOCKADE_MASTER_KEY" in vault_check(key)["message"]
    without = vault_check(None)  # the key file holds no key: fails, and says so
    assert without["status"] == "fail" and "holds no key" in without["message"]
    assert key["STOCKADE_MASTER_KEY"] not in json.dumps(without)

    # A daemon started without the key serves on; every vault operation says why it cannot.
    keyed.stop()
    unkeyed = spawn_daemon()
    listed = cli(home, "secret", "list")
    assert listed.returncode == 1 and "sealed with key" in listed.stderr
    assert "hint:" in listed.stderr and "Traceback" not in listed.stderr
    assert "env-keyed-value" not in unkeyed.log() + keyed.log()


def test_the_master_key_in_a_keychain(
    home: Home,
    spawn_daemon: Callable[..., DaemonProcess],
    tmp_path: Path,
) -> None:
    """The keychain source through a real ``keyring`` backend. No test machine has an OS
    keychain (no D-Bus session, no Secret Service, and tests must not touch yours), so
    keyrings.alt's plaintext file backend stands in for it: the same ``keyring`` calls,
    kept in a file of this test's. The key goes there, never to a key file; a rotation
    replaces it there and leaves no pending entry."""
    data = tmp_path / "keychain-data"
    keychain = {
        "PYTHON_KEYRING_BACKEND": "keyrings.alt.file.PlaintextKeyring",
        "XDG_DATA_HOME": str(data),
    }

    def entry(account: str) -> str | None:
        """The keychain entry, read through ``keyring`` as the daemon reads it."""
        read = "import keyring, sys; print(keyring.get_password('stockade-vault', sys.argv[1]))"
        shown = subprocess.run(
            [sys.executable, "-c", read, account],
            env={**os.environ, **keychain},
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        return None if shown == "None" else shown

    spawn_daemon(env=keychain)
    assert (
        cli(home, "secret", "add", "A", stdin="keychain-kept-value", env=keychain).returncode == 0
    )
    assert exec_hash(home, "A") == sha256("keychain-kept-value")
    assert not (home.root / "vault" / "master.key").exists()
    first = entry(str(home.root))
    assert first is not None and len(base64.b64decode(first)) == 32
    listed = json.loads(cli(home, "secret", "list", "--json", env=keychain).stdout)
    assert listed["key_source"] == "keychain"
    report = json.loads(cli(home, "doctor", "--json", env=keychain).stdout)
    check = {c["id"]: c for c in report["checks"]}["vault.key"]
    assert check["status"] == "ok" and "keychain" in check["message"], check

    rotated = cli(home, "secret", "rotate-key", "--yes", "--json", env=keychain)
    assert rotated.returncode == 0, rotated.stderr
    assert json.loads(rotated.stdout)["secrets"] == 1
    second = entry(str(home.root))
    assert second is not None and second != first
    assert entry(str(home.root) + ".next") is None  # the pending entry is gone
    assert exec_hash(home, "A") == sha256("keychain-kept-value")
    assert "keychain-kept-value" not in (data / "python_keyring" / "keyring_pass.cfg").read_text()


def test_doctor_says_the_key_file_is_only_file_permissions(home: Home) -> None:
    long_enough = cli(home, "secret", "add", "A", stdin="file-keyed-value")
    assert long_enough.returncode == 0 and "warning" not in long_enough.stderr
    short = cli(home, "secret", "add", "PIN", stdin="4711")  # kept, but not redacted by value
    assert short.returncode == 0 and "redactor does not look for them" in short.stderr
    report = json.loads(cli(home, "doctor", "--json").stdout)
    check = {c["id"]: c for c in report["checks"]}["vault.key"]
    assert check["status"] == "warn"
    assert "reduced to file permissions" in check["message"]
    assert "STOCKADE_MASTER_KEY" in check["fix"]


def test_the_prompt_hides_the_value_and_wants_it_twice(home: Home) -> None:
    """A real terminal (a pty): the value typed at the prompt is not echoed, and two
    different answers keep nothing."""
    import pty
    import select
    import time

    def typed(*answers: str) -> tuple[int, str]:
        fd, terminal = pty.openpty()
        child = subprocess.Popen(
            [STOCKADE, "secret", "add", "TYPED"],
            stdin=terminal,
            stdout=terminal,
            stderr=terminal,
            env=daemon_env(home),
            start_new_session=True,  # no controlling terminal: getpass uses stdin, the pty
        )
        os.close(terminal)
        screen, sent, deadline = b"", 0, time.monotonic() + 30
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.1)
            if ready:
                try:
                    chunk = os.read(fd, 4096)
                except OSError:  # the child closed the pty: it has exited
                    break
                if not chunk:
                    break
                screen += chunk
                # getpass flushes the terminal's input before each prompt: answer after it.
                prompts = screen.count(b"value (hidden):") + screen.count(b"again:")
                if sent < min(prompts, len(answers)):
                    os.write(fd, answers[sent].encode() + b"\n")
                    sent += 1
        os.close(fd)
        return child.wait(10), screen.decode(errors="replace")

    code, screen = typed("typed-value-1", "typed-value-2")
    assert code == 1 and "the two values differ" in screen and "typed-value" not in screen
    code, screen = typed("typed-value-3", "typed-value-3")
    assert code == 0 and "added secret://TYPED" in screen and "typed-value" not in screen
    assert offline.listing(home)["secrets"][0]["name"] == "TYPED"
