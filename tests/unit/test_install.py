"""``stockade install`` / ``uninstall`` on a temporary HOME: merge, backup, idempotence, refusal."""

from __future__ import annotations

import json
import os
import tomllib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from stockade.cli.main import app
from stockade.errors import ConfigError
from stockade.install import install, settings_path, uninstall
from stockade.install.diagnose import diagnose
from stockade.install.settings import is_ours, merge_hooks, remove_hooks

EXE = "/opt/stockade/bin/stockade"
NOW = datetime(2026, 11, 22, 6, 0, tzinfo=UTC)
USER_SETTINGS: dict[str, Any] = {
    "model": "opus",
    "permissions": {"allow": ["Bash(ls:*)"]},
    "hooks": {
        "PreToolUse": [
            {"matcher": "Bash", "hooks": [{"type": "command", "command": "/usr/bin/audit-bash"}]},
            {"matcher": "*", "hooks": [{"type": "command", "command": "lint-hook", "timeout": 5}]},
        ],
        "Stop": [{"hooks": [{"type": "command", "command": "notify-send done"}]}],
    },
}


def read(path: Path) -> Any:
    return json.loads(path.read_text())


def do_install(harness: str, home: Path, project: Path | None = None, **kw: Any) -> Any:
    return install(harness, project, executable=EXE, env={}, user_home=home, now=NOW, **kw)


def do_uninstall(harness: str, home: Path, project: Path | None = None) -> Any:
    return uninstall(harness, project, env={}, user_home=home, now=NOW)


def test_paths(tmp_path: Path) -> None:
    home, proj = tmp_path / "h", tmp_path / "p"
    assert settings_path("claude-code", user_home=home) == home / ".claude/settings.json"
    assert settings_path("claude-code", proj, user_home=home) == proj / ".claude/settings.json"
    assert settings_path("codex", env={}, user_home=home) == home / ".codex/hooks.json"
    codex_home = {"CODEX_HOME": str(tmp_path / "ch")}
    assert settings_path("codex", env=codex_home, user_home=home) == tmp_path / "ch/hooks.json"
    assert settings_path("codex", proj, user_home=home) == proj / ".codex/hooks.json"
    assert settings_path("gemini", user_home=home) == home / ".gemini/settings.json"
    assert settings_path("gemini", proj, user_home=home) == proj / ".gemini/settings.json"


def test_fresh_install_claude(tmp_path: Path) -> None:
    result = do_install("claude-code", tmp_path)
    path = tmp_path / ".claude/settings.json"
    assert result.changed and result.backup is None and result.path == path
    assert os.stat(path).st_mode & 0o777 == 0o600
    entry = {"type": "command", "command": f"{EXE} hook claude-code", "timeout": 120}
    tool_group = {"matcher": "*", "hooks": [entry]}
    lifecycle_group = {"hooks": [entry]}
    assert read(path) == {
        "hooks": {
            "PreToolUse": [tool_group],
            "PostToolUse": [tool_group],
            "PostToolUseFailure": [tool_group],
            "PermissionDenied": [tool_group],
            "UserPromptSubmit": [lifecycle_group],
            "SessionStart": [lifecycle_group],
            "SessionEnd": [lifecycle_group],
        }
    }
    assert result.events == tuple(read(path)["hooks"])


def test_gemini_uses_milliseconds_and_its_matchers(tmp_path: Path) -> None:
    do_install("gemini", tmp_path)
    hooks = read(tmp_path / ".gemini/settings.json")["hooks"]
    assert set(hooks) == {"BeforeTool", "AfterTool", "BeforeAgent", "SessionStart", "SessionEnd"}
    # Tool events match a regex on the tool name; lifecycle events match exact strings,
    # where only "*" means all (".*" never fires for SessionStart / SessionEnd).
    assert {event: groups[0]["matcher"] for event, groups in hooks.items()} == {
        "BeforeTool": ".*",
        "AfterTool": ".*",
        "BeforeAgent": "*",
        "SessionStart": "*",
        "SessionEnd": "*",
    }
    for groups in hooks.values():
        assert groups[0]["hooks"] == [
            {
                "name": "stockade",
                "type": "command",
                "command": f"{EXE} hook gemini",
                "timeout": 120_000,
            }
        ]


def test_codex_writes_hooks_json_without_a_matcher(tmp_path: Path) -> None:
    codex_home = tmp_path / "codex-home"
    install("codex", None, executable=EXE, env={"CODEX_HOME": str(codex_home)}, user_home=tmp_path)
    hooks = read(codex_home / "hooks.json")["hooks"]
    assert set(hooks) == {
        "PreToolUse",
        "PostToolUse",
        "UserPromptSubmit",
        "SessionStart",
        "SessionEnd",
    }
    assert all("matcher" not in groups[0] for groups in hooks.values())
    assert hooks["PreToolUse"][0]["hooks"][0]["timeout"] == 120
    assert hooks["SessionEnd"][0]["hooks"][0]["timeout"] == 3  # Codex clamps it to 1..3 s


OLD_INSTALL: dict[str, Any] = {
    "model": "opus",
    "hooks": {
        "PreToolUse": [
            {"matcher": "Bash", "hooks": [{"type": "command", "command": "/usr/bin/audit-bash"}]},
            {
                "matcher": "*",
                "hooks": [
                    {"type": "command", "command": f"{EXE} hook claude-code", "timeout": 120}
                ],
            },
        ],
        "UserPromptSubmit": [
            {"hooks": [{"type": "command", "command": f"{EXE} hook claude-code", "timeout": 120}]}
        ],
        "Stop": [{"hooks": [{"type": "command", "command": "notify-send done"}]}],
    },
}


def test_reinstall_over_an_older_install_adds_the_new_events_once(tmp_path: Path) -> None:
    path = tmp_path / ".claude/settings.json"
    path.parent.mkdir()
    path.write_text(json.dumps(OLD_INSTALL))
    result = do_install("claude-code", tmp_path)
    assert result.changed and result.backup is not None
    hooks = read(path)["hooks"]
    assert set(hooks) == {*result.events, "Stop"}
    assert hooks["PreToolUse"] == OLD_INSTALL["hooks"]["PreToolUse"]  # ours kept in place
    assert hooks["Stop"] == OLD_INSTALL["hooks"]["Stop"]
    for event in result.events:
        ours = [e for g in hooks[event] for e in g["hooks"] if is_ours(e, "claude-code")]
        assert len(ours) == 1, event
    assert not do_install("claude-code", tmp_path).changed


def test_uninstall_removes_ours_from_every_event_old_and_new(tmp_path: Path) -> None:
    path = tmp_path / ".claude/settings.json"
    path.parent.mkdir()
    document = json.loads(json.dumps(OLD_INSTALL))
    # An event a future version might install, and one this version no longer writes.
    ours = {"type": "command", "command": f"{EXE} hook claude-code"}
    document["hooks"]["Notification"] = [{"hooks": [ours]}]
    path.write_text(json.dumps(document))
    do_install("claude-code", tmp_path)
    do_uninstall("claude-code", tmp_path)
    assert read(path) == {
        "model": "opus",
        "hooks": {
            "PreToolUse": [OLD_INSTALL["hooks"]["PreToolUse"][0]],
            "Stop": OLD_INSTALL["hooks"]["Stop"],
        },
    }


def test_merge_keeps_everything_else_and_backs_up(tmp_path: Path) -> None:
    path = tmp_path / ".claude/settings.json"
    path.parent.mkdir()
    original = json.dumps(USER_SETTINGS, indent=4)
    path.write_text(original)
    os.chmod(path, 0o640)
    result = do_install("claude-code", tmp_path)
    assert result.changed
    assert result.backup == path.with_name("settings.json.stockade-backup-20261122T060000Z")
    assert result.backup.read_text() == original
    after = read(path)
    assert after["model"] == "opus" and after["permissions"] == USER_SETTINGS["permissions"]
    assert after["hooks"]["Stop"] == USER_SETTINGS["hooks"]["Stop"]
    pre = after["hooks"]["PreToolUse"]
    assert pre[:2] == USER_SETTINGS["hooks"]["PreToolUse"]  # theirs untouched, in order
    assert pre[2]["hooks"][0]["command"] == f"{EXE} hook claude-code"
    assert os.stat(path).st_mode & 0o777 == 0o640  # the file keeps its mode


def test_install_twice_changes_nothing(tmp_path: Path) -> None:
    do_install("claude-code", tmp_path)
    path = tmp_path / ".claude/settings.json"
    before = path.read_bytes()
    again = do_install("claude-code", tmp_path)
    assert not again.changed and again.backup is None
    assert path.read_bytes() == before
    assert list(path.parent.iterdir()) == [path]  # no backup for a no-op


def test_a_moved_executable_is_updated_in_place_not_duplicated(tmp_path: Path) -> None:
    do_install("claude-code", tmp_path)
    install("claude-code", None, executable="/new/stockade", env={}, user_home=tmp_path, now=NOW)
    pre = read(tmp_path / ".claude/settings.json")["hooks"]["PreToolUse"]
    assert len(pre) == 1 and pre[0]["hooks"][0]["command"] == "/new/stockade hook claude-code"


def test_executable_paths_with_spaces_are_quoted(tmp_path: Path) -> None:
    result = install("gemini", None, executable="/My Tools/stockade", env={}, user_home=tmp_path)
    assert result.command == "'/My Tools/stockade' hook gemini"
    assert is_ours({"type": "command", "command": result.command}, "gemini")


def test_uninstall_removes_exactly_ours(tmp_path: Path) -> None:
    path = tmp_path / ".claude/settings.json"
    path.parent.mkdir()
    path.write_text(json.dumps(USER_SETTINGS))
    do_install("claude-code", tmp_path)
    do_install("gemini", tmp_path)  # another harness's file: untouched by claude's uninstall
    result = do_uninstall("claude-code", tmp_path)
    assert result.changed and result.backup is not None
    assert read(path) == USER_SETTINGS
    assert not do_uninstall("claude-code", tmp_path).changed
    assert "gemini" in (tmp_path / ".gemini/settings.json").read_text()


def test_uninstall_of_a_fresh_install_leaves_an_empty_object(tmp_path: Path) -> None:
    do_install("codex", tmp_path)
    do_uninstall("codex", tmp_path)
    assert read(tmp_path / ".codex/hooks.json") == {}


def test_uninstall_without_a_file_creates_nothing(tmp_path: Path) -> None:
    assert not do_uninstall("gemini", tmp_path).changed
    assert not (tmp_path / ".gemini").exists()


def test_entries_of_other_harnesses_and_tools_are_not_ours() -> None:
    assert is_ours({"type": "command", "command": "stockade hook codex"}, "codex")
    assert not is_ours({"type": "command", "command": "stockade hook codex"}, "gemini")
    assert not is_ours({"type": "command", "command": "stockade hook codex-extra"}, "codex")
    assert not is_ours({"type": "command", "command": "other-tool hook codex"}, "codex")
    assert not is_ours({"type": "http", "command": "stockade hook codex"}, "codex")
    assert not is_ours("stockade hook codex", "codex")


def test_ours_under_another_matcher_moves_to_ours() -> None:
    doc = {
        "hooks": {
            "PreToolUse": [
                {
                    "matcher": "Bash",
                    "hooks": [{"type": "command", "command": "x/stockade hook claude-code"}],
                }
            ]
        }
    }
    merged = merge_hooks(doc, "claude-code", "y/stockade hook claude-code")
    pre = merged["hooks"]["PreToolUse"]
    assert [g.get("matcher") for g in pre] == ["*"]
    assert remove_hooks(merged, "claude-code") == {}


@pytest.mark.parametrize(
    "text", ["{not json", "[1, 2]", '"x"', '{"hooks": []}', '{"hooks": {"PreToolUse": {}}}']
)
def test_invalid_settings_are_refused_and_left_untouched(tmp_path: Path, text: str) -> None:
    path = tmp_path / ".claude/settings.json"
    path.parent.mkdir()
    path.write_text(text)
    with pytest.raises(ConfigError, match="nothing was changed") as caught:
        do_install("claude-code", tmp_path)
    assert str(path) in caught.value.message
    assert path.read_text() == text
    assert list(path.parent.iterdir()) == [path]


def test_a_symlinked_settings_file_is_written_through(tmp_path: Path) -> None:
    dotfiles = tmp_path / "dotfiles/claude.json"
    dotfiles.parent.mkdir()
    dotfiles.write_text('{"model": "opus"}')
    link = tmp_path / ".claude/settings.json"
    link.parent.mkdir()
    link.symlink_to(dotfiles)
    do_install("claude-code", tmp_path)
    assert link.is_symlink()
    assert read(dotfiles)["model"] == "opus" and "hooks" in read(dotfiles)


def test_project_scope(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    project.mkdir()
    result = do_install("gemini", tmp_path / "home", project)
    assert result.scope == "project" and (project / ".gemini/settings.json").exists()
    assert any("trusted folder" in note for note in result.notes)


# --- Codex: the trust records in config.toml ------------------------------------------------

CODEX_EVENTS = (
    "pre_tool_use",
    "post_tool_use",
    "user_prompt_submit",
    "session_start",
    "session_end",
)
USER_CODEX_CONFIG = """\
# my Codex setup
model = "gpt-5.5"  # the one I pay for

[projects."/src/app"]
trust_level = "trusted"

# a hook of my own, trusted in the TUI
[hooks.state."{hooks}:pre_tool_use:0:0"]
trusted_hash = "sha256:mine"
"""
USER_HOOK = {"hooks": [{"type": "command", "command": "/usr/bin/audit-bash"}]}


def codex_config(home: Path) -> Path:
    return home / ".codex/config.toml"


def trust_state(home: Path) -> dict[str, Any]:
    state: dict[str, Any] = tomllib.loads(codex_config(home).read_text())["hooks"]["state"]
    return state


def codex_doctor(home: Path, project: Path | None = None) -> dict[str, str]:
    """``stockade doctor``'s verdicts on Codex's trust (the executables here are fake)."""
    found = diagnose(project, env={"PATH": "/usr/bin:/bin"}, user_home=home)
    trust: dict[str, str] = {
        f.id: f.status for f in found if f.id.startswith("hooks.codex.") and "trust" in f.id
    }
    assert trust, "doctor did not judge Codex's trust"
    return trust


def with_user_hook(home: Path) -> tuple[Path, str]:
    """A hooks.json holding a PreToolUse hook of the user's, trusted in their config.toml."""
    hooks = home / ".codex/hooks.json"
    hooks.parent.mkdir()
    hooks.write_text(json.dumps({"hooks": {"PreToolUse": [USER_HOOK]}}))
    text = USER_CODEX_CONFIG.format(hooks=hooks)
    codex_config(home).write_text(text)
    return hooks, text


def test_codex_install_trusts_exactly_the_handlers_it_wrote(tmp_path: Path) -> None:
    result = install("codex", None, executable="/usr/bin/stockade", env={}, user_home=tmp_path)
    hooks = tmp_path / ".codex/hooks.json"
    assert result.trust is not None and result.trust.changed and result.trust.backup is None
    assert os.stat(codex_config(tmp_path)).st_mode & 0o777 == 0o600
    state = trust_state(tmp_path)
    assert set(state) == {f"{hooks}:{event}:0:0" for event in CODEX_EVENTS}
    assert dict(result.trust.records) == {k: v["trusted_hash"] for k, v in state.items()}
    # The hash the real Codex 0.169 computes for this very handler (test_doctor_install).
    assert state[f"{hooks}:pre_tool_use:0:0"] == {
        "trusted_hash": "sha256:8e818f6202d59561f77f849019152dad07090454d09c394363c802f87154edd5"
    }
    assert set(codex_doctor(tmp_path).values()) == {"ok"}
    assert "trust" not in " ".join(result.notes)  # nothing left for the user to trust


def test_codex_install_keeps_the_users_config_and_backs_it_up(tmp_path: Path) -> None:
    hooks, original = with_user_hook(tmp_path)
    os.chmod(codex_config(tmp_path), 0o640)
    result = do_install("codex", tmp_path)
    assert result.trust is not None
    config = codex_config(tmp_path)
    assert config.read_text().startswith(original)  # comments and layout kept, ours after
    assert result.trust.backup == config.with_name("config.toml.stockade-backup-20261122T060000Z")
    assert result.trust.backup.read_text() == original
    assert os.stat(config).st_mode & 0o777 == 0o640
    state = trust_state(tmp_path)
    assert state[f"{hooks}:pre_tool_use:0:0"] == {"trusted_hash": "sha256:mine"}
    assert f"{hooks}:pre_tool_use:1:0" in state  # ours comes after the user's group
    assert tomllib.loads(config.read_text())["model"] == "gpt-5.5"
    assert set(codex_doctor(tmp_path).values()) == {"ok"}


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("[broken\n", "is not valid TOML (Expected ']'"),
        ('model = "a"\nmodel = "b"\n', "is not valid TOML"),
        ("hooks = 1\n", "[hooks] is not a table"),
        ("[hooks]\nstate = [1]\n", "[hooks.state] is not a table"),
        ('[hooks.state]\n"{key}" = "yes"\n', ':pre_tool_use:0:0"] is not a table'),
        # tomlkit would put `model` into our new table: refused rather than changed
        ('hooks.state."x".trusted_hash = "sha256:x"\nmodel = "m"\n', "without changing"),
    ],
)
def test_codex_refuses_a_config_it_cannot_edit_and_changes_nothing(
    tmp_path: Path, text: str, words: str
) -> None:
    config = codex_config(tmp_path)
    config.parent.mkdir()
    text = text.replace("{key}", f"{config.parent}/hooks.json:pre_tool_use:0:0")
    config.write_text(text)
    with pytest.raises(ConfigError, match="nothing was changed") as caught:
        do_install("codex", tmp_path)
    assert words in caught.value.message and str(config) in caught.value.message
    assert config.read_text() == text
    assert list(config.parent.iterdir()) == [config]  # no hooks.json, no backup


def test_codex_install_twice_changes_nothing(tmp_path: Path) -> None:
    with_user_hook(tmp_path)
    do_install("codex", tmp_path)
    files = {p: p.read_bytes() for p in (tmp_path / ".codex").iterdir()}
    again = do_install("codex", tmp_path)
    assert not again.changed and again.trust is not None and not again.trust.changed
    assert again.trust.backup is None and again.trust.records
    assert {p: p.read_bytes() for p in (tmp_path / ".codex").iterdir()} == files


def test_codex_reinstall_replaces_a_stale_trust_record_of_ours(tmp_path: Path) -> None:
    first = do_install("codex", tmp_path)
    assert first.trust is not None
    moved = install("codex", None, executable="/new/stockade", env={}, user_home=tmp_path)
    assert moved.trust is not None and moved.trust.changed
    assert set(moved.trust.records) == set(first.trust.records)  # same handlers, same keys
    state = trust_state(tmp_path)
    assert {k: v["trusted_hash"] for k, v in state.items()} == moved.trust.records
    assert not set(moved.trust.records.values()) & set(first.trust.records.values())
    assert set(codex_doctor(tmp_path).values()) == {"ok"}


def test_codex_uninstall_removes_only_our_trust_records(tmp_path: Path) -> None:
    hooks, original = with_user_hook(tmp_path)
    installed = do_install("codex", tmp_path)
    assert installed.trust is not None
    result = do_uninstall("codex", tmp_path)
    assert result.trust is not None and result.trust.changed and not result.trust.records
    assert set(result.trust.removed) == set(installed.trust.records)
    config = codex_config(tmp_path).read_text()
    assert tomllib.loads(config) == tomllib.loads(original)
    assert config.startswith(original)  # comments and layout kept
    assert read(hooks) == {"hooks": {"PreToolUse": [USER_HOOK]}}
    again = do_uninstall("codex", tmp_path)
    assert not again.changed and again.trust is not None and not again.trust.removed


def test_codex_uninstall_of_a_fresh_install_leaves_no_trust_table(tmp_path: Path) -> None:
    do_install("codex", tmp_path)
    do_uninstall("codex", tmp_path)
    assert tomllib.loads(codex_config(tmp_path).read_text()) == {}


def test_codex_uninstall_without_a_config_creates_none(tmp_path: Path) -> None:
    do_install("codex", tmp_path)
    codex_config(tmp_path).unlink()
    result = do_uninstall("codex", tmp_path)
    assert result.trust is not None and not result.trust.changed
    assert not codex_config(tmp_path).exists()


def test_codex_inline_tables_are_extended(tmp_path: Path) -> None:
    config = codex_config(tmp_path)
    config.parent.mkdir()
    config.write_text('hooks = { state = { "x" = { trusted_hash = "sha256:x" } } }\n')
    do_install("codex", tmp_path)
    assert len(trust_state(tmp_path)) == 1 + len(CODEX_EVENTS)
    do_uninstall("codex", tmp_path)
    assert trust_state(tmp_path) == {"x": {"trusted_hash": "sha256:x"}}


def test_codex_project_install_trusts_its_hooks_but_not_the_project(tmp_path: Path) -> None:
    home, project = tmp_path / "home", tmp_path / "proj"
    project.mkdir()
    result = do_install("codex", home, project)
    hooks = project / ".codex/hooks.json"
    state = trust_state(home)  # the user's config.toml, where Codex keeps all hook trust
    assert set(state) == {f"{hooks}:{event}:0:0" for event in CODEX_EVENTS}
    assert "projects" not in tomllib.loads(codex_config(home).read_text())
    assert not (project / ".codex/config.toml").exists()
    [note] = [n for n in result.notes if "trusted project" in n]
    assert f'[projects."{project}"] trust_level = "trusted"' in note
    assert codex_doctor(home, project)["hooks.codex.project.trust"] == "fail"

    with codex_config(home).open("a") as config:
        config.write(f'\n[projects."{project}"]\ntrust_level = "trusted"\n')
    again = do_install("codex", home, project)
    assert not again.changed and not [n for n in again.notes if "trusted project" in n]
    assert set(codex_doctor(home, project).values()) == {"ok"}


def test_codex_trust_follows_a_symlinked_config(tmp_path: Path) -> None:
    dotfiles = tmp_path / "dotfiles/codex.toml"
    dotfiles.parent.mkdir()
    dotfiles.write_text('model = "o3"\n')
    link = codex_config(tmp_path)
    link.parent.mkdir()
    link.symlink_to(dotfiles)
    do_install("codex", tmp_path)
    assert link.is_symlink() and "trusted_hash" in dotfiles.read_text()


# --- the CLI -----------------------------------------------------------------------------


def test_cli_install_json_then_idempotent_then_uninstall(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    runner = CliRunner()
    first = runner.invoke(app, ["install", "claude-code", "--json"])
    assert first.exit_code == 0, first.output
    data = json.loads(first.stdout)
    assert data["changed"] and data["path"] == str(tmp_path / ".claude/settings.json")
    assert data["command"].endswith(" hook claude-code")
    assert os.path.isabs(data["command"].split()[0])
    second = runner.invoke(app, ["install", "claude-code", "--json"])
    assert json.loads(second.stdout)["changed"] is False
    gone = runner.invoke(app, ["uninstall", "claude-code", "--json"])
    assert json.loads(gone.stdout)["changed"] is True
    assert read(tmp_path / ".claude/settings.json") == {}


def test_cli_codex_reports_the_trust_it_records(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("CODEX_HOME", raising=False)
    runner = CliRunner()
    shown = runner.invoke(app, ["install", "codex"])
    assert shown.exit_code == 0, shown.output
    assert f"recorded Codex's trust in exactly these hooks in {codex_config(tmp_path)}" in (
        shown.stdout
    )
    data = json.loads(runner.invoke(app, ["install", "codex", "--json"]).stdout)
    assert data["changed"] is False and data["trust"]["changed"] is False
    assert data["trust"]["path"] == str(codex_config(tmp_path))
    assert {r["key"]: r["trusted_hash"] for r in data["trust"]["records"]} == {
        k: v["trusted_hash"] for k, v in trust_state(tmp_path).items()
    }
    gone = json.loads(runner.invoke(app, ["uninstall", "codex", "--json"]).stdout)
    assert gone["trust"]["records"] == [] and len(gone["trust"]["removed"]) == len(CODEX_EVENTS)
    claude = json.loads(runner.invoke(app, ["install", "claude-code", "--json"]).stdout)
    assert claude["trust"] is None


def test_cli_project_option(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    project = tmp_path / "proj"
    project.mkdir()
    result = CliRunner().invoke(app, ["install", "codex", "--project", str(project)])
    assert result.exit_code == 0, result.output
    assert (project / ".codex/hooks.json").exists()
    both = CliRunner().invoke(app, ["install", "codex", "--project", str(project), "--user"])
    assert both.exit_code == 2


def test_cli_refuses_invalid_json_with_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    path = tmp_path / ".gemini/settings.json"
    path.parent.mkdir()
    path.write_text("{oops")
    result = CliRunner().invoke(app, ["install", "gemini"])
    assert result.exit_code == 2
    assert "not valid JSON" in result.stderr and path.read_text() == "{oops"


def test_cli_unknown_harness(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    result = CliRunner().invoke(app, ["install", "cursor"])
    assert result.exit_code == 1 and "unknown harness 'cursor'" in result.stderr
