"""Golden hook vectors: harness stdin -> normalized request, daemon reply -> harness stdout.

One JSON file per harness beside this module; each case names the event kind, the
request the daemon must receive, and the exact answer (``null``: no output at all).
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest

from stockade.adapters import ADAPTERS, load_adapter

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


@pytest.mark.parametrize(("harness", "case"), _cases())
def test_hook_vector(harness: str, case: dict[str, Any]) -> None:
    adapter = load_adapter(harness)
    stdin, env = case["stdin"], case.get("env", {})
    kind = adapter.event_kind(stdin)
    assert kind == case["kind"]
    if "failure" in case:
        out, code = adapter.render_failure(case["failure"], kind)
    elif kind == "pre_tool":
        call = asdict(adapter.parse_pre_tool(stdin, env))
        assert {k: v for k, v in call.items() if v is not None} == case["request"]
        out, code = adapter.render_decision(case["reply"])
    elif kind == "prompt":
        submission = asdict(adapter.parse_prompt(stdin, env))
        submission.pop("metadata")
        assert {k: v for k, v in submission.items() if v is not None} == case["request"]
        out, code = adapter.render_prompt(case["reply"])
    else:
        out, code = b"", 0
    assert code == case["exit"]
    if case["stdout"] is None:
        assert out == b""
    else:
        assert out.endswith(b"\n") and out.count(b"\n") == 1
        assert json.loads(out) == case["stdout"]
