"""What the browser tests share: a daemon with its TCP gateway, and the UI in a real browser.

The browser is Debian's Chromium (``/usr/bin/chromium``, headless) driven by Playwright;
no browser is downloaded. Each :class:`UiPage` records every request the page makes and
every console error it logs, so that each test also checks that the UI talks to nobody
but the daemon and runs without a script error.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from typing import Any, cast

from playwright.sync_api import (
    Browser,
    ConsoleMessage,
    Locator,
    Page,
    Request,
    Response,
    ViewportSize,
)
from tests.daemon_support import DaemonProcess, tool_call

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
PHONE: ViewportSize = {"width": 375, "height": 740}
LAPTOP: ViewportSize = {"width": 1280, "height": 800}
WAIT_MS = 20_000  # for something the daemon does (a held call arriving, a search answering)
AUDIT_FILTERS = ("session", "tool", "verdict", "kind", "since", "until")
# Before login the page asks /ui/session (401 when logged out) and a wrong token gets a
# 401 from /ui/login: Chromium logs both as console errors. Only these are expected.
_EXPECTED_401 = re.compile(r"/ui/(session|login)$")


def gateway_config(port: int) -> str:
    """The ``[gateway]`` table of ``stockade.toml`` that opens the UI on 127.0.0.1:``port``."""
    return f'[gateway]\nlisten = "127.0.0.1:{port}"\n'


@dataclass
class Gateway:
    """A running daemon with its gateway on ``base_url``, and the gateway's token."""

    daemon: DaemonProcess
    base_url: str

    @property
    def token(self) -> str:
        return (self.daemon.home.root / "gateway.token").read_text().strip()


@dataclass
class UiPage:
    """The control UI open in one browser context (its own cookies), as a person uses it."""

    page: Page
    base_url: str
    foreign_requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)

    @classmethod
    def open(cls, browser: Browser, base_url: str, viewport: ViewportSize) -> UiPage:
        context = browser.new_context(viewport=viewport, base_url=base_url)
        context.set_default_timeout(WAIT_MS)
        ui = cls(context.new_page(), base_url)
        ui.page.on("request", ui._request)
        ui.page.on("console", ui._console)
        ui.page.on("pageerror", lambda error: ui.console_errors.append(f"uncaught: {error}"))
        return ui

    def _request(self, request: Request) -> None:
        if not (request.url == self.base_url or request.url.startswith(self.base_url + "/")):
            self.foreign_requests.append(request.url)

    def _console(self, message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        url = str(message.location.get("url", ""))
        if "status of 401" in message.text and _EXPECTED_401.search(url):
            return
        self.console_errors.append(f"{message.text} ({url})")

    def goto_home(self) -> Response:
        response = self.page.goto("/")
        assert response is not None
        return response

    def login(self, token: str) -> None:
        """Type ``token`` into the login form and wait for the app to open."""
        self.page.locator("#token").fill(token)
        self.page.get_by_role("button", name="Log in").click()
        self.page.locator("#nav").wait_for(state="visible")
        self.page.locator("#live[data-state=live]").wait_for()

    def open_view(self, name: str) -> None:
        self.page.locator(f'#nav a[data-view="{name}"]').click()
        self.page.locator(f"#view-{name}").wait_for(state="visible")

    def mark_document(self) -> None:
        """Tag the loaded document; :meth:`same_document` tells whether it was reloaded since."""
        self.page.evaluate("window.stockadeTestMark = 'still here'")

    def same_document(self) -> bool:
        return bool(self.page.evaluate("window.stockadeTestMark === 'still here'"))

    def held(self, command: str) -> Locator:
        """The inbox entry of the held call running ``command``, once it is shown."""
        item = self.page.locator("#approval-list button", has_text=command)
        item.wait_for()
        return item

    def detail(self) -> dict[str, str]:
        """The selected approval as shown: its facts by label, plus tool, reason, input, expiry."""
        self.page.locator("#approval-detail").wait_for(state="visible")
        return cast(
            dict[str, str],
            self.page.evaluate(
                """() => {
                    const detail = document.getElementById("approval-detail");
                    const shown = {};
                    for (const term of detail.querySelectorAll("dt")) {
                        shown[term.textContent] = term.nextElementSibling.textContent;
                    }
                    shown.tool = detail.querySelector("h2").textContent;
                    shown.severity = detail.querySelector(".badge").textContent;
                    shown.reason = detail.querySelector(".reason").textContent;
                    shown.input = detail.querySelector("pre").textContent;
                    shown.expiry = detail.querySelector(".countdown").textContent;
                    return shown;
                }"""
            ),
        )

    def search_audit(self, **filters: str) -> list[str]:
        """Search the audit view with ``filters`` (the form's field names; the others are
        emptied) and return each result's summary line."""
        self.open_view("audit")
        form = self.page.locator("#audit-form")
        for name in AUDIT_FILTERS:
            field_ = form.locator(f'[name="{name}"]')
            if name == "verdict":
                field_.select_option(filters.pop(name, ""))
            else:
                field_.fill(filters.pop(name, ""))
        assert not filters, f"no such filter: {filters}"
        form.get_by_role("button", name="Search").click()
        self.page.locator('#audit-results[aria-busy="false"]').wait_for(state="attached")
        return self.page.locator("#audit-results summary").all_inner_texts()

    def has_horizontal_scroll(self) -> bool:
        return bool(
            self.page.evaluate(
                "document.documentElement.scrollWidth > document.documentElement.clientWidth"
            )
        )

    def close(self) -> None:
        self.page.context.close()


class HeldCall:
    """A ``/decide`` with ``hold_s`` sent over the socket from a thread: a call held for a human.

    For the tests that need held calls but no harness (the keyboard, the phone layout);
    the real Claude Code run is in ``test_ui.py``.
    """

    def __init__(self, daemon: DaemonProcess, session: str, command: str, cwd: str) -> None:
        self.decision: dict[str, Any] | None = None
        body = tool_call(
            session,
            tool_name="Bash",
            tool_input={"command": command},
            cwd=cwd,
            project_root=cwd,
            hold_s=60,
        )
        self._thread = threading.Thread(target=self._decide, args=(daemon, body), daemon=True)
        self._thread.start()

    def _decide(self, daemon: DaemonProcess, body: dict[str, Any]) -> None:
        with daemon.client(timeout=90) as client:
            self.decision = client.request("POST", "/decide", body)

    def result(self, timeout: float = 30) -> dict[str, Any]:
        self._thread.join(timeout)
        assert self.decision is not None, "the held call was not answered"
        return self.decision
