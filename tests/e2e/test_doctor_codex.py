"""``stockade doctor`` and the real Codex CLI agree on whether Codex trusts our hooks.

Codex skips an untrusted hook without a word, so doctor recomputes Codex's trust hash
and key. This test asks the pinned Codex itself (``codex app-server``, JSON-RPC
``hooks/list``) for every handler ``stockade install codex`` wrote: the key and hash
must be the ones doctor computes, and trust written from doctor's numbers must be the
trust Codex reports. A Codex bump that changes the scheme fails here first.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from tests.e2e.conftest import Workspace, harness_cli

from stockade.install import HARNESS_HOOKS
from stockade.install.checks import our_entries, read_settings
from stockade.install.harness_trust import codex_hook_hash, codex_hook_key


def codex_hooks(workspace: Workspace) -> list[dict[str, Any]]:
    """``hooks/list`` for the workspace project, as the Codex app-server answers it."""
    requests: list[dict[str, Any]] = [
        {"jsonrpc": "2.0", "id": 1, "method": "initialize",
         "params": {"clientInfo": {"name": "stockade-test", "version": "0"}}},
        {"jsonrpc": "2.0", "method": "initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "hooks/list",
         "params": {"cwds": [str(workspace.project)]}},
    ]  # fmt: skip
    with subprocess.Popen(
        [str(harness_cli("codex")), "app-server"],
        env=workspace.env,
        cwd=workspace.project,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    ) as process:
        try:
            return _answer_to_hooks_list(process, requests)
        finally:
            process.kill()


def _answer_to_hooks_list(
    process: subprocess.Popen[str], requests: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    assert process.stdin is not None and process.stdout is not None
    process.stdin.write("".join(json.dumps(r) + "\n" for r in requests))
    process.stdin.flush()
    for line in process.stdout:  # bounded by pytest's timeout
        message = json.loads(line)
        if message.get("id") == 2:
            data = message["result"]["data"][0]
            assert data["errors"] == [] and data["warnings"] == []
            hooks: list[dict[str, Any]] = data["hooks"]
            return hooks
    raise AssertionError("codex app-server closed without answering hooks/list")


def doctor(workspace: Workspace) -> dict[str, dict[str, Any]]:
    result = workspace.stockade("doctor", "--json")
    return {check["id"]: check for check in json.loads(result.stdout)["checks"]}


def test_doctor_trust_verdict_matches_codex(workspace: Workspace) -> None:
    installed = workspace.stockade("install", "codex", "--user", "--json")
    assert installed.returncode == 0, installed.stderr
    hooks_path = Path(json.loads(installed.stdout)["path"])
    ours = list(our_entries(read_settings(hooks_path, "codex").document or {}, "codex"))
    expected = {codex_hook_key(hooks_path, p): codex_hook_hash(p) for p in ours}
    assert len(expected) == len(HARNESS_HOOKS["codex"])

    listed = {hook["key"]: hook for hook in codex_hooks(workspace)}
    assert {key: hook["currentHash"] for key, hook in listed.items()} == expected
    assert {hook["trustStatus"] for hook in listed.values()} == {"untrusted"}
    assert doctor(workspace)["hooks.codex.user.trust"]["status"] == "fail"

    config = hooks_path.parent / "config.toml"
    config.write_text(
        "".join(f'[hooks.state."{key}"]\ntrusted_hash = "{h}"\n' for key, h in expected.items())
    )
    assert {hook["trustStatus"] for hook in codex_hooks(workspace)} == {"trusted"}
    assert doctor(workspace)["hooks.codex.user.trust"]["status"] == "ok"
