"""``stockade doctor`` and the real Codex CLI agree on whether Codex trusts our hooks.

Codex skips an untrusted hook without a word, so doctor recomputes Codex's trust hash
and key. This test asks the pinned Codex itself (``codex app-server``, JSON-RPC
``hooks/list``) for every handler ``stockade install codex`` wrote: the key and hash
must be the ones doctor computes, and trust written from doctor's numbers must be the
trust Codex reports. A Codex bump that changes the scheme fails here first.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.e2e.support import Workspace, codex_hooks_list, codex_trust, codex_trust_tables

from stockade.install import HARNESS_HOOKS


def doctor(workspace: Workspace) -> dict[str, dict[str, Any]]:
    result = workspace.stockade("doctor", "--json")
    return {check["id"]: check for check in json.loads(result.stdout)["checks"]}


def test_doctor_trust_verdict_matches_codex(workspace: Workspace) -> None:
    installed = workspace.stockade("install", "codex", "--user", "--json")
    assert installed.returncode == 0, installed.stderr
    hooks_path = Path(json.loads(installed.stdout)["path"])
    config = hooks_path.parent / "config.toml"
    config.unlink()  # the trust `stockade install` recorded: start from an untrusted install
    expected = codex_trust(hooks_path)  # doctor's numbers
    assert len(expected) == len(HARNESS_HOOKS["codex"])

    listed = {hook["key"]: hook for hook in codex_hooks_list(workspace)}
    assert {key: hook["currentHash"] for key, hook in listed.items()} == expected
    assert {hook["trustStatus"] for hook in listed.values()} == {"untrusted"}
    assert doctor(workspace)["hooks.codex.user.trust"]["status"] == "fail"

    config.write_text(codex_trust_tables(expected))
    assert {hook["trustStatus"] for hook in codex_hooks_list(workspace)} == {"trusted"}
    assert doctor(workspace)["hooks.codex.user.trust"]["status"] == "ok"
