"""The control UI, in a real Chromium, shows no secret: held calls, the feed, the audit log.

Secrets reach the daemon as a held call's input, a decided call's input and a tool's
output; then every view of the UI is opened (the inbox with the held call selected, the
audit search with every result expanded) and the rendered page, its HTML and its text,
must hold none of them, while the markers that replaced them are shown.
"""

from __future__ import annotations

import pytest
from tests.browser.support import Gateway, HeldCall, UiPage
from tests.browser.test_ui import VIEWS
from tests.daemon_support import tool_call

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

TOKEN = "ghp_" + "Canary0" * 6
AWS = "AKIA" + "CANARY7Q" * 2


def test_no_view_of_the_ui_shows_a_secret(ui: UiPage, gateway: Gateway) -> None:
    cwd = str(gateway.daemon.home.root.parent)
    held = HeldCall(gateway.daemon, "s-ui-held", f"git push https://x:{TOKEN}@h/r", cwd)
    with gateway.daemon.client() as client:
        read = tool_call("s-ui-read", tool_input={"file_path": f"{cwd}/notes.txt"}, cwd=cwd)
        client.request("POST", "/decide", read)
        result = {**read, "status": "succeeded", "output": f"aws {AWS}\ngh {TOKEN}\n"}
        client.request("POST", "/tool-results", result)
        echo = tool_call("s-ui-echo", tool_name="Bash", tool_input={"command": f"echo {AWS}"})
        client.request("POST", "/decide", echo)

    ui.held("git push")
    shown = ui.detail()
    assert "[REDACTED:" in shown["input"] and TOKEN not in shown["input"]
    pages = [ui.page.content()]
    for view in VIEWS:
        ui.open_view(view)
        if view == "audit":
            ui.search_audit()
            for summary in ui.page.locator("#audit-results details").all():
                summary.evaluate("element => { element.open = true; }")
        pages += [ui.page.content(), ui.page.locator("body").inner_text()]
    seen = "\n".join(pages)
    assert TOKEN not in seen and AWS not in seen
    assert "[REDACTED:connection-password:" in seen and "[REDACTED:aws-access-key-id:" in seen

    ui.open_view("approvals")
    ui.page.locator("#approval-detail").get_by_role("button", name="Deny").click()
    assert held.result()["verdict"] == "deny"
