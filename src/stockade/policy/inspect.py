"""Inspectors: one per canonical action, turning tool input into findings.

This is the engine's extension point: a new action gets a new inspector in
:data:`INSPECTORS`, not a branch in the engine. Inspectors never decide; they say
what a call touches and how risky each part is.
"""

from __future__ import annotations

import posixpath
import re
import shlex
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from stockade.decision import Verdict, Zone
from stockade.policy import actions as A
from stockade.policy.commands import CommandFacts, analyze
from stockade.policy.compile import CompiledPolicy
from stockade.policy.findings import Analysis, Finding, Subject
from stockade.policy.paths import PathResolver, expand_home, is_within, protected_reason
from stockade.policy.rules import CallFacts
from stockade.policy.shell import ParsedCommand, parse
from stockade.request import ToolCall

_DISCARD_TARGETS = frozenset({"/dev/null", "/dev/stdout", "/dev/stderr", "/dev/tty"})
_URL = re.compile(r"""\b[a-z][a-z0-9+.-]*://[^\s"'<>`]+""", re.IGNORECASE)
_PATCH_PATH = re.compile(r"^\*\*\* (?:(?:Add|Update|Delete) File|Move to): (.+?)\s*$", re.M)
# `stockade` subcommands an agent may run; anything else could switch the guard off.
_SELF_READ_ONLY = frozenset({"status", "check", "policy", "version", "--version", "--help"})
_KILLERS = frozenset({"kill", "pkill", "killall"})
SOCKET_NAME = "stockade.sock"  # the name of Home.socket_path (a test pins the two together)
# Where a shell tool runs: Codex ``workdir``, Gemini ``dir_path`` (``directory`` before 0.61).
_WORKDIR_KEYS = ("workdir", "dir_path", "directory")
_PATH_KEYS = ("file_path", "path", "absolute_path", "notebook_path", "dir_path", "directory")


@dataclass(frozen=True, slots=True)
class Context:
    """What an inspector needs besides the call: the policy and resolved locations."""

    call: ToolCall
    action: str
    policy: CompiledPolicy
    resolver: PathResolver
    cwd: str
    root: str
    # One decision resolves each (path, base) once: compound commands repeat paths.
    resolved: dict[tuple[str, str], str] = field(default_factory=dict)

    def facts(self) -> CallFacts:
        return CallFacts(self.call.tool_name, self.action)

    def subject(self, analysis: Analysis, **facts: Any) -> Subject:
        subject = Subject(CallFacts(self.call.tool_name, self.action, **facts))
        analysis.subjects.append(subject)
        return subject

    def resolve(self, raw: str, base: str, subject: Subject) -> str | None:
        key = (raw, base)
        known = self.resolved.get(key)
        if known is not None:
            return known
        try:
            path = self.resolver.resolve(raw, base)
        except (ValueError, OSError) as exc:
            subject.findings.append(
                Finding(Zone.NEVER, "guard:path-invalid", f"unusable path: {exc}", Verdict.DENY)
            )
            return None
        self.resolved[key] = path
        return path


Inspector = Callable[[Context, Analysis], None]


def judge_read(ctx: Context, path: str, subject: Subject, analysis: Analysis) -> None:
    """Findings for reading the resolved ``path``."""
    if is_within(path, ctx.policy.stockade_home):
        subject.findings.append(
            Finding(Zone.NEVER, "guard:stockade-home", f"reads Stockade's own files: {path}")
        )
        return
    pattern = ctx.policy.credentials.match(path)
    if pattern is not None:
        analysis.credential_sources.append(f"{pattern}:{path}")
        subject.findings.append(
            Finding(
                Zone.MACHINE, "guard:credential-read", f"reads a credential ({pattern}): {path}"
            )
        )
    elif is_within(path, ctx.root):
        subject.findings.append(Finding(Zone.SAFE, "guard:read", f"reads {path}"))
    else:
        subject.findings.append(
            Finding(
                Zone.WORKSPACE, "guard:read-outside-project", f"reads outside the project: {path}"
            )
        )


def judge_write(ctx: Context, path: str, subject: Subject, analysis: Analysis) -> None:
    """Findings for writing, creating or deleting the resolved ``path``."""
    if path in _DISCARD_TARGETS or path.startswith("/dev/fd/"):
        return
    policy = ctx.policy
    protected = protected_reason(path, home=policy.home, stockade_home=policy.stockade_home)
    if protected is not None:
        subject.findings.append(
            Finding(Zone.NEVER, "guard:protected-config", f"writes {protected}: {path}")
        )
        return
    inside = is_within(path, ctx.root)
    if not inside and not any(is_within(path, d) for d in policy.spec.writable_dirs):
        analysis.writes_outside.append(path)
        verdict = Verdict.DENY if policy.spec.workspace_only_writes else None
        subject.findings.append(
            Finding(
                Zone.MACHINE,
                "guard:write-outside-project",
                f"writes outside the project ({ctx.root}): {path}",
                verdict,
            )
        )
    pattern = policy.credentials.match(path)
    if pattern is not None:
        subject.findings.append(
            Finding(
                Zone.MACHINE, "guard:credential-write", f"writes a credential ({pattern}): {path}"
            )
        )
    elif inside:
        subject.findings.append(Finding(Zone.WORKSPACE, "guard:write", f"writes {path}"))


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


def _input_paths(tool_input: Mapping[str, Any]) -> list[str]:
    paths = [tool_input[key] for key in _PATH_KEYS if isinstance(tool_input.get(key), str)]
    many = tool_input.get("paths")
    if isinstance(many, list):
        paths.extend(item for item in many if isinstance(item, str))
    return paths


Judge = Callable[[Context, str, Subject, Analysis], None]


def _judge_each(ctx: Context, analysis: Analysis, raw_paths: list[str], judge: Judge) -> None:
    """One subject per path named in the input, resolved against the cwd and judged."""
    for raw in raw_paths:
        subject = ctx.subject(analysis)
        path = ctx.resolve(raw, ctx.cwd, subject)
        if path is not None:
            subject.facts = CallFacts(ctx.call.tool_name, ctx.action, paths=(path,))
            judge(ctx, path, subject, analysis)


def inspect_fs_read(ctx: Context, analysis: Analysis) -> None:
    _judge_each(ctx, analysis, _input_paths(ctx.call.tool_input) or [ctx.cwd], judge_read)


def inspect_fs_search(ctx: Context, analysis: Analysis) -> None:
    tool_input = ctx.call.tool_input
    roots = _input_paths(tool_input) or [ctx.cwd]
    patterns = [
        tool_input[k] for k in ("pattern", "glob", "include") if isinstance(tool_input.get(k), str)
    ]
    for raw_root in roots:
        subject = ctx.subject(analysis)
        root = ctx.resolve(raw_root, ctx.cwd, subject)
        if root is None:
            continue
        # The search root, anything directly in it, and path-shaped patterns under it.
        candidates = [root, root.rstrip("/") + "/*"]
        for pattern in patterns:
            if "/" in pattern or pattern.startswith("."):
                resolved = ctx.resolve(pattern, root, subject)
                if resolved is not None:
                    candidates.append(resolved)
        subject.facts = CallFacts(ctx.call.tool_name, ctx.action, paths=tuple(candidates))
        for path in candidates:
            judge_read(ctx, path, subject, analysis)


def inspect_fs_write(ctx: Context, analysis: Analysis) -> None:
    tool_input = ctx.call.tool_input
    paths = _input_paths(tool_input)
    for text in _strings(tool_input):
        if "*** Begin Patch" in text:
            paths.extend(_PATCH_PATH.findall(text))
    if not paths:
        subject = ctx.subject(analysis)
        subject.findings.append(
            Finding(Zone.MACHINE, "guard:write-unknown-target", "a write whose target is unknown")
        )
        return
    _judge_each(ctx, analysis, paths, judge_write)


def shell_command(tool_input: Mapping[str, Any]) -> str | None:
    """The command line of a shell tool (Codex sends argv lists)."""
    for key in ("command", "cmd"):
        value = tool_input.get(key)
        if isinstance(value, str):
            return value
        if isinstance(value, list) and all(isinstance(part, str) for part in value):
            return shlex.join(value)
    return None


SHELL_CACHE_MAX_COMMAND = 4096


@dataclass(frozen=True, slots=True)
class ShellPart:
    """One simple command and the findings that depend on its text alone."""

    facts: CommandFacts
    findings: tuple[Finding, ...]


def _analyze_shell(
    command: str, home: str, stockade_home: str
) -> tuple[ParsedCommand, tuple[ShellPart, ...]]:
    parsed = parse(command)
    parts: list[ShellPart] = []
    for facts in analyze(parsed, home=home):
        findings = [Finding(facts.zone, facts.rule_id, facts.reason)]
        tampering = _self_tampering(facts.command.argv, home, stockade_home)
        if tampering is not None:
            findings.append(Finding(Zone.NEVER, "guard:self-protection", tampering))
        parts.append(ShellPart(facts, tuple(findings)))
    return parsed, tuple(parts)


_cached_shell = lru_cache(maxsize=4096)(_analyze_shell)


def shell_facts(
    command: str, home: str, stockade_home: str
) -> tuple[ParsedCommand, tuple[ShellPart, ...]]:
    """Parse and classify ``command``: a pure function, memoized for short commands.

    Agents repeat the same commands all session long; long ones are not cached so the
    cache stays small (at most 4096 × 4 KiB of keys).
    """
    if len(command) <= SHELL_CACHE_MAX_COMMAND:
        return _cached_shell(command, home, stockade_home)
    return _analyze_shell(command, home, stockade_home)


def inspect_shell(ctx: Context, analysis: Analysis) -> None:
    command = shell_command(ctx.call.tool_input)
    if command is None:
        subject = ctx.subject(analysis)
        subject.findings.append(
            Finding(
                Zone.NEVER, "guard:shell-no-command", "shell call without a command", Verdict.DENY
            )
        )
        return
    base = ctx.cwd
    tool_input = ctx.call.tool_input
    workdir = next((tool_input[k] for k in _WORKDIR_KEYS if tool_input.get(k)), None)
    parsed, analyzed = shell_facts(command, ctx.policy.home, ctx.policy.stockade_home)
    if parsed.error is not None:
        subject = ctx.subject(analysis)
        subject.findings.append(
            Finding(
                Zone.NEVER,
                "guard:shell-unparsable",
                f"cannot parse the command: {parsed.error}",
                Verdict.DENY,
            )
        )
    if isinstance(workdir, str):
        base = ctx.resolve(workdir, ctx.cwd, ctx.subject(analysis)) or ctx.cwd
    bases = [base] + _cd_targets(ctx, parsed.commands, base)
    blank = ctx.facts()
    for part in analyzed:
        facts = part.facts
        subject = Subject(blank, list(part.findings))
        analysis.subjects.append(subject)
        if facts.sinks:
            analysis.sinks.update(facts.sinks)
        paths: list[str] = []
        for raw in facts.reads:
            for b in bases:
                path = ctx.resolve(raw, b, subject)
                if path is not None:
                    paths.append(path)
                    judge_read(ctx, path, subject, analysis)
        for raw in facts.writes:
            for b in bases:
                path = ctx.resolve(raw, b, subject)
                if path is not None:
                    paths.append(path)
                    judge_write(ctx, path, subject, analysis)
        subject.facts = CallFacts(
            ctx.call.tool_name,
            ctx.action,
            commands=(facts.command.argv,),
            paths=tuple(paths),
            wrappers=(facts.command.wrappers,),
        )


def _self_tampering(argv: tuple[str, ...], home: str, stockade_home: str) -> str | None:
    """Why ``argv`` would let an agent control Stockade itself, if it would."""
    if not argv:
        return None
    name = argv[0].rsplit("/", 1)[-1]
    if name == "stockade":
        words = [a for a in argv[1:] if not a.startswith("--home")]
        sub = words[0] if words else "--help"
        if sub not in _SELF_READ_ONLY or "--fix" in words:
            return f"agents may not run `stockade {sub}`; only a person controls Stockade"
    elif name in _KILLERS and any("stockade" in arg for arg in argv[1:]):
        return "agents may not signal the Stockade daemon"
    elif any(SOCKET_NAME in arg for arg in argv):
        # curl --unix-socket, nc -U, socat, python -c: the socket answers approvals.
        return "agents may not talk to the Stockade daemon's socket"
    inside = _names_stockade_home(argv, home, stockade_home)
    if inside is not None:
        return f"agents may not touch Stockade's own files: {inside}"
    return None


def _names_stockade_home(argv: tuple[str, ...], home: str, stockade_home: str) -> str | None:
    """An argument that points into the Stockade home (``--opt=PATH`` included), if any.

    Judged on the words themselves, not only on paths a command is known to read:
    ``curl --unix-socket ~/.stockade/x`` reads nothing as far as the classifier knows.
    """
    for word in argv:
        value = word.partition("=")[2] if word.startswith("-") and "=" in word else word
        if value[:1] not in ("/", "~", "$"):
            continue
        spelled = posixpath.normpath(expand_home(value, home))
        if spelled[:1] == "/" and is_within(spelled, stockade_home):
            return spelled
    return None


def _cd_targets(ctx: Context, commands: Iterable[Any], base: str) -> list[str]:
    """Directories a compound command may ``cd`` into: relative paths are judged there too."""
    targets: list[str] = []
    for command in commands:
        argv = command.argv
        if not argv or argv[0] not in ("cd", "pushd"):
            continue
        args = [a for a in argv[1:] if not a.startswith("-")]
        if not args:
            targets.append(ctx.policy.home)
        elif command.dynamic or "\x00" in args[0]:
            targets.append("/")
        else:
            try:
                targets.append(ctx.resolver.resolve(args[0], base))
            except (ValueError, OSError):
                targets.append("/")
    return targets


def inspect_net_fetch(ctx: Context, analysis: Analysis) -> None:
    analysis.sinks.add("network")
    tool_input = ctx.call.tool_input
    urls = [tool_input["url"]] if isinstance(tool_input.get("url"), str) else []
    if not urls:
        urls = [m.group(0) for text in _strings(tool_input) for m in _URL.finditer(text)]
    if not urls:
        subject = ctx.subject(analysis)
        subject.findings.append(Finding(Zone.NETWORK, "url.none", "a fetch with no URL found"))
        return
    for url in urls:
        finding = ctx.policy.urls.check(url)
        subject = ctx.subject(analysis, hosts=(finding.host,) if finding.host else ())
        verdict: Verdict | None = finding.verdict
        if verdict is Verdict.ALLOW and finding.rule_id != "url.allow-domain":
            verdict = None  # no objection: the level decides
        subject.findings.append(Finding(Zone.NETWORK, finding.rule_id, finding.reason, verdict))


def _zone_only(zone: Zone, rule_id: str, reason: str, sinks: tuple[str, ...] = ()) -> Inspector:
    def inspect(ctx: Context, analysis: Analysis) -> None:
        analysis.sinks.update(sinks)
        ctx.subject(analysis).findings.append(Finding(zone, rule_id, reason))

    return inspect


INSPECTORS: dict[str, Inspector] = {
    A.FS_READ: inspect_fs_read,
    A.FS_SEARCH: inspect_fs_search,
    A.FS_WRITE: inspect_fs_write,
    A.SHELL_EXEC: inspect_shell,
    A.NET_FETCH: inspect_net_fetch,
    A.NET_SEARCH: _zone_only(Zone.NETWORK, "net.search", "a web search", ("network",)),
    A.MCP_CALL: _zone_only(Zone.EXTERNAL, "mcp.call", "an MCP tool call", ("external", "network")),
    A.AGENT_SPAWN: _zone_only(Zone.WORKSPACE, "agent.spawn", "starts a sub-agent"),
    A.AGENT_META: _zone_only(Zone.SAFE, "agent.meta", "agent bookkeeping"),
    A.TOOL_UNKNOWN: _zone_only(
        Zone.EXTERNAL, "tool.unknown", "a tool Stockade does not know", ("external",)
    ),
}
