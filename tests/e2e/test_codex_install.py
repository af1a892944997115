"""``stockade install codex`` leaves hooks the real Codex trusts; ``uninstall`` takes them back.

Codex skips an untrusted hook without a word, so an install that Codex does not trust
protects nothing. These tests run the real console scripts in a fresh HOME and ask the
pinned Codex itself (``codex app-server``, ``hooks/list``) for each handler's trust,
next to a hook of the user's own that must stay trusted throughout. A ``CODEX_HOME``
reached through a symlink checks that the trust key uses the path Codex uses.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import pytest
from tests.e2e.support import Workspace, codex_hooks_list

from stockade.install import HARNESS_HOOKS
from stockade.install.checks import Placed
from stockade.install.harness_trust import codex_hook_hash, codex_hook_key

USER_HOOK = {"type": "command", "command": "true", "timeout": 5}
USER_CONFIG = """\
# my own Codex settings: Stockade must keep this comment
[features]
hooks = true
"""


def user_setup(workspace: Workspace, symlinked: bool) -> tuple[Path, str]:
    """``CODEX_HOME`` with a trusted hook of the user's; its hooks.json and config text."""
    codex_home = workspace.home_dir / "codex-home"
    codex_home.mkdir()
    if symlinked:
        link = workspace.home_dir / "codex-link"
        link.symlink_to(codex_home)
        codex_home = link
    workspace.env["CODEX_HOME"] = str(codex_home)
    hooks = codex_home / "hooks.json"
    hooks.write_text(json.dumps({"hooks": {"PreToolUse": [{"hooks": [USER_HOOK]}]}}))
    mine = Placed("PreToolUse", 0, 0, None, USER_HOOK)
    config = USER_CONFIG + (
        f"\n[hooks.state.{json.dumps(codex_hook_key(hooks, mine))}]\n"
        f"trusted_hash = {json.dumps(codex_hook_hash(mine))}\n"
    )
    (codex_home / "config.toml").write_text(config)
    return hooks, config


def trust_by_command(workspace: Workspace) -> dict[str, list[str]]:
    """Codex's own verdict: the trust status of each handler, by its command."""
    found: dict[str, list[str]] = {}
    for hook in codex_hooks_list(workspace):
        found.setdefault(hook["command"], []).append(hook["trustStatus"])
    return found


def stockade_json(workspace: Workspace, *args: str) -> dict[str, Any]:
    done = workspace.stockade(*args, "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


@pytest.mark.parametrize("symlinked", [False, True], ids=["codex-home", "symlinked-codex-home"])
def test_installed_hooks_are_trusted_by_codex_and_uninstall_takes_only_ours(
    workspace: Workspace, symlinked: bool
) -> None:
    hooks, original = user_setup(workspace, symlinked)
    assert trust_by_command(workspace) == {"true": ["trusted"]}  # the user's hook, as set up

    installed = stockade_json(workspace, "install", "codex", "--user")
    command = installed["command"]
    assert Path(installed["path"]) == hooks
    records = {r["key"]: r["trusted_hash"] for r in installed["trust"]["records"]}
    assert len(records) == len(HARNESS_HOOKS["codex"])
    listed = codex_hooks_list(workspace)
    ours = {h["key"]: h for h in listed if h["command"] == command}
    assert {key: hook["currentHash"] for key, hook in ours.items()} == records
    assert trust_by_command(workspace) == {
        "true": ["trusted"],
        command: ["trusted"] * len(HARNESS_HOOKS["codex"]),
    }
    doctor = stockade_json(workspace, "doctor")
    trust = {c["id"]: c["status"] for c in doctor["checks"]}["hooks.codex.user.trust"]
    assert trust == "ok"
    config = hooks.parent / "config.toml"
    assert config.read_text().startswith(original)

    removed = stockade_json(workspace, "uninstall", "codex", "--user")
    assert set(removed["trust"]["removed"]) == set(records)
    assert trust_by_command(workspace) == {"true": ["trusted"]}
    assert tomllib.loads(config.read_text()) == tomllib.loads(original)
    assert "# my own Codex settings" in config.read_text()
