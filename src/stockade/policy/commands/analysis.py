"""One parse analysed: each command's own facts, then what its context adds to them.

A command inherits from what surrounds it: privilege from ``sudo`` as a wrapper or an
ancestor, remoteness from ``ssh host CMD``, fetched content from the pipe that feeds it,
and the directory an earlier ``cd`` entered. Relations are indexed once per parse.
"""

from __future__ import annotations

import functools
import posixpath

from stockade.decision import Zone
from stockade.policy.commands.arguments import DEVICE, HARMLESS_DEV, Cmd, Opts, expand, is_vital
from stockade.policy.commands.files import disk, find
from stockade.policy.commands.interpreters import (
    CODE_RUNNERS,
    FETCHERS,
    VERSIONED,
    code_inputs,
    python,
)
from stockade.policy.commands.results import CommandFacts, Result, zoned
from stockade.policy.commands.table import HANDLERS, PROGRAMS
from stockade.policy.shell import SHELLS, SUBST, SimpleCommand, program_name

_PRIVILEGE = frozenset({"sudo", "doas", "pkexec", "su", "runuser"})
_PROXIES = frozenset({"torsocks", "proxychains", "proxychains4"})


@functools.lru_cache(maxsize=4096)
def _name(word: str) -> str:
    name = program_name(word)
    m = VERSIONED.fullmatch(name)
    return ("python" if m.group(1) == "pypy" else m.group(1)) if m else name


class Analysis:
    """Facts for one parse; relations between commands (pipes, parents) are indexed once."""

    def __init__(self, commands: tuple[SimpleCommand, ...], home: str) -> None:
        self.cmds, self.home = commands, home
        self.names = [_name(c.argv[0]) if c.argv and not c.dynamic else "" for c in commands]
        self.children: dict[int, list[int]] = {}
        self.pipelines: dict[int, list[int]] = {}
        self.self_calls: dict[str, int] = {}
        for i, cmd in enumerate(commands):
            self.children.setdefault(cmd.parent, []).append(i)
            self.pipelines.setdefault(cmd.pipeline, []).append(i)
            if cmd.function and cmd.argv[:1] == (cmd.function,):
                self.self_calls[cmd.function] = self.self_calls.get(cmd.function, 0) + 1
        self.fetched: dict[int, bool] = {}
        self.cwd = ""

    def run(self) -> tuple[CommandFacts, ...]:
        return tuple(self.facts(i) for i in range(len(self.cmds)))

    def change_directory(self, cmd: SimpleCommand) -> None:
        """Follow ``cd DIR`` so that ``cd / && rm -rf *`` is judged on ``/*``."""
        target = cmd.argv[1] if len(cmd.argv) > 1 else "~"
        if target == "-" or SUBST in target or "$" in target.replace("$HOME", ""):
            self.cwd = ""  # unknown again: paths stay relative to where the agent runs
        else:
            self.cwd = Cmd("cd", (), self.home, self.cwd).path(target)

    def facts(self, i: int) -> CommandFacts:
        cmd = self.cmds[i]
        r = self.classify(i)
        if self.names[i] in ("cd", "pushd"):
            self.change_directory(cmd)
        if cmd.redirects:
            self.redirects(cmd, r)
        for path in r.writes:
            if DEVICE.match(_norm(path)):
                r.floor(Zone.NEVER, "shell.catastrophic.device-write", f"writes {path}")
        if cmd.function and cmd.argv[:1] == (cmd.function,) and self.self_calls[cmd.function] > 1:
            r.floor(Zone.NEVER, "shell.catastrophic.fork-bomb", "a function that spawns itself")
        if self.names[i] in CODE_RUNNERS and self.runs_fetched(i):
            reason = f"{self.names[i]} runs code fetched from the network"
            r.floor(Zone.NEVER, "shell.catastrophic.pipe-to-shell", reason)
        if cmd.parent >= 0 or cmd.wrappers:
            self.inherit(i, r)
        return CommandFacts(
            cmd, r.zone, r.rule, r.reason, tuple(r.reads), tuple(r.writes), frozenset(r.sinks)
        )

    def inherit(self, i: int, r: Result) -> None:
        """Privilege, remoteness and proxies of the wrappers and the commands around ``i``."""
        chain, k = [i], self.cmds[i].parent
        while k >= 0:
            chain.append(k)
            k = self.cmds[k].parent
        privilege = [w for k in chain for w in self.cmds[k].wrappers if w in _PRIVILEGE]
        privilege += [n for k in chain[1:] if (n := self.names[k]) in _PRIVILEGE]
        if privilege:
            r.floor(
                Zone.MACHINE, "shell.machine.privileged", f"runs as another user ({privilege[0]})"
            )
        if any(self.cmds[k].via == "remote" for k in chain):
            r.floor(Zone.EXTERNAL, "shell.external.remote", "runs on another machine over ssh")
            r.reads, r.writes = [], []  # paths on the remote machine, not ours
        if _PROXIES.intersection(self.cmds[i].wrappers):
            r.floor(Zone.NETWORK, "shell.network.proxy", "runs through a network proxy")

    def classify(self, i: int) -> Result:
        cmd, name = self.cmds[i], self.names[i]
        if not cmd.argv:
            return Result(Zone.SAFE, "shell.readonly.redirect", "only assigns or redirects")
        if cmd.dynamic:
            r = Result(Zone.BUILD, "shell.dynamic", "command name is computed at run time")
            o = Opts(cmd.argv[1:])
            vital = next((p for p in o.operands if is_vital(expand(p, self.home), self.home)), None)
            if vital is not None and o.has("-r", "-R", "--recursive"):
                r.floor(
                    Zone.NEVER, "shell.catastrophic.dynamic", f"a computed command -r on {vital}"
                )
            return r
        args = cmd.argv[1:]
        if cmd.via == "argv" and self.names[cmd.parent] == "find":  # find -exec rm {} ;
            starts = find(Cmd("find", self.cmds[cmd.parent].argv[1:], self.home)).reads
            args = tuple(p for a in args for p in (starts if a == "{}" else [a]))
        c = Cmd(name, args, self.home, self.cwd)
        handler = HANDLERS.get(name) or (disk if name.startswith("mkfs") else None)
        if handler is not None:
            return handler(c)
        if name in SHELLS or name == "eval":
            if any(self.cmds[k].via == "script" for k in self.children.get(i, [])):
                return Result(Zone.SAFE, f"shell.readonly.{name}", f"{name} runs the parsed script")
            return zoned(Zone.BUILD, name, f"{name} script")
        if name in PROGRAMS:
            return zoned(PROGRAMS[name], name)
        if "/" in cmd.argv[0]:
            return Result(Zone.BUILD, "shell.build.local-program", f"runs {cmd.argv[0]}")
        return Result(
            Zone.BUILD, f"shell.unknown.{name[:64]}", f"unknown command {name!r} runs code"
        )

    def redirects(self, cmd: SimpleCommand, r: Result) -> None:
        for redirect in cmd.redirects:
            op = redirect.op.lstrip("0123456789")
            target = Cmd("", (), self.home, self.cwd).path(redirect.target)
            if "<<" in op or (op in (">&", "<&") and (target.isdigit() or target == "-")):
                continue
            if HARMLESS_DEV.match(target):
                continue
            targets = Cmd("", (), self.home, self.cwd).paths([redirect.target])
            if "<" in op:
                r.reads.extend(targets)
            if ">" in op:
                r.writes.extend(targets)
                r.floor(Zone.WORKSPACE, "shell.write.redirect", f"output redirected to {target}")

    def emits_fetched(self, i: int) -> bool:
        """Whether command ``i`` prints what came from the network."""
        if i not in self.fetched:
            cmd, name = self.cmds[i], self.names[i]
            self.fetched[i] = False  # cycle guard
            fetcher = name in FETCHERS or (name == "python" and python(
                Cmd(name, cmd.argv[1:], self.home)).zone is Zone.NETWORK)  # fmt: skip
            upstream = (
                k for k in self.pipelines[cmd.pipeline] if self.cmds[k].position < cmd.position
            )
            inner = (k for k in self.children.get(i, []) if self.cmds[k].via == "subst")
            self.fetched[i] = fetcher or any(map(self.emits_fetched, (*upstream, *inner)))
        return self.fetched[i]

    def runs_fetched(self, i: int) -> bool:
        """Whether command ``i`` runs as code what came from the network."""
        cmd = self.cmds[i]
        code = code_inputs(self.names[i], cmd.argv) if cmd.argv and not cmd.dynamic else None
        if code is None:
            return False
        code_args, stdin = code
        if stdin and any(
            self.emits_fetched(k)
            for k in self.pipelines[cmd.pipeline]
            if self.cmds[k].position < cmd.position
        ):
            return True
        return any(SUBST in a for a in code_args) and any(
            self.emits_fetched(k) for k in self.children.get(i, []) if self.cmds[k].via == "subst"
        )


def _norm(path: str) -> str:
    return "/" + posixpath.normpath(path).lstrip("/") if path.startswith("/") else path
