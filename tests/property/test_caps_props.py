"""A shell-prefix grant never covers a compound command with a part it does not name.

Commands are built from a few programs (``git`` next to ``gitx``, ``ls`` next to
``lsblk``), some under a wrapper (``sudo``, ``timeout 5`` …), joined by every control
operator and nested in command substitutions; the
grant names a random subset of the programs. The call is covered exactly when every
program the command runs is granted, whatever the nesting.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from stockade.caps.grant import Constraints, make_grant
from stockade.caps.match import GrantSet
from stockade.policy.inspect import shell_facts
from stockade.policy.rules import CallFacts
from stockade.request import ToolCall

PROGRAMS = ["git", "gitx", "ls", "lsblk", "rm", "make", "cat", "echo"]
WRAPPERS = {"sudo": "sudo", "timeout 5": "timeout", "env X=1": "env", "nohup": "nohup"}
OPERATORS = ["&&", "||", ";", "|", "&"]


@st.composite
def commands(draw: st.DrawFn) -> tuple[str, set[str]]:
    """A compound command and the programs it runs."""
    parts: list[str] = []
    used: set[str] = set()
    for _ in range(draw(st.integers(1, 4))):
        program = draw(st.sampled_from(PROGRAMS))
        used.add(program)
        part = f"{program} {draw(st.sampled_from(['-la', 'status', 'x', '']))}".strip()
        wrapper = draw(st.sampled_from([None, *WRAPPERS]))
        if wrapper is not None:
            used.add(WRAPPERS[wrapper])
            part = f"{wrapper} {part}"
        if draw(st.booleans()):
            inner = draw(st.sampled_from(PROGRAMS))
            used.add(inner)
            part = f'{part} "$({inner} y)"'
        parts.append(part)
    line = parts[0]
    for part in parts[1:]:
        line += f" {draw(st.sampled_from(OPERATORS))} {part}"
    return line, used


@settings(max_examples=300, deadline=None)
@given(commands(), st.sets(st.sampled_from(PROGRAMS + sorted(set(WRAPPERS.values())))))
def test_a_prefix_grant_covers_a_command_exactly_when_it_names_every_part(
    command: tuple[str, set[str]], granted: set[str]
) -> None:
    line, used = command
    _, parts = shell_facts(line, "/home/dev", "/home/dev/.stockade")
    facts = [
        CallFacts(
            "Bash",
            "shell.exec",
            commands=(p.facts.command.argv,),
            wrappers=(p.facts.command.wrappers,),
        )
        for p in parts
    ]
    grants = GrantSet("bot", [])
    if granted:
        commands_ = tuple(sorted(granted))
        grants = GrantSet(
            "bot", [make_grant("shell.exec", Constraints(commands=commands_), user_home="/")]
        )
    call = ToolCall("claude-code", "s", "Bash", {"command": line}, "/tmp")
    missing = grants.missing(call, "shell.exec", facts)
    if used <= granted:
        assert missing is None, (line, granted)
    else:
        assert missing is not None, (line, granted)
        assert missing.split("'")[1] in used - granted
