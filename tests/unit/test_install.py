"""``stockade install`` / ``uninstall`` on a temporary HOME: merge, backup, idempotence, refusal."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from stockade.cli.main import app
from stockade.errors import ConfigError
from stockade.install import install, settings_path, uninstall
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
