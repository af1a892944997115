"""Compiled indexes over rules, so that a decision never loops over every rule.

Each rule is filed under its most selective condition — a command prefix in a word
trie, a domain in a host/suffix table, a path glob under its literal directory, a
tool name in a dict — and a call only tests the rules its own facts can reach.
Candidates are then checked against *all* their conditions.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from stockade.policy.actions import GROUPS
from stockade.policy.globs import compile_glob, has_glob, literal_dir_prefix, literal_prefix
from stockade.policy.spec import NamedRule


class CallFacts(NamedTuple):
    """What a call touches, as the rule conditions see it."""

    tool_name: str
    action: str
    commands: tuple[tuple[str, ...], ...] = ()
    paths: tuple[str, ...] = ()
    hosts: tuple[str, ...] = ()
    # The wrappers each command ran under (``sudo``, ``env``, ``timeout`` …), stripped from
    # its argv; rules ignore them, capability grants must cover them too.
    wrappers: tuple[tuple[str, ...], ...] = ()


class NameMatcher:
    """Matches a tool by exact name, canonical action, ``group:*`` or glob."""

    def __init__(self, patterns: Iterable[str]) -> None:
        self.names: dict[str, str] = {}
        self.actions: dict[str, str] = {}
        globs: list[tuple[str, re.Pattern[str]]] = []
        for pattern in patterns:
            if pattern in GROUPS:
                for action in GROUPS[pattern]:
                    self.actions.setdefault(action, pattern)
            elif has_glob(pattern):
                globs.append((pattern, compile_glob(pattern)))
            else:
                self.names.setdefault(pattern, pattern)
                if "." in pattern:
                    self.actions.setdefault(pattern, pattern)
        self._globs = globs
        self._combined = (
            re.compile("|".join(f"(?:{g.pattern})" for _, g in globs)) if globs else None
        )

    def match(self, tool_name: str, action: str) -> str | None:
        """The pattern that matches, or ``None``."""
        hit = self.names.get(tool_name) or self.actions.get(action)
        if hit is not None:
            return hit
        if self._combined is None:
            return None
        for subject in (tool_name, action):
            if self._combined.match(subject):
                for pattern, regex in self._globs:
                    if regex.match(subject):
                        return pattern
        return None


@dataclass(slots=True)
class _TrieNode:
    children: dict[str, _TrieNode] = field(default_factory=dict)
    rules: list[int] = field(default_factory=list)


class RuleIndex:
    """All rules of a policy, filed for lookup by the facts of a call."""

    def __init__(self, rules: Sequence[NamedRule], *, project_root: str, home: str) -> None:
        self.rules = tuple(rules)
        self._always: list[int] = []
        self._by_tool: dict[str, list[int]] = defaultdict(list)
        self._by_action: dict[str, list[int]] = defaultdict(list)
        self._tool_prefixes: dict[str, list[int]] = defaultdict(list)
        self._trie = _TrieNode()
        self._hosts: dict[str, list[int]] = defaultdict(list)
        self._suffixes: dict[str, list[int]] = defaultdict(list)
        self._path_dirs: dict[str, list[int]] = defaultdict(list)
        self._tool_matchers: list[NameMatcher | None] = []
        self._path_regexes: list[re.Pattern[str] | None] = []
        for index, named in enumerate(self.rules):
            rule = named.rule
            tool_patterns = [p for p in (rule.tool, rule.action) if p]
            self._tool_matchers.append(NameMatcher(tool_patterns) if tool_patterns else None)
            path_glob = _anchor(rule.path, project_root, home) if rule.path else None
            self._path_regexes.append(compile_glob(path_glob) if path_glob else None)
            if rule.command:
                node = self._trie
                for word in rule.command.split():
                    node = node.children.setdefault(word, _TrieNode())
                node.rules.append(index)
            elif rule.domain:
                domain = rule.domain.lower().rstrip(".")
                if domain.startswith("*."):
                    self._suffixes[domain[2:]].append(index)
                else:
                    self._hosts[domain].append(index)
            elif path_glob:
                self._path_dirs[literal_dir_prefix(path_glob)].append(index)
            elif rule.tool:
                prefix = literal_prefix(rule.tool)
                if prefix == rule.tool:
                    self._by_tool[rule.tool].append(index)
                elif prefix:
                    self._tool_prefixes[prefix].append(index)
                else:
                    self._always.append(index)
            elif rule.action and not has_glob(rule.action):
                for action in GROUPS.get(rule.action, frozenset({rule.action})):
                    self._by_action[action].append(index)
            else:
                self._always.append(index)

        # Only prefix lengths and directory depths that some rule uses can ever hit.
        self._prefix_lengths = sorted({len(prefix) for prefix in self._tool_prefixes})
        self._dir_depths = sorted({_depth(directory) for directory in self._path_dirs})

    def match(self, facts: CallFacts) -> list[NamedRule]:
        """Every rule whose conditions all hold for ``facts``, in definition order."""
        found: list[list[int]] = []
        if self._always:
            found.append(self._always)
        for table, key in ((self._by_tool, facts.tool_name), (self._by_action, facts.action)):
            hit = table.get(key)
            if hit:
                found.append(hit)
        if self._tool_prefixes:
            name = facts.tool_name
            for end in self._prefix_lengths:
                hit = self._tool_prefixes.get(name[:end])
                if hit:
                    found.append(hit)
        for argv in facts.commands:
            node = self._trie
            for word in command_words(argv):
                child = node.children.get(word)
                if child is None:
                    break
                node = child
                if node.rules:
                    found.append(node.rules)
        for host in facts.hosts:
            hit = self._hosts.get(host)
            if hit:
                found.append(hit)
            labels = host.split(".")
            for start in range(1, len(labels)):
                hit = self._suffixes.get(".".join(labels[start:]))
                if hit:
                    found.append(hit)
        path_dirs = self._path_dirs
        if path_dirs:
            for path in facts.paths:
                parts = path.split("/")
                for depth in self._dir_depths:
                    if depth <= len(parts):
                        hit = path_dirs.get("/".join(parts[:depth]) or "/")
                        if hit:
                            found.append(hit)
        if not found:
            return []
        candidates = sorted({index for group in found for index in group})
        return [self.rules[i] for i in candidates if self._holds(i, facts)]

    def _holds(self, index: int, facts: CallFacts) -> bool:
        rule = self.rules[index].rule
        matcher = self._tool_matchers[index]
        if matcher is not None and matcher.match(facts.tool_name, facts.action) is None:
            return False
        if rule.command:
            words = rule.command.split()
            if rule.exact_command:
                if not any(command_words(argv) == words for argv in facts.commands):
                    return False
            elif not any(command_words(argv)[: len(words)] == words for argv in facts.commands):
                return False
        if rule.domain and not any(domain_matches(rule.domain, host) for host in facts.hosts):
            return False
        regex = self._path_regexes[index]
        return regex is None or any(regex.match(path) for path in facts.paths)


def command_words(argv: tuple[str, ...]) -> list[str]:
    """The words a command prefix is matched against: the program without its directory."""
    if not argv:
        return []
    return [argv[0].rsplit("/", 1)[-1], *argv[1:]]


def domain_matches(pattern: str, host: str) -> bool:
    """Whether ``host`` is ``pattern``, or under it when the pattern is ``*.example.com``."""
    pattern = pattern.lower().rstrip(".")
    if pattern.startswith("*."):
        return host.endswith(pattern[1:])
    return host == pattern


def _anchor(pattern: str, project_root: str, home: str) -> str:
    if pattern.startswith("~/"):
        return home.rstrip("/") + pattern[1:]
    if pattern.startswith("/"):
        return pattern
    return project_root.rstrip("/") + "/" + pattern


def _depth(directory: str) -> int:
    """How many ``/``-separated parts the directory has ("/" is 1, "/opt" is 2)."""
    return 1 if directory == "/" else len(directory.rstrip("/").split("/"))
