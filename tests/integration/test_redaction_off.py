"""``[logging] redact = "off"`` against a real daemon: audited, and only as weak as documented.

The model gets tool output as it was; the audit log, the API's approvals and the
content taint stay as they are with redaction on.
"""

from __future__ import annotations

import json
import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from tests.daemon_support import DaemonProcess, tool_call

from stockade.home import Home

pytestmark = pytest.mark.integration

TOKEN = "ghp_" + "Z9y8X7w6" * 5
FETCH = {"tool_name": "WebFetch", "tool_input": {"url": "https://example.com/", "prompt": "x"}}


def test_redaction_off_is_audited_and_keeps_the_log_and_api_redacted(tmp_path: Path) -> None:
    home = Home(tmp_path / "home")
    home.ensure()
    home.config_path.write_text('[logging]\nredact = "off"\n')
    os.chmod(home.config_path, 0o600)
    daemon = DaemonProcess(home, tmp_path / "daemon.log").start()
    try:
        with daemon.client() as client:
            events = client.request("GET", "/audit/events")["events"]
            kinds = [event["kind"] for event in events]
            assert kinds[:2] == ["daemon.started", "redaction.disabled"]
            assert events[1]["payload"]["setting"] == "logging.redact"

            output = f"notes\nGH {TOKEN}\n"
            body = {
                **tool_call("s-off", tool_input={"file_path": "/tmp/project/notes.txt"}),
                "status": "succeeded",
                "output": output,
            }
            answer = client.request("POST", "/tool-results", body)
            assert (answer["output"], answer["redacted"]) == (output, False)
            stored = client.request("GET", f"/audit/events/{answer['event_seq']}")
            assert stored["payload"]["redacted_labels"] == ["github-token"]
            blocked = client.request("POST", "/decide", tool_call("s-off", **FETCH))
            assert blocked["rule_id"] == "flow:credential-then-network"

            # A held call shows its input redacted while it waits.
            held_call = tool_call(
                "s-held", tool_name="Bash", tool_input={"command": f"GH={TOKEN} git push"}
            )
            with ThreadPoolExecutor(1) as pool:
                held = pool.submit(client.request, "POST", "/decide", {**held_call, "hold_s": 10})
                with daemon.client() as other:
                    pending: list[dict[str, object]] = []
                    deadline = time.monotonic() + 10
                    while not pending and time.monotonic() < deadline:
                        time.sleep(0.02)
                        pending = other.request("GET", "/approvals")["approvals"]
                    assert TOKEN not in json.dumps(pending)
                    other.request("POST", f"/approvals/{pending[0]['id']}/deny")
                assert held.result(timeout=10)["verdict"] == "deny"
            everything = json.dumps(client.request("GET", "/audit/events")["events"])
            assert TOKEN not in everything
    finally:
        daemon.stop()
    assert TOKEN not in (home.root / "audit.db").read_bytes().decode("latin-1")
