"""Fixtures for the browser tests: Chromium, a daemon with its gateway, the UI in a page.

Each test runs a real daemon with its TCP gateway on 127.0.0.1; those of ``test_ui.py``
(marked ``e2e``) drive a real headless Chromium, and some the real Claude Code too, whose
fixtures (``workspace``, ``claude``) come from ``tests/e2e``.

Each page is checked when its test ends: no request to any host but the daemon, and no
console error (besides the 401s of logging in, see :mod:`tests.browser.support`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ViewportSize, sync_playwright
from tests.browser.support import (
    CHROMIUM,
    CHROMIUM_ARGS,
    LAPTOP,
    Gateway,
    UiPage,
    gateway_config,
)
from tests.daemon_support import DaemonProcess, free_port
from tests.e2e.conftest import workspace
from tests.e2e.test_claude_code import claude

from stockade.home import Home

__all__ = ["claude", "workspace"]  # the e2e fixtures these tests use, re-exported for pytest

StartGateway = Callable[..., Gateway]
OpenUi = Callable[..., UiPage]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless, for one module (each test gets its own context).

    Not for the whole run: Playwright's sync API keeps an event loop running on the main
    thread while it is started, and every later test that calls ``asyncio.run`` would fail.
    """
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (.ci/run does)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def start_gateway(home: Home, spawn_daemon: Callable[..., DaemonProcess]) -> StartGateway:
    """Start a daemon on ``home`` with its gateway on a free port of 127.0.0.1.

    ``config`` is written to ``stockade.toml`` with the ``[gateway]`` table; ``env`` goes
    to the daemon (the Claude Code tests give it the agent's HOME).
    """

    def start(config: str = "", env: Mapping[str, str] | None = None) -> Gateway:
        port = free_port()
        home.config_path.write_text(config + gateway_config(port))
        home.config_path.chmod(0o600)
        return Gateway(spawn_daemon(env=env), f"http://127.0.0.1:{port}")

    return start


@pytest.fixture
def gateway(start_gateway: StartGateway) -> Gateway:
    return start_gateway()


@pytest.fixture
def open_ui(browser: Browser) -> Iterator[OpenUi]:
    """Open the UI of a gateway in a fresh browser context; checks each page at the end."""
    opened: list[UiPage] = []

    def open_page(gateway: Gateway, viewport: ViewportSize = LAPTOP) -> UiPage:
        page = UiPage.open(browser, gateway.base_url, viewport)
        opened.append(page)
        return page

    yield open_page
    for page in opened:
        page.close()
    for page in opened:
        assert page.foreign_requests == [], "the UI reached beyond the daemon"
        assert page.console_errors == [], "the UI logged errors"


@pytest.fixture
def ui(gateway: Gateway, open_ui: OpenUi) -> UiPage:
    """The UI on a laptop screen, logged in with the gateway's token."""
    page = open_ui(gateway)
    page.goto_home()
    page.login(gateway.token)
    return page
