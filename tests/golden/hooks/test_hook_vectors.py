"""Golden hook vectors: harness stdin -> daemon request, daemon reply -> harness stdout.

One JSON file per harness beside this module. Each case names the event kind
(``null``: a no-op), the route and the exact body the daemon must receive (the shim
adds ``hold_s`` when ``can_ask`` is false), and the exact answer (``null``: no output
at all). A case with ``failure`` renders the safe answer for that failure message.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from stockade.adapters import ADAPTERS, ENDPOINTS, load_adapter

VECTORS = Path(__file__).parent


def _cases() -> list[Any]:
    found = []
    for path in sorted(VECTORS.glob("*.json")):
        data = json.loads(path.read_text())
        for case in data["cases"]:
            found.append(pytest.param(data["harness"], case, id=f"{path.stem}:{case['name']}"))
    return found


def test_every_harness_has_vectors() -> None:
    assert {path.stem for path in VECTORS.glob("*.json")} == set(ADAPTERS)


def test_every_event_kind_has_a_request_and_a_failure_vector() -> None:
    for path in VECTORS.glob("*.json"):
        cases = json.loads(path.read_text())["cases"]
        for kind in ENDPOINTS:
            assert any(c["kind"] == kind and "request" in c for c in cases), (path.stem, kind)
            assert any(c["kind"] == kind and "failure" in c for c in cases), (path.stem, kind)


@pytest.mark.parametrize(("harness", "case"), _cases())
def test_hook_vector(harness: str, case: dict[str, Any]) -> None:
    adapter = load_adapter(harness)
    stdin, env = case["stdin"], case.get("env", {})
    kind = adapter.event_kind(stdin)
    assert kind == case["kind"]
    if kind is None:
        out, code = b"", 0
    elif "failure" in case:
        out, code = adapter.render_failure(kind, stdin, case["failure"])
    else:
        assert ENDPOINTS[kind] == case["path"]
        assert adapter.request(kind, stdin, env) == case["request"]
        if "can_ask" in case:
            assert adapter.can_ask(env) is case["can_ask"]
        out, code = adapter.render(kind, stdin, case["reply"])
    assert code == case["exit"]
    if case["stdout"] is None:
        assert out == b""
    else:
        assert out.endswith(b"\n") and out.count(b"\n") == 1
        assert json.loads(out) == case["stdout"]
