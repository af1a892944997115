"""The UI's files as the gateway serves them: only what ships, with the right type and headers.

Plain HTTP against a real daemon's gateway (no browser): the page and its assets load
without a token (they hold no data), every answer carries the security headers, nothing
outside the shipped files can be reached by any spelling of a path, and the page holds
no inline script or style, so the strict Content-Security-Policy costs it nothing.
"""

from __future__ import annotations

import http.client
import re
from importlib import resources
from urllib.parse import urlsplit

import pytest
from tests.browser.support import Gateway

from stockade.ui import CONTENT_TYPES, SECURITY_HEADERS

pytestmark = pytest.mark.integration

STATIC = resources.files("stockade.ui").joinpath("static")
SHIPPED = sorted(entry.name for entry in STATIC.iterdir() if entry.is_file())


def fetch(gateway: Gateway, path: str) -> tuple[int, dict[str, str], bytes]:
    """GET ``path`` exactly as written (no normalisation), without credentials."""
    address = urlsplit(gateway.base_url)
    conn = http.client.HTTPConnection(address.hostname or "", address.port, timeout=10)
    try:
        conn.request("GET", path, headers={"Host": address.netloc})
        response = conn.getresponse()
        headers = {name.lower(): value for name, value in response.getheaders()}
        return response.status, headers, response.read()
    finally:
        conn.close()


def test_every_shipped_file_is_served_with_its_type_and_the_security_headers(
    gateway: Gateway,
) -> None:
    assert {"index.html", "app.js", "app.css"} <= set(SHIPPED), SHIPPED
    for path, name in [("/", "index.html"), *((f"/assets/{n}", n) for n in SHIPPED)]:
        status, headers, body = fetch(gateway, path)
        assert status == 200, (path, status, body[:200])
        assert body == STATIC.joinpath(name).read_bytes(), path
        assert headers["content-type"] == CONTENT_TYPES["." + name.rpartition(".")[2]], path
        for header, value in SECURITY_HEADERS.items():
            assert headers[header.lower()] == value, (path, header)


# Traversal in every spelling, other directories, other names for a shipped file.
UNREACHABLE = [
    "/assets/__init__.py",
    "/assets/../__init__.py",
    "/assets/..%2f__init__.py",
    "/assets/%2e%2e/%2e%2e/%2e%2e/pyproject.toml",
    "/assets/..%2f..%2f..%2f..%2fpyproject.toml",
    "/assets/static/index.html",
    "/assets/",
    "/assets/app.js%00.css",
    "/assets/APP.JS",
    "/assets//etc/passwd",
    "/static/app.js",
    "/index.html/../../../pyproject.toml",
]


def test_nothing_but_the_shipped_files_is_reachable(gateway: Gateway) -> None:
    for path in UNREACHABLE:
        status, headers, body = fetch(gateway, path)
        assert status == 404, (path, status, body[:200])
        assert b"[project]" not in body and b"import " not in body, path
        assert headers["content-security-policy"] == SECURITY_HEADERS["Content-Security-Policy"]


def test_the_page_has_no_inline_script_or_style_and_loads_only_its_own_files() -> None:
    page = STATIC.joinpath("index.html").read_text()
    assert re.findall(r"<script\b(?![^>]*\bsrc=)", page) == [], "inline script"
    assert "<style" not in page and " style=" not in page, "inline style"
    assert re.findall(r"\son[a-z]+=", page) == [], "inline event handler"
    linked = re.findall(r'(?:src|href)="([^"#]+)"', page)
    assert linked and all(link.startswith("/assets/") for link in linked), linked
    assert {link.removeprefix("/assets/") for link in linked} <= set(SHIPPED), linked
    for name in SHIPPED:
        if name.endswith(".js"):
            source = STATIC.joinpath(name).read_text()
            assert "innerHTML" not in source and "eval(" not in source, name
            for imported in re.findall(r'from "\./([^"]+)"', source):
                assert imported in SHIPPED, (name, imported)
