"""The canary test: secrets planted where an agent finds them leak nowhere Stockade writes or shows.

Each real harness (Claude Code ``claude -p``, Codex ``codex exec``, Gemini CLI ``gemini
-p``, hooks installed as a user would, a real daemon with its gateway and control UI) is
scripted by its fake model server to read files that hold canaries under harmless names,
print them with ``cat`` and ``grep``, URL-encode them with Python and, for a value the
vault knows, base64 them at each alignment. Then every place Stockade writes or serves
is searched for each canary in plain text and in its base64 and URL forms: every file
under ``$STOCKADE_HOME`` (``audit.db`` with its WAL, raw bytes), the daemon's log, every
API list and each audit event, the live event stream's backlog, the control UI's page
and assets and every API answer the UI reads (over the gateway, with the token), and
everything the model was sent. There must be no hit, the session must be tainted by
what its tools printed (``content:<label>``), and its next network call is denied.

Two kinds of canary. *Shaped* ones (``sk-ant-…``, ``ghp_…``, an AWS key id, a PEM
private key) are found by the built-in patterns, in plain and URL-encoded text, but not
in base64 (nothing marks a base64 blob as holding a token shape), so the script does
not base64 them. A *vault* canary is random and known only by value: it is planted
with ``printf '%s' VALUE | stockade secret add NAME`` while the daemon runs, and must be
found in every form.

What each harness lets the after-the-call hook put in place of the output, so what
the model may be sent (see the adapters' docstrings):

- Claude Code: ``PostToolUse`` answers ``updatedToolOutput``, the redacted output.
- Codex 0.169: no ``updatedToolOutput``; ``PostToolUse`` answers ``{"decision":
  "block", "reason": R}`` and Codex hands the model ``R``, the redacted text, instead
  of the output. Codex has no file-reading tool: a *read* step is ``cat`` in its shell.
- Gemini CLI: ``AfterTool`` answers a deny whose reason, the redacted text, the model
  gets instead of the output (``Tool result blocked: R``).

So with each of them the model is sent only redacted text, and that is asserted too.

Not searched: each harness's own records under the agent's HOME (Claude Code's
transcripts, Codex's session rollouts in ``$CODEX_HOME``, Gemini's ``~/.gemini/tmp``)
and its own stdout (``codex exec --json`` prints each command's output): they keep what
the tool printed, before the hook replaced it for the model; Stockade does not write
them.
"""

from __future__ import annotations

import base64
import json
import secrets
import shlex
import socket
import subprocess
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, Literal, Protocol, TypeVar
from urllib.parse import quote, quote_plus

import pytest
from tests.daemon_support import DaemonProcess, GatewayDaemon, start_gateway
from tests.e2e import fake_gemini, fake_openai
from tests.e2e.fake_anthropic import tool_use
from tests.e2e.support import HarnessRun, Workspace, audit_events, payloads
from tests.e2e.test_claude_code import Claude, claude  # noqa: F401 - fixture
from tests.e2e.test_codex import Codex, codex  # noqa: F401 - fixture
from tests.e2e.test_gemini import Gemini, gemini  # noqa: F401 - fixture

from stockade.client import Client

ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
# A script in the project: ``python3 -c '…urllib…'`` would itself be judged a network call.
QUOTE = "import sys, urllib.parse\nprint(urllib.parse.quote(open(sys.argv[1]).read()))\n"
FLOW_RULE = "flow:credential-then-network"
CONTENT_TAINT = "content:"  # a session source: a secret found in a tool's output
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


# --- one session of a harness -----------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One model turn: ``read`` a file with the harness's own file tool, or run ``shell``.

    ``label`` names the call (its id, where the harness takes one). It must not end in
    ``_<digit>``: Claude Code then reports "[Tool result missing due to internal
    error]" instead of the output.
    """

    label: str
    kind: Literal["read", "shell"]
    argument: str  # the file's path, or the command


def shell(*commands: tuple[str, str]) -> list[Step]:
    """Shell steps from (label, command) pairs."""
    return [Step(label, "shell", command) for label, command in commands]


@dataclass
class Session:
    """A finished session of one harness, as the check reads it."""

    run: HarnessRun
    session_id: str
    told: dict[str, str]  # what the model was sent for each step, by label
    transcript: str  # every request the model got, as one text


class Driver(Protocol):
    """Runs the steps, one a turn, then a network call, as one session of a harness."""

    @property
    def workspace(self) -> Workspace: ...

    def session(self, steps: list[Step], daemon: DaemonProcess) -> Session: ...


class Runner(Protocol):
    """A harness fixture's value: the CLI set up in a workspace."""

    @property
    def workspace(self) -> Workspace: ...


R = TypeVar("R", bound=Runner)


@dataclass
class HarnessDriver(Generic[R]):
    """A driver around one harness fixture's ``runner``."""

    runner: R

    @property
    def workspace(self) -> Workspace:
        return self.runner.workspace


class ClaudeDriver(HarnessDriver[Claude]):
    def session(self, steps: list[Step], daemon: DaemonProcess) -> Session:
        turns = [[tool_use(*_claude_call(step), f"toolu_{step.label}")] for step in steps]
        fetch = {"url": "https://example.com/", "prompt": "summarize"}
        turns.append([tool_use("WebFetch", fetch, "toolu_fetch")])
        run = self.runner.run(*turns, daemon=daemon)
        told = run.told_model()
        by_label = {step.label: told.get(f"toolu_{step.label}", "") for step in steps}
        return Session(run, run.session_id, by_label, self.runner.server.transcript())


def _claude_call(step: Step) -> tuple[str, dict[str, str]]:
    if step.kind == "read":
        return "Read", {"file_path": step.argument}
    return "Bash", {"command": step.argument, "description": "d"}


class CodexDriver(HarnessDriver[Codex]):
    def session(self, steps: list[Step], daemon: DaemonProcess) -> Session:
        commands = [
            f"cat {shlex.quote(step.argument)}" if step.kind == "read" else step.argument
            for step in steps
        ]
        turns = [
            fake_openai.shell(command, f"call_{step.label}")
            for step, command in zip(steps, commands, strict=True)
        ]
        turns.append(fake_openai.shell("curl -sS https://example.com -o got.html", "call_fetch"))
        run = self.runner.run(*turns, daemon=daemon)
        told = run.told_model()
        by_label = {step.label: told.get(f"call_{step.label}", "") for step in steps}
        return Session(run, run.session_id, by_label, self.runner.server.transcript())


class GeminiDriver(HarnessDriver[Gemini]):
    def session(self, steps: list[Step], daemon: DaemonProcess) -> Session:
        turns = [
            fake_gemini.call("read_file", file_path=step.argument)
            if step.kind == "read"
            else fake_gemini.call("run_shell_command", command=step.argument)
            for step in steps
        ]
        turns.append(fake_gemini.call("web_fetch", prompt="summarize https://example.com/"))
        run = self.runner.run(*turns, daemon=daemon)
        # Gemini makes up its own call ids; one call a turn, so the answers come in order.
        answers = [json.dumps(answer) for answer in run.server.function_responses()]
        by_label = {step.label: answer for step, answer in zip(steps, answers, strict=False)}
        return Session(run, run.session_id, by_label, run.server.transcript())


DRIVERS: dict[str, tuple[str, Callable[..., Driver]]] = {
    "claude-code": ("claude", ClaudeDriver),
    "codex": ("codex", CodexDriver),
    "gemini": ("gemini", GeminiDriver),
}


@pytest.fixture(params=sorted(DRIVERS))
def driver(request: pytest.FixtureRequest) -> Driver:
    """The harness (its hooks installed, its fake model server up) behind one driver."""
    fixture, make = DRIVERS[request.param]
    return make(request.getfixturevalue(fixture))


@pytest.fixture
def gateway(driver: Driver, spawn_daemon: Callable[..., DaemonProcess]) -> GatewayDaemon:
    """A daemon (the workspace's HOME) with its gateway and control UI on a loopback port.

    Started after the harness is set up, as a user installs the hooks first.
    """
    return start_gateway(spawn_daemon(start=False))


# --- the check -------------------------------------------------------------------------------


def plant(workspace: Workspace, name: str, text: str) -> Path:
    path = workspace.project / name
    path.write_text(text)
    return path


def run_and_check(
    driver: Driver, gateway: GatewayDaemon, steps: list[Step], canaries: Iterable[str]
) -> None:
    """Run the steps, one a turn, then a network call: the model was sent only redacted
    output, nothing leaks, and the network call is denied because the session printed a
    secret (content taint)."""
    plant(driver.workspace, "quote.py", QUOTE)
    session = driver.session(steps, gateway.process)
    daemon, session_id = gateway.process, session.session_id
    for step in steps:
        told = session.told.get(step.label, "")
        assert "[REDACTED:" in told, (step.label, session.run.describe())
    results = payloads(daemon, "tool.result", session_id)
    assert [result["status"] for result in results] == ["succeeded"] * len(steps), results
    decided = payloads(daemon, "decision", session_id)
    assert [d["verdict"] for d in decided] == ["allow"] * len(steps) + ["deny"], (
        session.run.describe()
    )
    assert decided[-1]["rule_id"] == FLOW_RULE, decided[-1]
    sources = [
        s for taint in payloads(daemon, "session.tainted", session_id) for s in taint["sources"]
    ]
    assert sources and all(source.startswith(CONTENT_TAINT) for source in sources), sources
    canaries = list(canaries)
    assert_nowhere(canaries, [("sent to the model", session.transcript.encode())])
    assert_nowhere(canaries, everything_served(gateway))


def test_shaped_canaries_leak_nowhere(driver: Driver, gateway: GatewayDaemon) -> None:
    canary = shaped_canaries()
    notes = plant(
        driver.workspace,
        "notes.txt",
        f"anthropic: {canary['anthropic']}\ngithub={canary['github']}\naws {canary['aws']}\n",
    )
    key = plant(
        driver.workspace,
        "deploy.txt",
        f"-----BEGIN RSA PRIVATE KEY-----\n{canary['pem']}\n-----END RSA PRIVATE KEY-----\n",
    )
    steps = [
        Step("read", "read", str(notes)),
        Step("read_key", "read", str(key)),
        *shell(
            ("cat", "cat notes.txt deploy.txt"),
            ("grep", "grep -h -e ghp_ -e sk-ant notes.txt"),
            ("quote", "python3 quote.py notes.txt"),
            ("quote_key", "python3 quote.py deploy.txt"),
        ),
    ]
    pem_lines = canary.pop("pem").splitlines()
    run_and_check(driver, gateway, steps, [*canary.values(), *pem_lines])


def test_a_vault_canary_leaks_nowhere_in_any_encoding(
    driver: Driver, gateway: GatewayDaemon
) -> None:
    value = random_text(32, ALNUM + "-_.")
    workspace = driver.workspace
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
    steps = shell(
        ("cat", "cat settings.txt"),
        ("b64", "base64 -w0 settings.txt"),
        ("b64_one", "base64 -w0 s1.txt"),
        ("b64_two", "base64 -w0 s2.txt"),
        ("b64url", "base64 -w0 settings.txt | tr '+/' '-_'"),
        ("b64_wrapped", "cat s2.txt s1.txt settings.txt | base64"),  # 76 columns
        ("quote", "python3 quote.py settings.txt"),
    )
    run_and_check(driver, gateway, steps, [value])
