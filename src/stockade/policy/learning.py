"""An "always" answer turned into the narrowest allow rules that cover the call again.

A human who approves a held call with *always* means "this kind of call, here" — not
"this tool, anywhere, with anything". So each part of the call (a subject, as the
engine splits it: one command of a compound line, one path, one URL) becomes one rule
that holds only for the call's exact tool name and only in its project, with every
fact the subject has:

- a command: exactly that command, word for word (``git push origin main`` allows
  that, not ``git push --force``, and not ``git push origin main extra-args``);
- a host: that exact host;
- a path: that exact path.

The conditions of one rule must all hold. A :class:`Scope` may widen the command to a
prefix (``git push`` then matches any push), or set a path glob or domain, but only to
one that still covers the call it answers. A subject that touches several hosts or
paths has no single narrow rule; "always" is then refused (approve once instead).

What a learned rule can do is what any allow rule can (``engine.py``): it covers the
asks of its own subject, never a deny, never a ``tools.ask`` entry or an ``ask`` rule,
and never a data-flow block.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from stockade.config.model import Rule
from stockade.decision import Verdict
from stockade.policy.globs import compile_glob, escape_glob, has_glob
from stockade.policy.rules import CallFacts, command_words, domain_matches


class ScopeError(ValueError):
    """No narrow rule covers this call (or the requested scope does not cover it)."""


@dataclass(frozen=True, slots=True)
class Scope:
    """A user's choice of how wide an "always" rule is; unset fields take the default."""

    command: str | None = None
    path: str | None = None
    domain: str | None = None


def learn_rules(
    tool_name: str, subjects: Sequence[CallFacts], scope: Scope, reason: str
) -> list[Rule]:
    """One allow rule per distinct subject of the call; raises :class:`ScopeError`."""
    rules: list[Rule] = []
    for facts in dict.fromkeys(subjects):
        command, exact = _command(facts, scope)
        rule = Rule(
            verdict=Verdict.ALLOW,
            tool=escape_glob(tool_name),
            command=command,
            exact_command=exact,
            domain=_domain(facts, scope),
            path=_path(facts, scope),
            reason=reason,
        )
        if rule not in rules:
            rules.append(rule)
    if not rules:
        rules.append(Rule(verdict=Verdict.ALLOW, tool=escape_glob(tool_name), reason=reason))
    return rules


def _command(facts: CallFacts, scope: Scope) -> tuple[str | None, bool]:
    """The command condition and whether it must match exactly."""
    argvs = {tuple(command_words(argv)) for argv in facts.commands if argv}
    if not argvs:
        return None, False
    if len(argvs) > 1:
        raise ScopeError("one part of this call runs several commands; approve it once instead")
    (words,) = argvs
    if scope.command is None:
        if any(word.split() != [word] for word in words):
            raise ScopeError(
                "the command has an argument with spaces, which a rule cannot spell; "
                "choose a prefix before it"
            )
        return " ".join(words), True
    wanted = tuple(scope.command.split())
    if not wanted or words[: len(wanted)] != wanted:
        raise ScopeError(f"the command prefix {scope.command!r} does not cover the held command")
    return " ".join(wanted), False


def _domain(facts: CallFacts, scope: Scope) -> str | None:
    hosts = set(facts.hosts)
    if not hosts:
        return None
    if scope.domain is not None:
        if not all(domain_matches(scope.domain, host) for host in hosts):
            raise ScopeError(f"the domain {scope.domain!r} does not cover the held call's hosts")
        return scope.domain.lower().rstrip(".")
    if len(hosts) > 1:
        raise ScopeError("this call reaches several hosts; approve it once instead")
    return hosts.pop()


def _path(facts: CallFacts, scope: Scope) -> str | None:
    paths = set(facts.paths)
    if not paths:
        return None
    if scope.path is not None:
        if not scope.path.startswith("/"):
            raise ScopeError("a path scope must be an absolute glob")
        regex = compile_glob(scope.path)
        if not all(regex.match(path) for path in paths):
            raise ScopeError(f"the path glob {scope.path!r} does not cover the held call's paths")
        return scope.path
    if len(paths) > 1:
        raise ScopeError("this call touches several paths; approve it once instead")
    path = paths.pop()
    return escape_glob(path) if has_glob(path) else path
