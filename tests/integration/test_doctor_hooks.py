"""``stockade install`` then ``stockade doctor``, both as the real console script, fresh HOME.

What a user does: hook a harness, ask the doctor, break the settings file the way an
editor or another tool does, ask again. The doctor must go from ok to a failing exit
code that names the file, without a daemon running.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from stockade.home import Home

pytestmark = pytest.mark.integration

STOCKADE = str(Path(sys.executable).parent / "stockade")


@pytest.fixture
def user_env(tmp_path: Path, home: Home) -> dict[str, str]:
    """A clean environment with a fresh HOME (no inherited CODEX_HOME & co.)."""
    user = tmp_path / "user"
    (user / "proj").mkdir(parents=True)
    return {
        "HOME": str(user),
        "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "COLUMNS": "250",  # usage errors come in a box: keep their text on one line
        "STOCKADE_HOME": str(home.root),
    }


def stockade(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [STOCKADE, *args],
        env=env,
        cwd=Path(env["HOME"]) / "proj",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def doctor(env: dict[str, str]) -> tuple[int, dict[str, dict[str, Any]]]:
    result = stockade(env, "doctor", "--json")
    report = json.loads(result.stdout)
    assert report["ok"] is (result.returncode == 0)
    return result.returncode, {check["id"]: check for check in report["checks"]}


@pytest.mark.parametrize("harness", ["claude-code", "gemini"])
def test_install_then_break_the_settings_file(harness: str, user_env: dict[str, str]) -> None:
    installed = stockade(user_env, "install", harness, "--user", "--json")
    assert installed.returncode == 0, installed.stderr
    path = Path(json.loads(installed.stdout)["path"])

    code, checks = doctor(user_env)
    assert code == 0
    assert checks[f"hooks.{harness}.user"]["status"] == "ok"
    assert checks["daemon.running"]["status"] == "warn"  # the doctor needs no daemon

    path.write_text(path.read_text()[:-5])  # a truncated write
    code, checks = doctor(user_env)
    broken = checks[f"hooks.{harness}.user"]
    assert code == 1
    assert broken["status"] == "fail"
    assert str(path) in broken["message"] and "not valid JSON" in broken["message"]
    assert f"stockade install {harness}" in broken["fix"]


def test_codex_install_records_codex_trust_so_doctor_passes(user_env: dict[str, str]) -> None:
    installed = stockade(user_env, "install", "codex", "--user", "--json")
    assert installed.returncode == 0, installed.stderr
    assert json.loads(installed.stdout)["trust"]["changed"] is True

    code, checks = doctor(user_env)
    assert checks["hooks.codex.user"]["status"] == "ok"
    assert checks["hooks.codex.user.trust"]["status"] == "ok"
    assert code == 0

    config = Path(user_env["HOME"]) / ".codex" / "config.toml"
    config.write_text("")  # the trust lost (Codex's TUI would ask again; `codex exec` won't)
    code, checks = doctor(user_env)
    assert checks["hooks.codex.user.trust"]["status"] == "fail"
    assert code == 1


def test_doctor_checks_the_project_given(user_env: dict[str, str], tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    assert stockade(user_env, "install", "claude-code", "--project", str(elsewhere)).returncode == 0
    (elsewhere / ".claude" / "settings.json").write_text("[]")

    code, checks = doctor(user_env)  # the current directory has no project settings
    assert "hooks.claude-code.project" not in checks

    result = stockade(user_env, "doctor", "--json", "--project", str(elsewhere))
    project = {c["id"]: c for c in json.loads(result.stdout)["checks"]}["hooks.claude-code.project"]
    assert result.returncode == 1 and project["status"] == "fail"
    assert f"--project {elsewhere}" in project["fix"]

    missing = stockade(user_env, "doctor", "--project", str(tmp_path / "nope"))
    assert missing.returncode == 2 and "not a directory" in missing.stderr
