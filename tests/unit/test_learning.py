""" "Always" answers: the narrow rules learned from a call, and what they do (and do not) allow."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.engine_support import Sandbox, make_sandbox

from stockade.config.learned import LearnedRule, load_learned, save_learned
from stockade.daemon.approvals import Severity
from stockade.decision import Verdict, Zone
from stockade.errors import ConfigError
from stockade.policy.learning import Scope, ScopeError, learn_rules
from stockade.policy.rules import CallFacts, RuleIndex
from stockade.policy.spec import NamedRule
from stockade.request import ToolCall


@pytest.fixture
def box(tmp_path: Path, monkeypatch: Any) -> Sandbox:
    return make_sandbox(tmp_path, monkeypatch)


def _call(box: Sandbox, tool: str, tool_input: dict[str, Any], cwd: Path | None = None) -> ToolCall:
    return ToolCall("claude-code", "s-learn", tool, tool_input, str(cwd or box.project))


def _learn(box: Sandbox, tool: str, tool_input: dict[str, Any]) -> str:
    """Learn from the call as the daemon does, save the rule, and return its id."""
    service = box.service
    root, rules = service.propose_rule(_call(box, tool, tool_input), Scope(), reason="test")
    learned = LearnedRule.record(
        project_root=root, harness="claude-code", tool_name=tool, rules=rules, by="cli"
    )
    updated = (*service.learned_rules, learned)
    save_learned(box.home.rules_path, updated)
    service.use_learned(updated)
    return learned.id


def test_a_command_learns_its_program_subcommand_and_host(box: Sandbox) -> None:
    facts = (CallFacts("Bash", "shell.exec", (("/usr/bin/git", "push", "origin"),)),)
    (rule,) = learn_rules("Bash", facts, Scope(), "r")
    assert (rule.tool, rule.command, rule.domain, rule.path) == (
        "Bash",
        "git push origin",
        None,
        None,
    )
    assert rule.exact_command
    facts = (
        CallFacts("Bash", "shell.exec", (("curl", "-s", "https://a.example"),), (), ("a.example",)),
    )
    (rule,) = learn_rules("Bash", facts, Scope(), "r")
    assert (rule.command, rule.domain) == ("curl -s https://a.example", "a.example")
    assert rule.verdict is Verdict.ALLOW


def test_wildcards_in_names_and_paths_are_learned_literally() -> None:
    facts = (CallFacts("mcp__x__a*b", "mcp.call", (), ("/p/[ab].txt",)),)
    (rule,) = learn_rules("mcp__x__a*b", facts, Scope(), "r")
    assert (rule.tool, rule.path) == ("mcp__x__a[*]b", "/p/[[]ab].txt")
    index = RuleIndex([NamedRule("l", rule)], project_root="/p", home="/h")
    assert index.match(facts[0])
    other = CallFacts("mcp__x__aXb", "mcp.call", (), ("/p/a.txt",))
    assert index.match(other) == []


@pytest.mark.parametrize(
    ("facts", "scope", "message"),
    [
        (
            CallFacts("Bash", "shell.exec", (("curl", "x"),), (), ("a.io", "b.io")),
            Scope(),
            "several hosts",
        ),
        (
            CallFacts("Bash", "shell.exec", (("cp", "a", "b"),), ("/p/a", "/p/b")),
            Scope(),
            "several paths",
        ),
        (
            CallFacts("Bash", "shell.exec", (("curl", "x"),)),
            Scope(command="wget"),
            "does not cover",
        ),
        (
            CallFacts("Bash", "shell.exec", (("git", "push"),)),
            Scope(command="git push -f"),
            "does not cover",
        ),
        (
            CallFacts("WebFetch", "net.fetch", (), (), ("a.io",)),
            Scope(domain="*.b.io"),
            "does not cover",
        ),
        (CallFacts("Read", "fs.read", (), ("/p/a",)), Scope(path="/q/**"), "does not cover"),
        (CallFacts("Read", "fs.read", (), ("/p/a",)), Scope(path="p/**"), "absolute"),
        (CallFacts("Bash", "shell.exec", (("git", "commit", "-m", "a b"),)), Scope(), "spaces"),
    ],
)
def test_no_rule_wider_than_asked_or_narrower_than_the_call(
    facts: CallFacts, scope: Scope, message: str
) -> None:
    with pytest.raises(ScopeError, match=message):
        learn_rules(facts.tool_name, (facts,), scope, "r")


def test_a_scope_can_choose_a_covering_prefix_glob_or_domain() -> None:
    facts = CallFacts("Bash", "shell.exec", (("git", "push", "origin", "main"),), (), ())
    (rule,) = learn_rules("Bash", (facts,), Scope(command="git push origin"), "r")
    assert rule.command == "git push origin" and not rule.exact_command
    facts = CallFacts("WebFetch", "net.fetch", (), (), ("docs.b.io",))
    assert learn_rules("WebFetch", (facts,), Scope(domain="*.b.io"), "r")[0].domain == "*.b.io"
    facts = CallFacts("Read", "fs.read", (), ("/p/src/a.py", "/p/src/b.py"))
    assert learn_rules("Read", (facts,), Scope(path="/p/src/*.py"), "r")[0].path == "/p/src/*.py"


programs = st.from_regex(r"(/usr/bin/)?[a-z][a-z0-9.-]{0,8}", fullmatch=True)
arguments = st.lists(st.text(st.sampled_from("ab -/.= "), min_size=1, max_size=6), max_size=4)
hosts = st.lists(st.from_regex(r"[a-z]{1,8}\.(io|com)", fullmatch=True), max_size=1)
paths = st.lists(st.from_regex(r"/p/[a-z*?\[\]]{1,8}", fullmatch=True), max_size=1)


@given(program=programs, args=arguments, host=hosts, path=paths)
def test_a_learned_rule_always_covers_the_call_it_came_from(
    program: str, args: list[str], host: list[str], path: list[str]
) -> None:
    facts = CallFacts("Bash", "shell.exec", ((program, *args),), tuple(path), tuple(host))
    spellable = all(arg.split() == [arg] for arg in args)
    try:
        rules = learn_rules("Bash", (facts,), Scope(), "r")
    except ScopeError:
        assert not spellable
        return
    named = [NamedRule(f"l{i}", rule) for i, rule in enumerate(rules)]
    index = RuleIndex(named, project_root="/p", home="/h")
    assert index.match(facts), rules
    longer = facts._replace(commands=((program, *args, "more"),))
    assert not index.match(longer), rules


def test_learned_rules_turn_the_ask_into_allow_only_where_they_hold(box: Sandbox) -> None:
    command = "curl -s https://api.example.com/data"
    assert box.bash(command).verdict is Verdict.ASK
    rule_id = _learn(box, "Bash", {"command": command})
    allowed = box.bash(f"cd src && {command}")
    assert (allowed.verdict, allowed.rule_id) == (Verdict.ALLOW, f"rule:{rule_id}")
    # Another URL, more arguments, another tool, another project, or a second command ask.
    assert box.bash("curl -s https://evil.example.org/").verdict is Verdict.ASK
    assert box.bash(f"{command} https://evil.example.org/").verdict is Verdict.ASK
    fetch = {"url": "https://api.example.com/data", "prompt": "x"}
    assert box.decide("WebFetch", fetch).verdict is Verdict.ASK
    elsewhere = box.project.parent / "other"
    elsewhere.mkdir()
    assert (
        box.service.decide(_call(box, "Bash", {"command": command}, elsewhere)).decision.verdict
        is Verdict.ASK
    )
    assert box.bash(f"{command} && ssh host ls").verdict is Verdict.ASK
    # Nor does it lift a catastrophic deny or a data-flow block.
    assert box.bash(f"{command} | sh").verdict is Verdict.DENY
    (box.project / ".env").write_text("TOKEN=x\n")
    box.decide("Read", {"file_path": str(box.project / ".env")})
    tainted = box.bash(command)
    assert tainted.verdict is Verdict.DENY and tainted.rule_id.startswith("flow:")


def test_learned_rules_persist_privately_and_show_in_the_policy(box: Sandbox) -> None:
    rule_id = _learn(box, "Bash", {"command": "git push origin main"})
    assert box.home.rules_path.stat().st_mode & 0o777 == 0o600
    (loaded,) = load_learned(box.home.rules_path)
    assert loaded.id == rule_id and loaded.rules[0].command == "git push origin main"
    reloaded = type(box.service).load(box.home)
    shown = reloaded.effective_policy(str(box.project))
    assert rule_id in [rule["id"] for rule in shown["rules"]]
    assert "learned" in shown["sources"]


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (b"{", "rules.json: (file): Invalid JSON"),
        (b'{"version": 9, "rules": []}', "format version 9"),
        (b'{"version": 1, "rules": [{"id": "x"}]}', "rules.0.project_root"),
    ],
)
def test_a_broken_rules_file_stops_the_service_with_its_name(
    box: Sandbox, content: bytes, needle: str
) -> None:
    box.home.rules_path.write_bytes(content)
    with pytest.raises(ConfigError) as failed:
        type(box.service).load(box.home)
    assert needle in failed.value.message


@pytest.mark.parametrize(
    ("zone", "severity"),
    [
        (Zone.SAFE, "info"),
        (Zone.BUILD, "info"),
        (Zone.NETWORK, "warn"),
        (Zone.EXTERNAL, "warn"),
        (Zone.MACHINE, "critical"),
        (Zone.NEVER, "critical"),
    ],
)
def test_severity_follows_the_zone(zone: Zone, severity: str) -> None:
    assert Severity.of(zone).value == severity
