"""Configuration: validation errors, project files that may only tighten, and trust."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from tests.engine_support import Sandbox, make_sandbox

from stockade.config import TrustStore, settings_json_schema
from stockade.config.load import load_settings
from stockade.decision import Verdict
from stockade.errors import ConfigError
from stockade.home import Home
from stockade.service import POLICY_RECHECK_S, DecisionService


@pytest.fixture
def box(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Sandbox:
    return make_sandbox(tmp_path, monkeypatch)


@pytest.mark.parametrize(
    ("toml", "needle"),
    [
        ('level = "lenient"\n', "key `level`"),
        ("levle = 'strict'\n", "key `levle`: unknown key"),
        ("[tools]\nallow = 5\n", "key `tools.allow`"),
        ("[[rules]]\nverdict = 'maybe'\n", "key `rules.0.verdict`"),
        ("level = \n", "invalid TOML"),
        ("[projects.relative]\nlevel = 'strict'\n", "must be absolute"),
    ],
)
def test_invalid_config_names_file_key_and_problem(box: Sandbox, toml: str, needle: str) -> None:
    box.configure(toml)
    with pytest.raises(ConfigError) as info:
        DecisionService.load(box.home)
    assert str(box.home.config_path) in info.value.message
    assert needle in info.value.message


def test_reload_keeps_running_policy_when_new_one_is_invalid(box: Sandbox) -> None:
    box.configure('level = "paranoid"\n')
    service = box.service
    box.home.config_path.write_text('level = "nope"\n')
    with pytest.raises(ConfigError):
        service.reload()
    assert service.effective_policy()["level"] == "paranoid"
    box.home.config_path.write_text('level = "strict"\n')
    service.reload()
    assert service.effective_policy()["level"] == "strict"


def write_project_file(box: Sandbox, toml: str) -> None:
    (box.project / ".stockade.toml").write_text(toml)


def test_project_file_can_tighten(box: Sandbox) -> None:
    write_project_file(
        box, '[[rules]]\nverdict = "deny"\ncommand = "npm publish"\n[tools]\nask = ["Write"]\n'
    )
    assert box.bash("npm publish").verdict is Verdict.DENY
    write = box.decide("Write", {"file_path": str(box.project / "a.txt"), "content": ""})
    assert write.verdict is Verdict.ASK


@pytest.mark.parametrize(
    "toml",
    [
        'level = "permissive"\n',
        'profile = "full"\n',
        "workspace_only_writes = false\n",
        '[tools]\nallow = ["FrobnicateTool"]\n',
        '[[rules]]\nverdict = "allow"\ncommand = "curl"\n',
        '[network]\nallow_domains = ["evil.example"]\n',
        "[network]\nallow_http = true\n",
        '[credentials]\npatterns = ["!.env"]\n',
    ],
)
def test_project_file_cannot_loosen_untrusted(box: Sandbox, toml: str) -> None:
    write_project_file(box, toml)
    decision = box.bash("ls")
    assert decision.verdict is Verdict.DENY
    assert decision.rule_id == "config:invalid"
    assert "stockade trust" in decision.reason or "loosen" in decision.reason


def test_trust_allows_loosening_until_the_file_changes(box: Sandbox) -> None:
    write_project_file(box, '[[rules]]\nverdict = "allow"\ncommand = "curl"\n')
    assert box.bash("curl https://example.com").verdict is Verdict.DENY
    TrustStore(box.home).trust(box.project)
    assert box.bash("curl https://example.com").verdict is Verdict.ALLOW
    write_project_file(box, '[[rules]]\nverdict = "allow"\ncommand = "wget"\n')
    assert box.bash("curl https://example.com").rule_id == "config:invalid"
    assert TrustStore(box.home).revoke(box.project)


def test_policy_files_are_looked_at_again_after_the_recheck_period(box: Sandbox) -> None:
    """Within ``POLICY_RECHECK_S`` the policy already accepted applies (no ``stat`` per
    call); after it an edit counts: a tightening one applies, a loosening one is refused."""
    now = [0.0]
    box._service = DecisionService.load(box.home, clock=lambda: now[0])
    assert box.bash("git status").verdict is Verdict.ALLOW
    write_project_file(box, '[[rules]]\nverdict = "deny"\ncommand = "git status"\n')
    now[0] += POLICY_RECHECK_S * 0.9
    assert box.bash("git status").verdict is Verdict.ALLOW
    now[0] += POLICY_RECHECK_S * 0.2
    assert box.bash("git status").verdict is Verdict.DENY
    write_project_file(box, '[[rules]]\nverdict = "allow"\ncommand = "curl"\n')
    assert box.bash("git status").verdict is Verdict.DENY  # the accepted policy, until...
    now[0] += POLICY_RECHECK_S
    assert box.bash("git status").rule_id == "config:invalid"


def test_trust_store_is_private(box: Sandbox) -> None:
    write_project_file(box, 'level = "strict"\n')
    digest = TrustStore(box.home).trust(box.project)
    assert os.stat(box.home.trust_path).st_mode & 0o777 == 0o600
    assert json.loads(box.home.trust_path.read_text()) == {str(box.project): digest}


def test_project_ignore_file_may_not_exempt(box: Sandbox) -> None:
    (box.project / ".stockadeignore").write_text("!.env\n")
    assert box.bash("ls").rule_id == "config:invalid"
    (box.project / ".stockadeignore").write_text("*.db\n")
    assert box.decide("Read", {"file_path": str(box.project / "x.db")}).verdict is Verdict.ASK


def test_published_schema_is_current() -> None:
    published = Path(__file__).parents[2] / "docs" / "config.schema.json"
    assert json.loads(published.read_text()) == settings_json_schema()


@pytest.mark.parametrize(
    ("toml", "needle"),
    [
        ('[credentials]\npatterns = ["*"]\n', "'*'"),
        ('[network]\nallow_domains = ["https://x.example"]\n', "https://x.example"),
        ('[agents.ci]\n[agents.ci.credentials]\npatterns = ["**"]\n', "agents.ci"),
        (
            '[projects."/srv/site"]\n[projects."/srv/site".credentials]\npatterns = ["*"]\n',
            "/srv/site",
        ),
    ],
)
def test_a_policy_that_does_not_compile_stops_loading(box: Sandbox, toml: str, needle: str) -> None:
    box.configure(toml)
    with pytest.raises(ConfigError) as info:
        DecisionService.load(box.home)
    assert "does not compile" in info.value.message and needle in info.value.message


def test_a_project_file_that_does_not_compile_is_a_config_deny(box: Sandbox) -> None:
    write_project_file(box, '[credentials]\npatterns = ["*"]\n')
    decision = box.bash("ls")
    assert decision.verdict is Verdict.DENY and decision.rule_id == "config:invalid"
    assert "does not compile" in decision.reason


def test_an_invalid_redaction_pattern_is_a_config_error(tmp_path: Path) -> None:
    home = Home(tmp_path / "home")
    home.ensure()
    home.config_path.write_text('[audit]\nredact_patterns = ["acme-("]\n')
    os.chmod(home.config_path, 0o600)
    with pytest.raises(ConfigError) as caught:
        load_settings(home)
    assert "redact_patterns" in str(caught.value.diagnostics())
