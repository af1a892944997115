"""The control UI in a real browser (headless Chromium) against a real daemon and gateway.

A person logs in with the gateway token, watches a real Claude Code run's held calls
arrive in the inbox without reloading, answers them with the keyboard and the buttons,
and searches the audit log; the agent's side effects on disk and the audit log say the
answers took effect, and that the UI gave them (``by: ui``). Every page is also checked
for requests beyond the daemon and console errors (see ``conftest.py``).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, cast

import pytest
from tests.browser.conftest import OpenUi, StartGateway
from tests.browser.support import PHONE, Gateway, HeldCall, UiPage
from tests.daemon_support import DaemonProcess, tool_call
from tests.e2e.fake_anthropic import tool_use
from tests.e2e.support import FAKE_DOTENV, audit_events, decisions, payloads
from tests.e2e.test_claude_code import Claude

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

VIEWS = ["approvals", "feed", "audit", "sessions", "policy", "rules"]
_COUNTDOWN = re.compile(r"^expires in \d+:\d\d$")


def test_login_takes_the_token_once_and_keeps_it_out_of_the_page(
    gateway: Gateway, open_ui: OpenUi
) -> None:
    ui = open_ui(gateway)
    response = ui.goto_home()
    headers = response.headers
    csp = headers["content-security-policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp, csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, csp
    assert "frame-ancestors 'none'" in csp, csp
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["x-frame-options"] == "DENY"
    page = ui.page
    assert page.locator("#nav").is_hidden()

    page.locator("#token").fill("not-the-token")
    page.get_by_role("button", name="Log in").click()
    error = page.locator("#login-error")
    error.wait_for(state="visible")
    page.wait_for_function("() => document.getElementById('login-error').textContent !== ''")
    assert "not right" in error.inner_text()
    assert page.locator("#nav").is_hidden()

    ui.login(gateway.token)
    assert page.locator("#token").input_value() == ""
    assert gateway.token not in page.url
    stored = page.evaluate(
        "JSON.stringify([document.cookie, {...localStorage}, {...sessionStorage}])"
    )
    assert gateway.token not in stored and "stockade_session" not in stored, stored
    assert gateway.token not in page.content()
    [cookie] = page.context.cookies()
    assert (cookie["name"], cookie["httpOnly"], cookie["sameSite"]) == (
        "stockade_session",
        True,
        "Strict",
    )
    assert gateway.token not in cookie["value"]

    page.reload()  # the session cookie, not the page, remembers the login
    page.locator("#nav").wait_for(state="visible")
    page.get_by_role("button", name="Log out").click()
    page.locator("#login-form").wait_for(state="visible")
    assert page.context.cookies() == [] or page.context.cookies()[0]["value"] == ""
    page.reload()
    page.locator("#login-form").wait_for(state="visible")
    assert page.locator("#nav").is_hidden()
    assert gateway.token not in gateway.daemon.log()


@dataclass
class ClaudeUi:
    """Claude Code, the daemon it asks (gateway on) and the UI logged in to it."""

    claude: Claude
    gateway: Gateway
    ui: UiPage

    @property
    def project(self) -> Path:
        return self.claude.workspace.project


@pytest.fixture
def claude_ui(claude: Claude, start_gateway: StartGateway, open_ui: OpenUi) -> ClaudeUi:
    """As :class:`ClaudeUi`; the project holds a ``.env``, so copying it is held (an ask)."""
    gateway = start_gateway(env={"HOME": str(claude.workspace.home_dir)})
    ui = open_ui(gateway)
    ui.goto_home()
    ui.login(gateway.token)
    (claude.workspace.project / ".env").write_text(FAKE_DOTENV)
    return ClaudeUi(claude, gateway, ui)


def test_held_claude_code_calls_arrive_live_and_the_ui_answers_them(claude_ui: ClaudeUi) -> None:
    claude, gateway, ui, project = (
        claude_ui.claude,
        claude_ui.gateway,
        claude_ui.ui,
        claude_ui.project,
    )
    ui.mark_document()
    approved, denied = project / "approved.txt", project / "denied.txt"

    process = claude.start(
        [tool_use("Bash", {"command": "cp .env approved.txt"}, "toolu_yes")],
        [tool_use("Bash", {"command": "cp .env denied.txt"}, "toolu_no")],
    )
    try:
        ui.held("cp .env approved.txt")
        shown_at = time.time()
        shown = ui.detail()
        assert not approved.exists(), "the held call ran before the answer"
        ui.page.keyboard.press("a")
        ui.held("cp .env denied.txt")
        ui.page.locator("#approval-detail").get_by_role("button", name="Deny").click()
    finally:
        run = claude.finish(process, gateway.daemon)

    assert approved.read_text() == FAKE_DOTENV, run.describe()
    assert not denied.exists(), run.describe()
    assert run.denied_ids() == ["toolu_no"], run.describe()
    assert (shown["tool"], shown["Harness"], shown["Session"]) == (
        "Bash",
        "claude-code",
        run.session_id,
    )
    assert shown["Working directory"] == str(project)
    assert json.loads(shown["input"])["command"] == "cp .env approved.txt"
    assert ".env" in shown["reason"] and shown["Zone"] and shown["Rule"], shown
    assert shown["severity"] in {"info", "warn", "critical"}, shown
    assert _COUNTDOWN.match(shown["expiry"]), shown
    [requested] = audit_events(gateway.daemon, "permission.request", run.session_id)[:1]
    held_at = datetime.fromisoformat(str(requested["ts"])).timestamp()
    print(f"held -> shown in the UI: {shown_at - held_at:.3f} s (polled)")
    resolved = payloads(gateway.daemon, "permission.resolved", run.session_id)
    assert [(r["resolution"], r["by"]) for r in resolved] == [
        ("approved", "ui"),
        ("denied", "ui"),
    ], run.describe()

    assert ui.same_document(), "the page was reloaded"
    assert ui.page.locator("#approval-list li").count() == 0
    ui.open_view("feed")
    feed = ui.page.locator("#feed-list li")
    feed.filter(has_text="cp .env denied.txt").wait_for()
    assert "allow" in feed.filter(has_text="cp .env approved.txt").inner_text()
    assert "deny" in feed.filter(has_text="cp .env denied.txt").inner_text()

    everything = ui.search_audit(session=run.session_id)
    assert everything and all(run.session_id in line for line in everything), everything
    assert any("permission.resolved" in line and "by ui" in line for line in everything)
    [only_denied] = ui.search_audit(session=run.session_id, verdict="deny")
    assert "decision" in only_denied and "deny" in only_denied, only_denied
    [only_allowed] = ui.search_audit(session=run.session_id, verdict="allow", kind="decision")
    assert "decision" in only_allowed and "allow" in only_allowed, only_allowed
    assert len(decisions(gateway.daemon, run.session_id)) == 2
    ui.open_view("sessions")
    ui.page.locator("#sessions-list li", has_text=run.session_id).wait_for()


def test_always_approving_a_held_call_records_a_rule_shown_in_the_ui(
    claude_ui: ClaudeUi,
) -> None:
    claude, gateway, ui, project = (
        claude_ui.claude,
        claude_ui.gateway,
        claude_ui.ui,
        claude_ui.project,
    )
    # A download asks (network zone); this one stays on this machine (the fake model server).
    fetch = {"command": f"curl -s -o fetched.txt {claude.server.base_url}/"}

    process = claude.start(
        [tool_use("Bash", fetch, "toolu_always")], [tool_use("Bash", fetch, "toolu_again")]
    )
    try:
        ui.held(fetch["command"])
        ui.page.keyboard.press("Shift+A")  # the scope step: Enter records the exact default
        ui.page.locator("#scope-command").wait_for()
        ui.page.keyboard.press("Enter")
    finally:
        run = claude.finish(process, gateway.daemon)

    assert (project / "fetched.txt").exists(), run.describe()
    [resolved] = payloads(gateway.daemon, "permission.resolved", run.session_id)
    assert (resolved["resolution"], resolved["by"]) == ("always", "ui"), resolved
    learned = resolved["learned_rule"]["id"]
    first, again = decisions(gateway.daemon, run.session_id)
    assert first["verdict"] == again["verdict"] == "allow", run.describe()
    assert learned in again["rule_id"] and "approval_id" not in again, again  # not held again
    ui.open_view("rules")
    rule = ui.page.locator(f'#rules-list li[data-id="{learned}"]')
    rule.wait_for()
    assert "Bash" in rule.inner_text() and str(project) in rule.inner_text()


def _learned_rules(daemon: DaemonProcess) -> list[dict[str, Any]]:
    with daemon.client() as client:
        return cast(list[dict[str, Any]], client.request("GET", "/rules")["rules"])


def _decide(daemon: DaemonProcess, session: str, command: str, cwd: Path) -> dict[str, Any]:
    """A call decided at once (not held), as a harness would send it."""
    body = tool_call(
        session,
        tool_name="Bash",
        tool_input={"command": command},
        cwd=str(cwd),
        project_root=str(cwd),
    )
    with daemon.client() as client:
        return cast(dict[str, Any], client.request("POST", "/decide", body))


def _forget_refusals(ui: UiPage, status: int, path: re.Pattern[str]) -> None:
    """Drop the console errors Chromium logs for the refusals a test provokes on purpose."""
    expected = re.compile(rf"status of {status} .*{path.pattern}")
    ui.console_errors[:] = [error for error in ui.console_errors if not expected.search(error)]


def test_always_takes_a_scope_from_the_ui_and_rules_are_revoked_there(
    ui: UiPage, gateway: Gateway, tmp_path: Path
) -> None:
    """ "Always" shows the daemon's own preview of the rule and asks again as the scope is
    widened, takes a widened prefix (a non-covering one is refused and the call stays
    pending), and the Rules view revokes what it learned."""
    daemon, page = gateway.daemon, ui.page
    wide = "curl -s -o fetched.txt http://127.0.0.1:9/one"
    held = HeldCall(daemon, "s-scope", wide, str(tmp_path))
    ui.held(wide)

    page.keyboard.press("Shift+A")
    form, prefix = page.locator("#scope-form"), page.locator("#scope-command")
    prefix.wait_for()
    rules = page.locator("#scope-preview li.preview-rule")
    rules.first.wait_for()  # the daemon's preview, asked when the form opened
    [exact_rule] = rules.all_inner_texts()
    # The whole line exactly, and the file it writes, which a look at the line can miss.
    assert exact_rule == f"exactly the command {wide}, the path {tmp_path}/fetched.txt", exact_rule
    assert prefix.input_value() == wide
    assert page.evaluate("document.activeElement.id") == "scope-command"
    page.keyboard.press("a")  # typed into the field, not an answer
    page.keyboard.press("Escape")
    form.wait_for(state="detached")
    page.keyboard.press("Shift+A")
    prefix.fill("wget")  # the preview is asked again: no rule fits
    page.locator("#scope-preview", has_text="No rule fits").wait_for()
    assert "does not cover" in page.locator("#scope-preview").inner_text()
    prefix.fill("curl -s")
    page.locator("#scope-preview", has_text="commands starting with curl -s").wait_for()
    prefix.fill("wget")
    page.locator("#scope-preview", has_text="No rule fits").wait_for()
    page.keyboard.press("Enter")
    refusal = page.locator("#scope-error")
    page.wait_for_function("() => document.getElementById('scope-error')?.textContent !== ''")
    assert "does not cover" in refusal.inner_text() and "still waiting" in refusal.inner_text()
    with daemon.client() as client:
        [pending] = client.request("GET", "/approvals")["approvals"]
    assert pending["input"] == {"command": wide} and held.decision is None
    assert _learned_rules(daemon) == []
    assert prefix.input_value() == "wget"  # kept, to be fixed
    prefix.fill("curl -s")
    page.keyboard.press("Enter")
    assert held.result()["verdict"] == "allow"
    [learned] = _learned_rules(daemon)
    [spelled] = learned["rules"]
    assert (spelled["command"], spelled.get("exact_command")) == ("curl -s", False), spelled
    following = _decide(
        daemon, "s-scope", "curl -s -o fetched.txt http://127.0.0.1:9/two", tmp_path
    )
    assert following["verdict"] == "allow" and learned["id"] in following["rule_id"], following

    # A second rule, with the exact default (Enter on the unchanged field sends no scope).
    exact = "curl -s -o other.txt http://127.0.0.1:9/three"
    second = HeldCall(daemon, "s-scope", exact, str(tmp_path))
    ui.held(exact)
    page.keyboard.press("Shift+A")
    prefix.wait_for()
    page.keyboard.press("Enter")
    assert second.result()["verdict"] == "allow"
    [other] = [rule for rule in _learned_rules(daemon) if rule["id"] != learned["id"]]
    assert other["rules"][0]["command"] == exact and other["rules"][0]["exact_command"]

    ui.open_view("rules")
    card = page.locator(f'#rules-list li[data-id="{learned["id"]}"]')
    card.get_by_role("button", name="Revoke", exact=True).click()
    card.get_by_role("button", name="Keep it").click()  # the confirmation, declined
    card.get_by_role("button", name="Revoke", exact=True).click()
    page.keyboard.press("Escape")  # declined again
    card.get_by_role("button", name="Revoke rule").wait_for(state="detached")
    card.get_by_role("button", name="Revoke", exact=True).click()
    card.get_by_role("button", name="Revoke rule").click()
    card.wait_for(state="detached")
    assert [rule["id"] for rule in _learned_rules(daemon)] == [other["id"]]
    [revoked] = audit_events(daemon, "rule.revoked")
    assert revoked["payload"] == {"rule": learned, "by": "ui"}, revoked

    # Revoked elsewhere while the confirmation is open: the UI says so and drops the card.
    card = page.locator(f'#rules-list li[data-id="{other["id"]}"]')
    card.get_by_role("button", name="Revoke", exact=True).click()
    with daemon.client() as client:
        client.request("POST", f"/rules/{other['id']}/revoke", {})
    card.get_by_role("button", name="Revoke rule").click()
    page.locator("#toast", has_text="already revoked").wait_for()
    card.wait_for(state="detached")
    page.locator("#rules-empty").wait_for(state="visible")
    _forget_refusals(ui, 422, re.compile(r"/api/v1/approvals/[^/]+/always"))
    _forget_refusals(ui, 404, re.compile(r"/api/v1/rules/[^/]+/revoke"))


def test_the_keyboard_answers_held_calls_and_their_input_is_shown_as_text(
    ui: UiPage, gateway: Gateway, tmp_path: Path
) -> None:
    hostile = 'cp .env "<img src=x onerror=alert(1)>.txt"'
    first = HeldCall(gateway.daemon, "s-keys-1", "cp .env first.txt", str(tmp_path))
    ui.held("cp .env first.txt")
    second = HeldCall(gateway.daemon, "s-keys-2", hostile, str(tmp_path))
    ui.held(hostile)
    page = ui.page
    selected = page.locator('#approval-list button[aria-pressed="true"]')
    assert "first.txt" in selected.inner_text()

    page.keyboard.press("j")
    assert hostile in selected.inner_text()
    assert json.loads(ui.detail()["input"]) == {"command": hostile}
    assert page.locator("#approval-detail img, #approval-list img").count() == 0
    page.keyboard.press("k")
    assert "first.txt" in selected.inner_text()
    page.keyboard.press("?")
    help_dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    help_dialog.wait_for()
    page.keyboard.press("a")  # ignored while the help is open
    page.keyboard.press("Escape")
    help_dialog.wait_for(state="hidden")

    page.keyboard.press("d")
    assert first.result()["verdict"] == "deny"
    page.locator("#approval-list button", has_text="first.txt").wait_for(state="detached")
    page.keyboard.press("a")
    assert second.result()["verdict"] == "allow"
    page.locator("#approvals-empty").wait_for(state="visible")
    assert page.title() == "Stockade"


def test_every_view_fits_a_phone_screen(gateway: Gateway, open_ui: OpenUi, tmp_path: Path) -> None:
    ui = open_ui(gateway, PHONE)
    ui.goto_home()
    assert not ui.has_horizontal_scroll()
    ui.login(gateway.token)
    long_command = "cp .env " + "/".join(["a-rather-long-directory-name"] * 12) + "/x.txt"
    held = HeldCall(gateway.daemon, "s-phone", long_command, str(tmp_path))
    ui.held(long_command)
    for view in VIEWS:
        ui.open_view(view)
        wait_loaded: Callable[[], object] = {
            "policy": lambda: ui.page.wait_for_function(
                "() => document.getElementById('policy-text').textContent !== ''"
            ),
            "audit": lambda: ui.page.locator("#audit-results li").first.wait_for(),
        }.get(view, lambda: None)
        wait_loaded()
        assert not ui.has_horizontal_scroll(), f"{view} scrolls sideways at 375 px"
    ui.open_view("approvals")
    ui.page.locator("#approval-detail").get_by_role("button", name="Always").click()
    ui.page.locator("#scope-command").wait_for()
    # Two paths (the credential and the copy) have no one narrow rule: the preview says so.
    ui.page.locator("#scope-preview", has_text="touches several paths").wait_for()
    _forget_refusals(ui, 422, re.compile(r"/api/v1/approvals/[^/]+/always/preview"))
    assert not ui.has_horizontal_scroll(), "the always scope step scrolls sideways at 375 px"
    ui.page.get_by_role("button", name="Cancel").click()
    ui.page.locator("#scope-form").wait_for(state="detached")
    ui.page.locator("#approval-detail").get_by_role("button", name="Deny").click()
    assert held.result()["verdict"] == "deny"


def test_the_ui_follows_a_daemon_restart(ui: UiPage, gateway: Gateway, tmp_path: Path) -> None:
    ui.mark_document()
    gateway.daemon.stop()
    ui.page.locator("#live:not([data-state=live])").wait_for()
    gateway.daemon.start()
    # The UI sessions died with the daemon: the page finds out by itself and asks again.
    ui.page.locator("#login-form").wait_for(state="visible")
    assert "session ended" in ui.page.locator("#login-error").inner_text()
    assert ui.page.locator("#approval-list li").count() == 0
    ui.login(gateway.token)
    held = HeldCall(gateway.daemon, "s-restart", "cp .env after.txt", str(tmp_path))
    ui.held("cp .env after.txt")
    ui.page.keyboard.press("d")
    assert held.result()["verdict"] == "deny"
    assert ui.same_document()
    # While the daemon was down the browser logged its failed connections; nothing else.
    down = re.compile(r"ERR_CONNECTION_REFUSED|/api/v1/events|status of 401 .*/ui/session")
    ui.console_errors[:] = [error for error in ui.console_errors if not down.search(error)]
