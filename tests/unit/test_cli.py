"""The CLI without a daemon: argument errors, error rendering, exit codes, --json shapes.

Commands that need a daemon run against a home with no socket (the real client then
raises ``DaemonUnavailable``) or against ``FakeClient``, installed in place of
``CliState.client``, which records every request and answers from a table.
"""

from __future__ import annotations

import json
import os
import sqlite3
import stat
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner, Result

from stockade.cli.approvals import summary
from stockade.cli.audit import parse_time
from stockade.cli.context import CliState
from stockade.cli.main import app
from stockade.client import ApiError
from stockade.home import Home

Answer = Any
Call = tuple[str, str, Any, Any]


class FakeClient:
    """Answers ``(method, path)`` from a table; an exception in the table is raised."""

    def __init__(self, answers: dict[tuple[str, str], Answer]) -> None:
        self.answers = answers
        self.calls: list[Call] = []
        self.headers: list[Any] = []

    def request(
        self, method: str, path: str, body: Any = None, *, query: Any = None, headers: Any = None
    ) -> Any:
        self.calls.append((method, path, body, query))
        self.headers.append(headers)
        answer = self.answers[(method, path)]
        if isinstance(answer, BaseException):
            raise answer
        return answer(body, query) if callable(answer) else answer


@pytest.fixture
def home(tmp_path: Path) -> Home:
    root = tmp_path / "home"
    root.mkdir(mode=0o700)
    return Home(root)


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Callable[[dict[tuple[str, str], Answer]], FakeClient]:
    def install(answers: dict[tuple[str, str], Answer]) -> FakeClient:
        client = FakeClient(answers)
        monkeypatch.setattr(CliState, "client", lambda self, timeout=5.0: client)
        return client

    return install


def run(home: Home, *args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(app, ["--home", str(home.root), *args], input=stdin)


def assert_no_traceback(result: Result) -> None:
    assert "Traceback" not in result.output


# --- global behaviour -------------------------------------------------------------


def test_version_json(home: Home) -> None:
    result = run(home, "version", "--json")
    assert result.exit_code == 0
    assert set(json.loads(result.stdout)) == {"version", "api", "python"}


def test_unknown_option_is_a_usage_error(home: Home) -> None:
    result = run(home, "status", "--bogus")
    assert result.exit_code == 2
    assert "--bogus" in result.stderr


def test_unexpected_error_is_one_line_without_verbose(home: Home, fake: Any) -> None:
    fake({("GET", "/health"): RuntimeError("boom")})
    result = run(home, "status")
    assert result.exit_code == 1
    assert "unexpected RuntimeError: boom" in result.stderr
    assert "re-run with --verbose" in result.stderr
    assert_no_traceback(result)
    verbose = CliRunner().invoke(app, ["--home", str(home.root), "--verbose", "status"])
    assert "Traceback" in verbose.stderr


def test_api_error_shows_message_details_and_hint(home: Home, fake: Any) -> None:
    error = ApiError(422, "invalid_request", "bad body", "fix it", [{"loc": ["cwd"]}])
    fake({("GET", "/audit/events/7"): error})
    result = run(home, "audit", "show", "7")
    assert result.exit_code == 1
    assert "error: bad body" in result.stderr
    assert '{"loc": ["cwd"]}' in result.stderr
    assert "hint: fix it" in result.stderr
    assert result.stdout == ""


# --- serve / status / stop / reload ----------------------------------------------


def test_status_without_daemon_exits_4_with_hint(home: Home) -> None:
    result = run(home, "status")
    assert result.exit_code == 4
    assert "not running" in result.stderr
    assert "hint: start it with `stockade serve`" in result.stderr
    assert_no_traceback(result)


def test_status_json_without_daemon(home: Home) -> None:
    result = run(home, "status", "--json")
    assert result.exit_code == 4
    assert json.loads(result.stdout) == {"running": False, "socket": str(home.socket_path)}


def test_status_json_with_daemon(home: Home, fake: Any) -> None:
    fake(
        {
            ("GET", "/health"): {"status": "ok", "pid": 42, "uptime_s": 3.5},
            ("GET", "/version"): {"version": "0.1.0", "api": "v1"},
        }
    )
    result = run(home, "status", "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {
        "running": True,
        "pid": 42,
        "uptime_s": 3.5,
        "version": "0.1.0",
        "api": "v1",
        "socket": str(home.socket_path),
    }


def test_stop_when_not_running_is_not_an_error(home: Home) -> None:
    result = run(home, "stop")
    assert result.exit_code == 0
    assert "not running" in result.stdout


def test_reload_invalid_config_keeps_policy(home: Home, fake: Any) -> None:
    error = ApiError(422, "invalid_config", "stockade.toml: key `level`: bad", "see schema")
    fake({("POST", "/reload"): error})
    result = run(home, "reload", "--json")
    assert result.exit_code == 2
    assert "kept its running policy" in result.stderr
    assert result.stdout == ""


def test_reload_json(home: Home, fake: Any) -> None:
    fake({("POST", "/reload"): {"reloaded": True, "config_hash": "ab"}})
    result = run(home, "reload", "--json")
    assert json.loads(result.stdout) == {"reloaded": True, "config_hash": "ab"}


# --- check ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "message"),
    [("{not json", "not valid JSON"), ("[1, 2]", "must be a JSON object"), ('"ls"', "got str")],
)
def test_check_rejects_bad_input(home: Home, raw: str, message: str) -> None:
    result = run(home, "check", "--tool", "Bash", "--input", raw)
    assert result.exit_code == 2
    assert message in result.stderr
    assert_no_traceback(result)


def test_check_unknown_harness(home: Home) -> None:
    result = run(home, "check", "--harness", "vim", "--tool", "Bash", "--input", "{}")
    assert result.exit_code == 2


def test_check_posts_the_call_and_reads_stdin(home: Home, fake: Any, tmp_path: Path) -> None:
    decision = {
        "verdict": "deny",
        "reason": "r",
        "rule_id": "zone:never",
        "zone": "never",
        "action": "shell.exec",
    }
    client = fake({("POST", "/check"): decision})
    args = ["check", "--harness", "claude-code", "--tool", "Bash", "--input", "-"]
    args += ["--cwd", str(tmp_path), "--session", "s1", "--json"]
    result = run(home, *args, stdin='{"command": "rm -rf /"}')
    assert result.exit_code == 0  # a deny is a successful evaluation
    assert json.loads(result.stdout) == {**decision, "source": "daemon"}
    assert client.calls[0][2] == {
        "harness": "claude-code",
        "session_id": "s1",
        "tool_name": "Bash",
        "tool_input": {"command": "rm -rf /"},
        "cwd": str(tmp_path),
        "project_root": None,
        "agent": None,
    }


def test_check_falls_back_to_local_evaluation(home: Home, tmp_path: Path) -> None:
    args = ["check", "--tool", "Bash", "--input", '{"command":"ls"}', "--cwd", str(tmp_path)]
    result = run(home, *args, "--json")
    assert result.exit_code == 0, result.output
    assert "(daemon not running: evaluated locally)" in result.stderr
    decision = json.loads(result.stdout)
    assert decision["source"] == "local"
    assert decision["verdict"] in {"allow", "ask", "deny"}
    assert {"reason", "rule_id", "zone", "action"} <= set(decision)


def test_policy_show_falls_back_locally(home: Home) -> None:
    result = run(home, "policy", "show", "--json")
    assert result.exit_code == 0, result.output
    assert isinstance(json.loads(result.stdout), dict)
    assert "evaluated locally" in result.stderr


def test_policy_show_renders_a_tree(home: Home, fake: Any) -> None:
    fake({("GET", "/policy"): {"level": "standard", "tools": {"deny": ["Bash"]}}})
    result = run(home, "policy", "show")
    assert result.exit_code == 0
    assert "level: standard" in result.stdout
    assert "Bash" in result.stdout


# --- doctor ----------------------------------------------------------------------------


HARNESS_ENV = (
    "CODEX_HOME",
    "CLAUDE_CONFIG_DIR",
    "GEMINI_CLI_HOME",
    "GEMINI_CLI_TRUSTED_FOLDERS_PATH",
    "GEMINI_CLI_TRUST_WORKSPACE",
    "GEMINI_RESTRICTED_MODE",
)


@pytest.fixture(autouse=True)
def _no_harness_setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Doctor reads the harnesses' settings under HOME: give it an empty one, not the machine's."""
    monkeypatch.setenv("HOME", str(tmp_path / "user"))
    monkeypatch.chdir(tmp_path)
    for name in HARNESS_ENV:
        monkeypatch.delenv(name, raising=False)


def doctor_json(home: Home, *args: str) -> tuple[int, dict[str, Any]]:
    result = run(home, "doctor", "--json", *args)
    return result.exit_code, json.loads(result.stdout)


def test_doctor_fresh_home_passes(home: Home) -> None:
    code, report = doctor_json(home)
    statuses = {check["id"]: check["status"] for check in report["checks"]}
    assert code == 0 and report["ok"]
    assert statuses == {
        "home.exists": "ok",
        "home.perms": "ok",
        "config.valid": "ok",
        "redaction.on": "ok",
        "daemon.running": "warn",
        "identity.key": "warn",
        "audit.verify": "warn",
        "vault.key": "ok",
        "hooks.claude-code.user": "ok",
        "hooks.codex.user": "ok",
        "hooks.gemini.user": "ok",
    }


def test_doctor_warns_when_redaction_is_off(home: Home) -> None:
    home.config_path.write_text('[logging]\nredact = "off"\n')
    os.chmod(home.config_path, 0o600)
    code, report = doctor_json(home)
    check = next(check for check in report["checks"] if check["id"] == "redaction.on")
    assert code == 0 and check["status"] == "warn"
    assert "unredacted" in check["message"] and 'redact = "off"' in check["fix"]


def test_doctor_fails_on_open_home_and_fix_repairs_it(home: Home) -> None:
    os.chmod(home.root, 0o755)  # noqa: S103  (the unsafe state under test)
    code, report = doctor_json(home)
    perms = next(check for check in report["checks"] if check["id"] == "home.perms")
    assert code == 1 and not report["ok"]
    assert perms["status"] == "fail" and "0755" in perms["message"]
    assert "doctor --fix" in perms["fix"]

    code, report = doctor_json(home, "--fix")
    assert code == 0
    assert report["fixed"] == [f"chmod 0700 {home.root}"]
    assert stat.S_IMODE(os.stat(home.root).st_mode) == 0o700


def test_doctor_reports_invalid_config(home: Home) -> None:
    home.config_path.write_text("no_such_key = 1\n")
    os.chmod(home.config_path, 0o600)
    result = run(home, "doctor")
    assert result.exit_code == 1
    assert "config.valid" in result.stdout and "unknown key" in result.stdout


def test_doctor_fix_creates_a_missing_home(tmp_path: Path) -> None:
    home = Home(tmp_path / "new")
    code, report = doctor_json(home, "--fix")
    assert code == 0
    assert stat.S_IMODE(os.stat(home.root).st_mode) == 0o700
    assert report["fixed"] == [f"mkdir -m 0700 {home.root}"]


# --- config and trust -----------------------------------------------------------------


def test_config_path_and_schema(home: Home) -> None:
    assert run(home, "config", "path").stdout.strip() == str(home.config_path)
    paths = json.loads(run(home, "config", "path", "--json").stdout)
    assert paths["socket"] == str(home.socket_path)
    schema = json.loads(run(home, "config", "schema").stdout)
    assert schema["title"] == "stockade.toml"


def test_config_validate(home: Home, tmp_path: Path) -> None:
    assert json.loads(run(home, "config", "validate", "--json").stdout)["valid"] is True
    bad = tmp_path / "bad.toml"
    bad.write_text("level = [\n")
    result = run(home, "config", "validate", str(bad))
    assert result.exit_code == 2
    assert "invalid TOML" in result.stderr
    result = run(home, "config", "validate", str(bad), "--json")
    assert result.exit_code == 2 and json.loads(result.stdout)["valid"] is False
    # valid against the schema, but its policy does not compile
    uncompilable = tmp_path / "uncompilable.toml"
    uncompilable.write_text('[credentials]\npatterns = ["*"]\n')
    result = run(home, "config", "validate", str(uncompilable))
    assert result.exit_code == 2 and "does not compile" in result.stderr


def test_trust_list_and_revoke(home: Home, tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / ".stockade.toml").write_text("")
    trusted = json.loads(run(home, "trust", str(project), "--json").stdout)
    assert trusted["path"] == str(project.resolve()) and len(trusted["sha256"]) == 64
    listed = json.loads(run(home, "trust", "--list", "--json").stdout)
    assert listed == [{"path": str(project.resolve()), "sha256": trusted["sha256"]}]
    assert run(home, "trust", "--revoke", str(project)).exit_code == 0
    again = run(home, "trust", "--revoke", str(project))
    assert again.exit_code == 1 and "nothing to revoke" in again.stderr


def test_trust_needs_exactly_one_mode(home: Home, tmp_path: Path) -> None:
    assert run(home, "trust").exit_code == 2
    assert run(home, "trust", str(tmp_path), "--list").exit_code == 2


def test_trust_without_project_file(home: Home, tmp_path: Path) -> None:
    result = run(home, "trust", str(tmp_path))
    assert result.exit_code == 2
    assert ".stockade.toml" in result.stderr


# --- audit ---------------------------------------------------------------------------


def event(seq: int, **payload: Any) -> dict[str, Any]:
    return {
        "seq": seq,
        "ts": "2025-05-01T12:00:00Z",
        "kind": "decision",
        "actor": "daemon",
        "session": "s1",
        "payload": payload,
        "prev_hash": "0" * 64,
        "hash": f"{seq:064x}",
    }


def paged(events: list[dict[str, Any]]) -> Any:
    """Answer ``GET /audit/events`` like the daemon: after/limit/order."""

    def answer(body: Any, query: dict[str, Any]) -> dict[str, Any]:
        chosen = [e for e in events if e["seq"] > int(query.get("after", 0))]
        if query.get("order") == "desc":
            chosen.reverse()
        chosen = chosen[: int(query.get("limit", 100))]
        last = chosen[-1]["seq"] if chosen else int(query.get("after", 0))
        return {"events": chosen, "next_after": last}

    return answer


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-05-01", "2025-05-01T00:00:00Z"),
        ("2025-05-01T12:00:00Z", "2025-05-01T12:00:00Z"),
        ("2025-05-01T14:00:00+02:00", "2025-05-01T12:00:00Z"),
    ],
)
def test_parse_time(text: str, expected: str) -> None:
    assert parse_time(text, "--before") == expected


@pytest.mark.parametrize("text", ["yesterday", "2025-05-01T12:00:00", "2025-13-01"])
def test_parse_time_rejects(text: str) -> None:
    with pytest.raises(typer.BadParameter):
        parse_time(text, "--before")


def test_purge_without_yes_refuses_and_never_calls_the_daemon(home: Home) -> None:
    # No socket in this home: had the command called the API it would exit 4.
    result = run(home, "audit", "purge", "--before", "2025-05-01")
    assert result.exit_code == 2
    assert "destructive: add --yes" in result.stderr
    assert "not running" not in result.stderr
    with_yes = run(home, "audit", "purge", "--before", "2025-05-01", "--yes")
    assert with_yes.exit_code == 4  # ... which it does once confirmed


def test_purge_sends_confirm(home: Home, fake: Any) -> None:
    client = fake({("POST", "/audit/purge"): {"purged": 3, "base_seq": 3}})
    result = run(home, "audit", "purge", "--before", "2025-05-01", "--yes", "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {"purged": 3, "base_seq": 3}
    assert client.calls == [
        ("POST", "/audit/purge", {"before": "2025-05-01T00:00:00Z", "confirm": True}, None)
    ]


def test_purge_rejects_a_bad_date_before_anything_else(home: Home) -> None:
    result = run(home, "audit", "purge", "--before", "soon", "--yes")
    assert result.exit_code == 2
    assert "RFC 3339" in result.stderr


def test_tail_prints_the_last_events_oldest_first_as_jsonl(home: Home, fake: Any) -> None:
    client = fake({("GET", "/audit/events"): paged([event(n) for n in range(1, 31)])})
    result = run(home, "audit", "tail", "-n", "3", "--kind", "decision", "--json")
    assert result.exit_code == 0
    assert [json.loads(line)["seq"] for line in result.stdout.splitlines()] == [28, 29, 30]
    assert client.calls[0][3] == {"kind": "decision", "order": "desc", "limit": 3}


def test_tail_human_lines_show_payload(home: Home, fake: Any) -> None:
    fake({("GET", "/audit/events"): paged([event(1, verdict="deny", tool="Bash")])})
    result = run(home, "audit", "tail")
    assert (
        "#1" in result.stdout and "verdict=deny" in result.stdout and "tool=Bash" in result.stdout
    )


def test_show_json(home: Home, fake: Any) -> None:
    fake({("GET", "/audit/events/5"): event(5, verdict="allow")})
    result = run(home, "audit", "show", "5", "--json")
    assert json.loads(result.stdout)["seq"] == 5
    human = run(home, "audit", "show", "5")
    assert "verdict: allow" in human.stdout


def test_export_pages_to_a_private_file(home: Home, fake: Any, tmp_path: Path) -> None:
    events = [event(n) for n in range(1, 2502)]
    client = fake(
        {
            ("GET", "/audit/events"): paged(events),
            ("GET", "/audit/head"): {"seq": 2501, "hash": "h"},
        }
    )
    target = tmp_path / "out.jsonl"
    args = ["audit", "export", "--jsonl", "--output", str(target), "--since", "2025-01-01"]
    result = run(home, *args)
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert "exported 2501 events" in result.stderr
    lines = target.read_text().splitlines()
    assert [json.loads(line)["seq"] for line in lines] == list(range(1, 2502))
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
    pages = [call[3] for call in client.calls if call[1] == "/audit/events"]
    assert [page["after"] for page in pages] == [0, 1000, 2000, 2501]
    assert all(page["since"] == "2025-01-01T00:00:00Z" for page in pages)


def test_export_to_stdout(home: Home, fake: Any) -> None:
    fake({("GET", "/audit/events"): paged([event(1), event(2)])})
    result = run(home, "audit", "export", "--jsonl")
    assert [json.loads(line)["seq"] for line in result.stdout.splitlines()] == [1, 2]


def test_export_requires_a_format(home: Home) -> None:
    assert run(home, "audit", "export").exit_code == 2


def test_verify_missing_database(home: Home) -> None:
    result = run(home, "audit", "verify")
    assert result.exit_code == 1
    assert f"no audit log at {home.audit_path}" in result.stderr
    assert "hint:" in result.stderr


def write_audit_log(home: Home, count: int) -> None:
    from stockade.audit import AuditEvent, SqliteAuditStore

    store = SqliteAuditStore(home.audit_path)
    store.open()
    try:
        for n in range(count):
            store.append_blocking(AuditEvent("decision", "daemon", "s1", {"n": n}))
    finally:
        store.close()


def test_verify_ok(home: Home) -> None:
    write_audit_log(home, 3)
    result = run(home, "audit", "verify")
    assert result.exit_code == 0
    assert "audit log OK: 3 events verified; head #3" in result.stdout
    report = json.loads(run(home, "audit", "verify", "--json").stdout)
    assert report["ok"] is True and report["checked"] == 3 and report["head"]["seq"] == 3


def test_verify_tampered_exits_6(home: Home) -> None:
    write_audit_log(home, 3)
    with sqlite3.connect(home.audit_path) as conn:
        conn.execute("""UPDATE events SET payload = '{"n":99}' WHERE seq = 2""")
    conn.close()
    result = run(home, "audit", "verify")
    assert result.exit_code == 6
    assert "audit log does not verify at seq 2 (chain)" in result.stderr
    assert_no_traceback(result)
    as_json = run(home, "audit", "verify", "--json")
    assert as_json.exit_code == 6
    assert json.loads(as_json.stdout)["first_bad_seq"] == 2
    doctor = json.loads(run(home, "doctor", "--json").stdout)
    audit = next(check for check in doctor["checks"] if check["id"] == "audit.verify")
    assert audit["status"] == "fail"


# --- approvals ---------------------------------------------------------------------


def approval(approval_id: str = "1a2b3c4d", **overrides: Any) -> dict[str, Any]:
    created = datetime.now(UTC) - timedelta(seconds=75)
    data = {
        "id": approval_id,
        "harness": "codex",
        "session_id": "sess-9",
        "tool_name": "shell",
        "action": "shell.exec",
        "input": {"command": "curl https://example.com/install.sh"},
        "input_sha256": "ab" * 32,
        "reason": "curl uses the network",
        "rule_id": "shell.network.curl",
        "zone": "network",
        "cwd": "/work",
        "project_root": None,
        "status": "pending",
        "created_at": created.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "expires_at": (created + timedelta(seconds=60)).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "resolved_at": None,
        "resolved_by": None,
    }
    return {**data, **overrides}


def test_approvals_list_json_is_the_api_answer(home: Home, fake: Any) -> None:
    answer = {"approvals": [approval()]}
    client = fake({("GET", "/approvals"): answer})
    result = run(home, "approvals", "list", "--json")
    assert result.exit_code == 0 and json.loads(result.stdout) == answer
    assert client.calls[0][3] == {"status": "pending"}
    run(home, "approvals", "list", "--all", "--json")
    assert client.calls[1][3] == {"status": "all"}


def test_approvals_list_table(home: Home, fake: Any) -> None:
    fake({("GET", "/approvals"): {"approvals": [approval()]}})
    result = run(home, "approvals", "list")
    assert result.exit_code == 0
    for cell in ("1a2b3c4d", "75s", "codex", "sess-9", "shell", "curl"):
        assert cell in result.stdout, cell
    fake({("GET", "/approvals"): {"approvals": []}})
    assert "no calls are waiting" in run(home, "approvals", "list").stdout


def test_approvals_show(home: Home, fake: Any) -> None:
    fake({("GET", "/approvals/1a2b3c4d"): approval()})
    human = run(home, "approvals", "show", "1a2b3c4d")
    assert human.exit_code == 0
    assert "shell.network.curl" in human.stdout and "install.sh" in human.stdout
    shown = run(home, "approvals", "show", "1a2b3c4d", "--json")
    assert json.loads(shown.stdout)["id"] == "1a2b3c4d"


def test_approve_and_deny_say_who_answered_and_pass_the_note(home: Home, fake: Any) -> None:
    client = fake(
        {
            ("POST", "/approvals/1a2b3c4d/approve"): approval(status="approved"),
            ("POST", "/approvals/1a2b3c4d/deny"): approval(status="denied"),
        }
    )
    approved = run(home, "approvals", "approve", "1a2b3c4d")
    assert approved.exit_code == 0
    assert "approved 1a2b3c4d: shell curl https://example.com" in approved.stdout
    denied = run(home, "approvals", "deny", "1a2b3c4d", "--note", "use the mirror", "--json")
    assert json.loads(denied.stdout)["status"] == "denied"
    assert [call[2] for call in client.calls] == [{}, {"note": "use the mirror"}]
    assert client.headers == [{"Stockade-Client": "cli"}] * 2


def test_an_id_is_sent_as_one_path_segment(home: Home, fake: Any) -> None:
    client = fake({("POST", "/approvals/..%2Faudit%2Fpurge/approve"): approval()})
    assert run(home, "approvals", "approve", "../audit/purge").exit_code == 0
    assert client.calls[0][1] == "/approvals/..%2Faudit%2Fpurge/approve"


@pytest.mark.parametrize(
    ("error", "message"),
    [
        (
            ApiError(409, "not_pending", "approval 1a2b3c4d is not pending: it is expired"),
            "expired",
        ),
        (ApiError(404, "not_found", "no approval with id '1a2b3c4d'"), "no approval with id"),
    ],
)
def test_approve_errors_are_one_clear_line(
    home: Home, fake: Any, error: ApiError, message: str
) -> None:
    fake({("POST", "/approvals/1a2b3c4d/approve"): error})
    result = run(home, "approvals", "approve", "1a2b3c4d")
    assert result.exit_code == 1 and message in result.stderr and result.stdout == ""
    assert_no_traceback(result)


def test_approvals_without_daemon_exit_4(home: Home) -> None:
    result = run(home, "approvals", "list", "--json")
    assert result.exit_code == 4 and result.stdout == ""
    assert "hint: start it with `stockade serve`" in result.stderr


@pytest.mark.parametrize(
    ("tool_input", "shown"),
    [
        ({"command": "ls  -la\n| wc"}, "ls -la | wc"),
        ({"file_path": "/a/b", "content": "x"}, "/a/b"),
        ({"other": [1, 2]}, '{"other": [1, 2]}'),
        ({"command": "x" * 100}, "x" * 59 + "…"),
        ("plain", "plain"),
    ],
)
def test_summary(tool_input: Any, shown: str) -> None:
    assert summary(tool_input) == shown
