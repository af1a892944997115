"""The canary test: secrets planted where an agent finds them leak nowhere Stockade writes or shows.

The real Claude Code (``claude -p``, hooks installed, a real daemon with its gateway and
control UI) is scripted by the fake model server to read files that hold canaries under
harmless names, print them with ``cat`` and ``grep``, URL-encode them with Python and,
for a value the vault knows, base64 them at each alignment. Then every place Stockade
writes or serves is searched for each canary in plain text and in its base64 and URL
forms: every file under ``$STOCKADE_HOME`` (``audit.db`` with its WAL, raw bytes), the
daemon's log, every API list and each audit event, the live event stream's backlog,
the control UI's page and assets and every API answer the UI reads (over the gateway,
with the token), and everything the model was sent. There must be no hit.

Two kinds of canary. *Shaped* ones (``sk-ant-…``, ``ghp_…``, an AWS key id, a PEM
private key) are found by the built-in patterns, in plain and URL-encoded text, but not
in base64 (nothing marks a base64 blob as holding a token shape), so the script does
not base64 them. A *vault* canary is random and known only by value: it is planted
with ``printf '%s' VALUE | stockade secret add NAME`` while the daemon runs, and must be
found in every form.

Not searched: Claude Code's own files under the agent's HOME (its transcripts keep what
the tool printed, before the hook replaced it for the model); Stockade does not write
them.
"""

from __future__ import annotations

import base64
import json
import secrets
import socket
import subprocess
from collections.abc import Callable, Iterable
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest
from tests.daemon_support import DaemonProcess, GatewayDaemon, start_gateway
from tests.e2e.fake_anthropic import tool_use
from tests.e2e.support import Workspace, audit_events, payloads
from tests.e2e.test_claude_code import Claude, ClaudeRun, claude  # noqa: F401 - fixture

from stockade.client import Client

ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
# A script in the project: ``python3 -c '…urllib…'`` would itself be judged a network call.
QUOTE = "import sys, urllib.parse\nprint(urllib.parse.quote(open(sys.argv[1]).read()))\n"
FETCH = {"url": "https://example.com/", "prompt": "summarize"}
# What the control UI reads (static/*.js) and the other list endpoints.
API_READS = (
    "/approvals?status=all",
    "/sessions?limit=200",
    "/rules",
    "/policy",
    "/audit/head",
    "/identity",
    "/capabilities",
    "/health",
)


def random_text(length: int, alphabet: str = ALNUM) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))


def shaped_canaries() -> dict[str, str]:
    """Canaries of the token shapes the built-in patterns know, fresh for each run."""
    pem_body = "\n".join(random_text(64, ALNUM + "+/") for _ in range(4))
    return {
        "anthropic": "sk-ant-api03-" + random_text(40),
        "github": "ghp_" + random_text(36),
        "aws": "AKIA" + random_text(16, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"),
        "pem": pem_body,  # the body of the key below: what must not leak
    }


def forms(canary: str) -> set[str]:
    """The canary and its base64 (each alignment, standard and URL-safe) and URL forms."""
    raw = canary.encode()
    found = {canary, quote(canary), quote(canary, safe=""), quote_plus(canary)}
    for offset, skip in enumerate((0, 2, 3)):
        core = base64.b64encode(bytes(offset) + raw).decode()[skip : (offset + len(raw)) * 8 // 6]
        found |= {core, core.replace("+", "-").replace("/", "_")}
    return {form for form in found if len(form) >= 8}


def event_stream_backlog(home_socket: Path) -> bytes:
    """What ``GET /events?after=0`` sends at once: the backlog, read until it goes quiet."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.connect(str(home_socket))
        conn.sendall(b"GET /api/v1/events?after=0 HTTP/1.1\r\nHost: localhost\r\n\r\n")
        conn.settimeout(1.0)
        received = b""
        try:
            while chunk := conn.recv(65536):
                received += chunk
        except TimeoutError:
            pass
    return received


def everything_served(gateway: GatewayDaemon) -> list[tuple[str, bytes]]:
    """(where, raw bytes) for each place Stockade writes or serves data."""
    process = gateway.process
    home = process.home
    found = [(str(path), path.read_bytes()) for path in home.root.rglob("*") if path.is_file()]
    found.append(("daemon log", process.log_path.read_bytes()))
    with Client(home.socket_path, timeout=5.0) as client:
        for path in API_READS:
            found.append((f"socket GET {path}", json.dumps(client.request("GET", path)).encode()))
    for event in audit_events(process):
        with Client(home.socket_path, timeout=5.0) as client:
            single = client.request("GET", f"/audit/events/{event['seq']}")
        found.append((f"GET /audit/events/{event['seq']}", json.dumps(single).encode()))
    found.append(("GET /events backlog", event_stream_backlog(home.socket_path)))
    # The control UI: its page and assets, and every answer it reads, over the gateway.
    page = gateway.request("GET", "/", token=gateway.token)
    found.append(("UI /", page.body if isinstance(page.body, bytes) else b""))
    assets = Path(__file__).parents[2] / "src" / "stockade" / "ui" / "static"
    for asset in sorted(assets.iterdir()):
        reply = gateway.request("GET", f"/assets/{asset.name}", token=gateway.token)
        found.append(
            (f"UI /assets/{asset.name}", reply.body if isinstance(reply.body, bytes) else b"")
        )
    for path in (*API_READS, "/audit/events?order=desc&limit=1000"):
        reply = gateway.request("GET", f"/api/v1{path}", token=gateway.token)
        assert reply.status == 200, (path, reply)
        found.append((f"gateway GET {path}", json.dumps(reply.body).encode()))
    return found


def assert_nowhere(canaries: Iterable[str], places: list[tuple[str, bytes]]) -> None:
    hits = [
        (where, form[:12] + "…")
        for canary in canaries
        for form in forms(canary)
        for where, data in places
        if form.encode() in data
    ]
    assert hits == [], hits


def shell(*commands: tuple[str, str]) -> list[tuple[str, str, dict[str, str]]]:
    """Bash calls (id, command). An id must not end in ``_<digit>``: Claude Code then
    reports "[Tool result missing due to internal error]" instead of the output."""
    return [
        (call_id, "Bash", {"command": command, "description": "d"}) for call_id, command in commands
    ]


def plant(workspace: Workspace, name: str, text: str) -> Path:
    path = workspace.project / name
    path.write_text(text)
    return path


@pytest.fixture
def gateway(spawn_daemon: Callable[..., DaemonProcess]) -> GatewayDaemon:
    """A daemon (the workspace's HOME) with its gateway and control UI on a loopback port."""
    return start_gateway(spawn_daemon(start=False))


def run_and_check(
    claude: Claude,  # noqa: F811 - the fixture's value
    gateway: GatewayDaemon,
    calls: list[tuple[str, str, dict[str, str]]],
    canaries: Iterable[str],
) -> ClaudeRun:
    """Run the scripted calls (id, tool, input), one a turn, then a fetch: nothing leaks,
    and the fetch is denied because the session printed a secret (content taint)."""
    plant(claude.workspace, "quote.py", QUOTE)
    turns = [[tool_use(tool, tool_input, call_id)] for call_id, tool, tool_input in calls]
    turns.append([tool_use("WebFetch", FETCH, "toolu_fetch")])
    run = claude.run(*turns, daemon=gateway.process)
    told = run.told_model()
    for call_id, _, _ in calls:
        assert "[REDACTED:" in told.get(call_id, ""), (call_id, run.describe())
    results = payloads(gateway.process, "tool.result", run.session_id)
    assert all(result["status"] == "succeeded" for result in results), results
    decided = payloads(gateway.process, "decision", run.session_id)
    fetched = [decision for decision in decided if decision["tool"] == "WebFetch"]
    assert [(d["verdict"], d["rule_id"]) for d in fetched] == [
        ("deny", "flow:credential-then-network")
    ], run.describe()
    canaries = list(canaries)
    assert_nowhere(canaries, [("sent to the model", claude.server.transcript().encode())])
    assert_nowhere(canaries, everything_served(gateway))
    return run


def test_shaped_canaries_leak_nowhere(
    claude: Claude,  # noqa: F811 - the fixture, imported above
    gateway: GatewayDaemon,
) -> None:
    canary = shaped_canaries()
    notes = plant(
        claude.workspace,
        "notes.txt",
        f"anthropic: {canary['anthropic']}\ngithub={canary['github']}\naws {canary['aws']}\n",
    )
    key = plant(
        claude.workspace,
        "deploy.txt",
        f"-----BEGIN RSA PRIVATE KEY-----\n{canary['pem']}\n-----END RSA PRIVATE KEY-----\n",
    )
    calls = [
        ("toolu_read", "Read", {"file_path": str(notes)}),
        ("toolu_read_key", "Read", {"file_path": str(key)}),
        *shell(
            ("toolu_cat", "cat notes.txt deploy.txt"),
            ("toolu_grep", "grep -h -e ghp_ -e sk-ant notes.txt"),
            ("toolu_quote", "python3 quote.py notes.txt"),
            ("toolu_quote_key", "python3 quote.py deploy.txt"),
        ),
    ]
    pem_lines = canary.pop("pem").splitlines()
    run_and_check(claude, gateway, calls, [*canary.values(), *pem_lines])


def test_a_vault_canary_leaks_nowhere_in_any_encoding(
    claude: Claude,  # noqa: F811 - the fixture, imported above
    gateway: GatewayDaemon,
) -> None:
    value = random_text(32, ALNUM + "-_.")
    workspace = claude.workspace
    added = subprocess.run(
        ["sh", "-c", 'printf "%s" "$CANARY" | stockade secret add DEPLOY_CANARY'],
        env={**workspace.env, "CANARY": value},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert added.returncode == 0, added.stdout + added.stderr
    # The value at byte offsets 12, 13 and 14: each of base64's three alignments.
    prefixes = {
        "settings.txt": "deploy_with ",
        "s1.txt": "deploy_with: ",
        "s2.txt": "deploy_with:: ",
    }
    for name, prefix in prefixes.items():
        plant(workspace, name, f"{prefix}{value}\n")
    calls = shell(
        ("toolu_cat", "cat settings.txt"),
        ("toolu_b64", "base64 -w0 settings.txt"),
        ("toolu_b64_one", "base64 -w0 s1.txt"),
        ("toolu_b64_two", "base64 -w0 s2.txt"),
        ("toolu_b64url", "base64 -w0 settings.txt | tr '+/' '-_'"),
        ("toolu_b64_wrapped", "cat s2.txt s1.txt settings.txt | base64"),  # 76 columns
        ("toolu_quote", "python3 quote.py settings.txt"),
    )
    run_and_check(claude, gateway, calls, [value])
