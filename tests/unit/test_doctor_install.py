"""The install checks of ``stockade doctor`` over fake settings trees in a temporary HOME.

Each test builds what a harness would find on disk (written by the real ``install``,
then damaged the way users and other tools damage it) and asserts what doctor says.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from stockade.diagnostics import Check
from stockade.install import HARNESS_HOOKS, install, settings_path
from stockade.install.checks import Placed, strip_json_comments
from stockade.install.diagnose import diagnose
from stockade.install.harness_trust import codex_hook_hash, codex_hook_key
from stockade.shim.hook import DEFAULT_TIMEOUT_S

DEADLINE = DEFAULT_TIMEOUT_S  # the real shim deadline: a fresh install must outlast it


@pytest.fixture
def user(tmp_path: Path) -> Path:
    home = tmp_path / "user"
    home.mkdir()
    return home


@pytest.fixture
def exe(tmp_path: Path) -> Path:
    """A real executable file standing in for the ``stockade`` console script."""
    path = tmp_path / "bin" / "stockade"
    path.parent.mkdir()
    path.write_text("#!/bin/sh\nexit 0\n")
    path.chmod(0o755)
    return path


@pytest.fixture
def project(user: Path) -> Path:
    path = user / "work" / "proj"
    path.mkdir(parents=True)
    return path


def hook(harness: str, user: Path, exe: Path, project: Path | None = None, **env: str) -> Path:
    result = install(harness, project, executable=str(exe), env=env, user_home=user)
    return result.path


def run(user: Path, project: Path | None = None, /, **env: str) -> dict[str, Check]:
    findings = diagnose(
        project, env={"PATH": "/usr/bin:/bin", **env}, user_home=user, deadline_s=DEADLINE
    )
    ids = [finding.id for finding in findings]
    assert len(ids) == len(set(ids)), ids
    return {finding.id: finding for finding in findings}


def edit(path: Path, change: Any) -> None:
    document = json.loads(path.read_text())
    change(document)
    path.write_text(json.dumps(document))


def trust_codex(user: Path, hooks_path: Path, extra: str = "") -> Path:
    """Write the trust tables the Codex TUI writes when the user trusts our handlers."""
    document = json.loads(hooks_path.read_text())
    lines = [extra]
    for event, groups in document["hooks"].items():
        for g, group in enumerate(groups):
            for h, entry in enumerate(group["hooks"]):
                placed = Placed(event, g, h, group.get("matcher"), entry)
                lines += [
                    f'[hooks.state."{codex_hook_key(hooks_path, placed)}"]',
                    f'trusted_hash = "{codex_hook_hash(placed)}"',
                ]
    config = user / ".codex" / "config.toml"
    config.write_text("\n".join(lines) + "\n")
    return config


# --- not installed -------------------------------------------------------------------------


def test_harnesses_not_set_up_are_ok(user: Path) -> None:
    found = run(user)
    assert {f.id: f.status for f in found.values()} == {
        "hooks.claude-code.user": "ok",
        "hooks.codex.user": "ok",
        "hooks.gemini.user": "ok",
    }


def test_harness_in_use_but_not_hooked_warns_with_the_install_command(user: Path) -> None:
    (user / ".gemini").mkdir()
    finding = run(user)["hooks.gemini.user"]
    assert finding.status == "warn" and "not hooked" in finding.message
    assert finding.fix == "stockade install gemini"


@pytest.mark.parametrize("harness", list(HARNESS_HOOKS))
def test_fresh_install_is_ok(harness: str, user: Path, exe: Path, project: Path) -> None:
    hook(harness, user, exe)  # for Codex this records its trust too
    found = run(user, project)
    mine = {key: f.status for key, f in found.items() if key.startswith(f"hooks.{harness}.")}
    assert set(mine.values()) == {"ok"}, found
    assert f"hooks.{harness}.user" in mine
    assert f"hooks.{harness}.project" not in found  # no project file: nothing to judge


# --- broken files ----------------------------------------------------------------------------


@pytest.mark.parametrize("harness", list(HARNESS_HOOKS))
@pytest.mark.parametrize(
    ("text", "words"),
    [('{"hooks": {', "not valid JSON (line 1"), ("[1, 2]", "does not hold a JSON object")],
)
def test_unparsable_settings_fail(
    harness: str, text: str, words: str, user: Path, exe: Path
) -> None:
    path = hook(harness, user, exe)
    path.write_text(text)
    finding = run(user)[f"hooks.{harness}.user"]
    assert finding.status == "fail"
    assert str(path) in finding.message and words in finding.message
    assert "ignores the whole file" in finding.message
    assert finding.fix is not None and f"stockade install {harness}" in finding.fix


def test_unparsable_project_settings_fail_with_the_project_install(
    user: Path, exe: Path, project: Path
) -> None:
    path = hook("claude-code", user, exe, project)
    path.write_text("{,}")
    finding = run(user, project)["hooks.claude-code.project"]
    assert finding.status == "fail" and str(path) in finding.message
    assert finding.fix is not None and f"--project {project}" in finding.fix


def test_gemini_settings_may_hold_comments(user: Path, exe: Path) -> None:
    path = hook("gemini", user, exe)
    path.write_text('// mine\n{ /* block */ "a": "http://x//y",\n' + path.read_text()[1:])
    assert run(user)["hooks.gemini.user"].status == "ok"


def test_strip_json_comments_keeps_strings_intact() -> None:
    text = '{"u": "a//b /* c */", "q": "say \\"//\\""} // end\n/* x */'
    assert json.loads(strip_json_comments(text)) == {"u": "a//b /* c */", "q": 'say "//"'}


# --- our entries -----------------------------------------------------------------------------


@pytest.mark.parametrize("harness", list(HARNESS_HOOKS))
def test_missing_event_fails_naming_it(harness: str, user: Path, exe: Path) -> None:
    path = hook(harness, user, exe)
    first = HARNESS_HOOKS[harness][0].event
    edit(path, lambda d: d["hooks"].pop(first))
    finding = run(user)[f"hooks.{harness}.user"]
    assert finding.status == "fail" and f"no Stockade hook for {first}" in finding.message


def test_executable_that_vanished_fails(user: Path, exe: Path) -> None:
    hook("claude-code", user, exe)
    exe.unlink()
    finding = run(user)["hooks.claude-code.user"]
    assert finding.status == "fail" and f"runs {exe}, which does not exist" in finding.message


def test_executable_that_lost_its_x_bit_fails(user: Path, exe: Path) -> None:
    hook("codex", user, exe)
    exe.chmod(0o644)
    assert "not executable" in run(user)["hooks.codex.user"].message


def test_bare_command_name_is_looked_up_on_path(user: Path, exe: Path) -> None:
    path = hook("gemini", user, exe)
    edit(path, lambda d: _replace_commands(d, "stockade hook gemini"))
    assert run(user)["hooks.gemini.user"].status == "fail"
    assert run(user, PATH=str(exe.parent))["hooks.gemini.user"].status == "ok"


def _replace_commands(document: dict[str, Any], command: str) -> None:
    for groups in document["hooks"].values():
        for group in groups:
            for entry in group["hooks"]:
                entry["command"] = command


@pytest.mark.parametrize(
    ("harness", "timeout", "ok"),
    [
        ("claude-code", 100, False),
        ("claude-code", 101, True),
        ("codex", 30, False),
        ("codex", None, True),  # Codex's default is 600 s
        ("gemini", 100_000, False),  # milliseconds
        ("gemini", 120_000, True),
        ("gemini", None, False),  # Gemini's default is 60 s
        ("claude-code", "120", False),
    ],
)
def test_hook_timeout_must_outlast_the_shim(
    harness: str, timeout: Any, ok: bool, user: Path, exe: Path
) -> None:
    path = hook(harness, user, exe)

    def set_timeout(document: dict[str, Any]) -> None:
        entry = document["hooks"][HARNESS_HOOKS[harness][0].event][0]["hooks"][0]
        if timeout is None:
            del entry["timeout"]
        else:
            entry["timeout"] = timeout

    edit(path, set_timeout)
    finding = run(user)[f"hooks.{harness}.user"]
    assert (finding.status == "ok") is ok, finding
    if not ok:
        assert "timeout" in finding.message


@pytest.mark.parametrize(
    ("harness", "event", "matcher", "ok"),
    [
        ("claude-code", "PreToolUse", "Bash", False),
        ("claude-code", "PreToolUse", "", True),
        ("claude-code", "PreToolUse", ".*", True),
        ("codex", "PreToolUse", "^Bash$", False),
        ("codex", "PreToolUse", "*", True),
        ("gemini", "BeforeTool", "run_shell_command", False),
        ("gemini", "BeforeTool", "*", True),
        ("gemini", "SessionStart", ".*", False),  # compared as a string: never fires
    ],
)
def test_narrowed_matcher_fails(
    harness: str, event: str, matcher: str, ok: bool, user: Path, exe: Path
) -> None:
    path = hook(harness, user, exe)
    edit(path, lambda d: d["hooks"][event][0].update(matcher=matcher))
    finding = run(user)[f"hooks.{harness}.user"]
    assert (finding.status == "ok") is ok, finding
    if not ok:
        assert f"{event} matcher {matcher!r}" in finding.message


@pytest.mark.parametrize(
    ("harness", "setting", "words"),
    [
        ("claude-code", {"disableAllHooks": True}, "disableAllHooks"),
        ("gemini", {"hooksConfig": {"enabled": False}}, "hooksConfig.enabled"),
        ("gemini", {"hooksConfig": {"disabled": ["stockade"]}}, "hooksConfig.disabled"),
    ],
)
def test_switches_that_turn_our_hook_off_fail(
    harness: str, setting: dict[str, Any], words: str, user: Path, exe: Path
) -> None:
    path = hook(harness, user, exe)
    edit(path, lambda d: d.update(setting))
    finding = run(user)[f"hooks.{harness}.user"]
    assert finding.status == "fail" and words in finding.message


# --- Codex hook trust --------------------------------------------------------------------------


def test_codex_hook_hash_matches_what_codex_computes() -> None:
    # currentHash from `codex app-server` hooks/list, codex-cli 0.169.0, seen here.
    entry = {"type": "command", "command": "/usr/bin/stockade hook codex", "timeout": 120}
    assert codex_hook_hash(Placed("PreToolUse", 0, 0, None, entry)) == (
        "sha256:8e818f6202d59561f77f849019152dad07090454d09c394363c802f87154edd5"
    )
    assert codex_hook_hash(Placed("UserPromptSubmit", 0, 0, None, entry)) == (
        "sha256:e4169aa6c754351cb394fec8345d5104ec389f1a4214ca40a34d1e9b89af7451"
    )


def test_codex_untrusted_hook_fails_and_trusted_passes(user: Path, exe: Path) -> None:
    path = hook("codex", user, exe)
    (user / ".codex" / "config.toml").unlink()  # the trust `stockade install` recorded
    finding = run(user)["hooks.codex.user.trust"]
    assert finding.status == "fail" and "has not trusted" in finding.message
    assert finding.fix is not None and "Trust all and continue" in finding.fix

    trust_codex(user, path)
    found = run(user)
    assert found["hooks.codex.user"].status == "ok"
    assert found["hooks.codex.user.trust"].status == "ok"


def test_codex_trust_is_lost_when_the_hook_changes(user: Path, exe: Path) -> None:
    path = hook("codex", user, exe)
    trust_codex(user, path)
    edit(path, lambda d: d["hooks"]["PreToolUse"][0]["hooks"][0].update(timeout=300))
    finding = run(user)["hooks.codex.user.trust"]
    assert finding.status == "fail" and "for PreToolUse " in finding.message


def test_codex_trust_keys_use_the_real_path(tmp_path: Path, user: Path, exe: Path) -> None:
    real = tmp_path / "real-codex"
    real.mkdir()
    (user / ".codex").symlink_to(real)
    path = hook("codex", user, exe)
    key = codex_hook_key(path, Placed("PreToolUse", 0, 0, None, {}))
    assert key == f"{real}/hooks.json:pre_tool_use:0:0"


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        ("[features]\nhooks = false\n", "turns hooks off"),
        ('[hooks.state."{key}"]\nenabled = false\n', "disables the Stockade hook for PreToolUse"),
    ],
)
def test_codex_switches_fail(extra: str, words: str, user: Path, exe: Path) -> None:
    path = hook("codex", user, exe)
    config = trust_codex(user, path)
    key = codex_hook_key(path, Placed("PreToolUse", 0, 0, None, {}))
    text = config.read_text()
    if "{key}" in extra:  # merge into the existing table: TOML forbids defining it twice
        text = text.replace(f'[hooks.state."{key}"]\n', f'[hooks.state."{key}"]\nenabled = false\n')
    else:
        text = extra + text
    config.write_text(text)
    finding = run(user)["hooks.codex.user.trust"]
    assert finding.status == "fail" and words in finding.message


def test_codex_unreadable_config_fails(user: Path, exe: Path) -> None:
    hook("codex", user, exe)
    (user / ".codex" / "config.toml").write_text("[broken\n")
    finding = run(user)["hooks.codex.user.trust"]
    assert finding.status == "fail" and "config.toml cannot be read" in finding.message


def test_codex_project_needs_project_trust(user: Path, exe: Path, project: Path) -> None:
    path = hook("codex", user, exe, project)  # trusts our handlers, never the project
    finding = run(user, project)["hooks.codex.project.trust"]
    assert finding.status == "fail" and "until the project is trusted" in finding.message

    (project / ".git").mkdir()
    trust_codex(user, path, f'[projects."{project}"]\ntrust_level = "trusted"\n')
    assert run(user, project)["hooks.codex.project.trust"].status == "ok"


def test_codex_project_trust_through_its_git_root(user: Path, exe: Path, project: Path) -> None:
    (project / ".git").mkdir()
    sub = project / "pkg"
    sub.mkdir()
    path = hook("codex", user, exe, sub)
    trust_codex(user, path, f'[projects."{project}"]\ntrust_level = "trusted"\n')
    assert run(user, sub)["hooks.codex.project.trust"].status == "ok"


def test_codex_hooks_left_behind_by_a_moved_codex_home(
    tmp_path: Path, user: Path, exe: Path
) -> None:
    hook("codex", user, exe)
    elsewhere = tmp_path / "codex-home"
    elsewhere.mkdir()
    found = run(user, CODEX_HOME=str(elsewhere))
    assert found["hooks.codex.user"].status == "warn"  # the file Codex reads has no hook
    location = found["hooks.codex.location"]
    assert location.status == "warn" and "$CODEX_HOME is set" in location.message


@pytest.mark.parametrize(
    ("harness", "variable", "read"),
    [
        ("claude-code", "CLAUDE_CONFIG_DIR", "settings.json"),
        ("gemini", "GEMINI_CLI_HOME", ".gemini/settings.json"),
    ],
)
def test_config_dir_variables_move_the_file_read(
    harness: str, variable: str, read: str, tmp_path: Path, user: Path, exe: Path
) -> None:
    moved = tmp_path / "moved"
    (moved / read).parent.mkdir(parents=True)
    hook(harness, user, exe)
    found = run(user, **{variable: str(moved)})
    assert found[f"hooks.{harness}.user"].status == "warn"
    assert f"not hooked ({moved / read})" in found[f"hooks.{harness}.user"].message
    assert f"${variable} is set" in found[f"hooks.{harness}.location"].message


# --- Gemini folder trust -------------------------------------------------------------------------


def trust_folders(user: Path, rules: dict[str, str]) -> None:
    path = user / ".gemini" / "trustedFolders.json"
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(rules))


def test_gemini_project_hooks_in_an_untrusted_folder_warn(
    user: Path, exe: Path, project: Path
) -> None:
    hook("gemini", user, exe, project)
    finding = run(user, project)["hooks.gemini.folder-trust"]
    assert finding.status == "warn" and "ignores" in finding.message
    assert finding.fix is not None and "TRUST_FOLDER" in finding.fix
    assert "stockade install gemini" in finding.fix  # user hooks survive `--skip-trust`
    hook("gemini", user, exe)
    fix = run(user, project)["hooks.gemini.folder-trust"].fix
    assert fix is not None and "stockade install gemini" not in fix


@pytest.mark.parametrize(
    ("rules", "trusted"),
    [
        ({"{p}": "TRUST_FOLDER"}, True),
        ({"{p}/child": "TRUST_PARENT"}, True),
        ({"{u}/work": "TRUST_FOLDER"}, True),  # subfolders inherit
        ({"{u}/work": "TRUST_FOLDER", "{p}": "DO_NOT_TRUST"}, False),  # the longest rule wins
        ({"{p}-other": "TRUST_FOLDER"}, False),  # a sibling with a common prefix
    ],
)
def test_gemini_folder_rules(
    rules: dict[str, str], trusted: bool, user: Path, exe: Path, project: Path
) -> None:
    hook("gemini", user, exe, project)
    trust_folders(user, {k.format(p=project, u=user): v for k, v in rules.items()})
    finding = run(user, project)["hooks.gemini.folder-trust"]
    assert (finding.status == "ok") is trusted, finding


def test_gemini_trust_from_the_environment_and_settings(
    user: Path, exe: Path, project: Path
) -> None:
    hook("gemini", user, exe, project)
    assert (
        run(user, project, GEMINI_CLI_TRUST_WORKSPACE="true")["hooks.gemini.folder-trust"].status
        == "ok"
    )
    trust_folders(user, {str(project): "TRUST_FOLDER"})
    assert (
        run(user, project, GEMINI_RESTRICTED_MODE="true")["hooks.gemini.folder-trust"].status
        == "warn"
    )
    settings = settings_path("gemini", user_home=user)
    settings.write_text(json.dumps({"security": {"folderTrust": {"enabled": False}}}))
    trust_folders(user, {})
    assert run(user, project)["hooks.gemini.folder-trust"].status == "ok"


def test_gemini_user_hooks_in_a_distrusted_folder_warn(
    user: Path, exe: Path, project: Path
) -> None:
    hook("gemini", user, exe)
    assert run(user, project)["hooks.gemini.folder-trust"].status == "ok"  # Gemini will ask
    trust_folders(user, {str(project): "DO_NOT_TRUST"})
    finding = run(user, project)["hooks.gemini.folder-trust"]
    assert finding.status == "warn" and "runs no hooks there" in finding.message


@pytest.mark.parametrize("content", ['{"/x": "MAYBE"}', "[1]", "{"])
def test_gemini_broken_trusted_folders_warn(
    content: str, user: Path, exe: Path, project: Path
) -> None:
    hook("gemini", user, exe)
    (user / ".gemini" / "trustedFolders.json").write_text(content)
    finding = run(user, project)["hooks.gemini.folder-trust"]
    assert finding.status == "warn" and "refuses to start" in finding.message


def test_project_in_the_home_directory_is_the_user_scope(user: Path, exe: Path) -> None:
    hook("claude-code", user, exe)
    assert "hooks.claude-code.project" not in run(user, user)


def test_no_finding_reveals_environment_values(user: Path, exe: Path) -> None:
    hook("gemini", user, exe)
    secret = "sk-do-not-print-0123456789"
    found = run(user, GEMINI_API_KEY=secret, ANTHROPIC_API_KEY=secret)
    assert all(secret not in f"{f.message}{f.fix}" for f in found.values())
