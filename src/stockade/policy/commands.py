"""Judge each simple command of a parsed shell line: its zone, what it reads and writes.

The zone says how far a command's effects reach; the engine maps zones to verdicts and
checks ``reads``/``writes`` against the project, so this module only reports facts.

==========  ======================================================================
NEVER       catastrophic, whatever the policy: ``rm -r`` on ``/``, the home or a top-level
            system directory (or ``--no-preserve-root``); ``dd of=/dev/…``; ``mkfs*``,
            ``mkswap``, ``wipefs``; partitioning or ``shred`` of a device; any write to a
            disk device, ``/dev/mem`` or ``/etc/passwd|shadow|sudoers``; recursive
            ``chmod``/``chown`` of those places; fork bombs; fetched content run by an
            interpreter (``curl … | sh``, ``bash <(curl …)``, ``eval "$(curl …)"``);
            ``kill -9 -1``/``kill 1``; ``shutdown``/``reboot``/``halt``/``poweroff``/
            ``init 0``; ``crontab -r``
MACHINE     system state: ``sudo``/``su``/``doas`` (also as a wrapper or an ancestor),
            services, packages (``apt``, ``brew install``), users, firewall, ``kill``,
            ``chown``, ``mount``, ``docker run --privileged``, setuid ``chmod``
EXTERNAL    acts on another system: ``ssh``, ``scp``, remote ``rsync``, ``nc``,
            ``docker``, ``kubectl``, cloud CLIs, ``gh`` writes, ``terraform apply``,
            mail; everything run by ``ssh host CMD``; sinks ``external`` and ``network``
NETWORK     ``curl``, ``wget``, ``git push/pull/fetch/clone``, package installs
            (``npm install``, ``pip install``, ``cargo add`` …); sink ``network``;
            DNS tools (``dig``, ``host`` …) add sink ``dns``
BUILD       runs code: build tools, test runners, interpreters, ``./script``, ``source``;
            also every unknown command and every command whose name is computed
WORKSPACE   modifies files named in ``writes``: ``rm``, ``mv``, ``cp``, ``sed -i``,
            ``git commit``, archives, any output redirection; clipboard tools
            (sink ``clipboard``)
SAFE        reads only: ``ls``, ``cat``, ``grep``, ``find``, ``git status`` …
==========  ======================================================================

Paths in ``reads``/``writes`` have ``~``, ``$HOME`` and ``${HOME}`` expanded to ``home``;
relative paths stay relative for the engine to resolve against the working directory.
"""

from __future__ import annotations

import functools
import posixpath
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from stockade.decision import Zone
from stockade.policy.shell import (
    SHELLS,
    SUBST,
    ParsedCommand,
    SimpleCommand,
    parse,
    program_name,
    reads_script_from_stdin,
)


@dataclass(frozen=True, slots=True)
class CommandFacts:
    """What one simple command does, as far as can be known without running it."""

    command: SimpleCommand
    zone: Zone
    rule_id: str
    reason: str
    reads: tuple[str, ...] = ()
    writes: tuple[str, ...] = ()
    sinks: frozenset[str] = frozenset()


def analyze(parsed: ParsedCommand, *, home: str) -> tuple[CommandFacts, ...]:
    """Facts for every command in ``parsed``; the engine takes the highest zone."""
    return _Analysis(parsed.commands, home.rstrip("/") or "/").run()


def is_catastrophic(command: str, *, home: str) -> CommandFacts | None:
    """The first NEVER fact of ``command``, if any."""
    facts = analyze(parse(command), home=home)
    return next((f for f in facts if f.zone is Zone.NEVER), None)


# --- results ---------------------------------------------------------------------------

_CATEGORY = {Zone.SAFE: "readonly", Zone.WORKSPACE: "write", Zone.BUILD: "build"}
_CATEGORY |= {Zone.NETWORK: "network", Zone.EXTERNAL: "external", Zone.MACHINE: "machine"}
_WHY = {Zone.SAFE: "only reads", Zone.WORKSPACE: "modifies files", Zone.BUILD: "runs code"}
_WHY |= {Zone.NETWORK: "uses the network", Zone.EXTERNAL: "acts on another system"}
_WHY |= {Zone.MACHINE: "changes the machine"}


class _Result:
    __slots__ = ("reads", "reason", "rule", "sinks", "writes", "zone")

    def __init__(
        self, zone: Zone, rule: str, reason: str,
        reads: Iterable[str] = (), writes: Iterable[str] = (), sinks: Iterable[str] = (),
    ) -> None:  # fmt: skip
        self.zone, self.rule, self.reason = zone, rule, reason
        self.reads, self.writes, self.sinks = list(reads), list(writes), set(sinks)
        self.sinks |= _ZONE_SINKS.get(zone, set())

    def floor(self, zone: Zone, rule: str, reason: str) -> None:
        """Raise to ``zone`` (naming the new rule) unless already at least that high."""
        if zone > self.zone:
            self.zone, self.rule, self.reason = zone, rule, reason
        self.sinks |= _ZONE_SINKS.get(zone, set())


_ZONE_SINKS = {Zone.NETWORK: {"network"}, Zone.EXTERNAL: {"network", "external"}}


def _zoned(
    zone: Zone, name: str, what: str = "", *, reads: Iterable[str] = (), writes: Iterable[str] = ()
) -> _Result:
    reason = f"{what or name} {_WHY[zone]}"
    return _Result(zone, f"shell.{_CATEGORY[zone]}.{name}", reason, reads, writes)


def _never(rule: str, reason: str, writes: Iterable[str] = ()) -> _Result:
    return _Result(Zone.NEVER, f"shell.catastrophic.{rule}", reason, writes=writes)


# --- paths ---------------------------------------------------------------------------

_VITAL = frozenset(
    "/ /home /Users /etc /usr /var /bin /sbin /boot /lib /lib32 /lib64 /libx32 /opt /root /sys "
    "/proc /dev /System /Library /Applications /private /srv /snap /usr/bin /usr/sbin /usr/lib "
    "/usr/local /var/lib /private/etc /private/var".split()
)
_GLOB_ONLY = re.compile(r"[*?.\[\]!^{},]*")
_DEVICE = re.compile(
    r"/dev/(?:[sh]d[a-z]|x?vd[a-z]|nvme|mmcblk|r?disk\d|md\d|dm-|mapper/|loop|mem$|kmem$|port$)"
    r"|/(?:private/)?etc/(?:passwd|shadow|sudoers|group|gshadow)"
)
_HARMLESS_DEV = re.compile(r"/dev/(?:null|zero|u?random|std(?:in|out|err)|tty|fd/|pts/)")


def _expand(arg: str, home: str) -> str:
    if arg[:1] not in ("~", "$"):
        return arg
    if arg == "~" or arg.startswith("~/"):
        return home + arg[1:]
    for var in ("$HOME", "${HOME}"):
        if arg == var or arg.startswith(var + "/"):
            return home + arg[len(var) :]
    return arg


def _vital(path: str, home: str) -> bool:
    """Root, the home directory, a top-level system directory, or everything inside one."""
    if not path.startswith("/"):
        return False
    path = "/" + posixpath.normpath(path).lstrip("/")
    head, _, last = path.rpartition("/")
    if _GLOB_ONLY.fullmatch(last):
        path = head or "/"  # /usr/* and ~/.* are as bad as /usr and ~
    return path in _VITAL or path == home or bool(re.fullmatch(r"/lib[^/]*", path))


def _describe(path: str, home: str) -> str:
    return "the home directory" if path.rstrip("/*") == home else path


# --- options ---------------------------------------------------------------------------


class _Opts:
    __slots__ = ("flags", "longs", "operands", "values")

    def __init__(self, args: Iterable[str], short_values: str = "") -> None:
        """Split ``args`` into short flags, long options, option values and operands."""
        self.flags, self.longs = "", list[str]()
        self.values: dict[str, str] = {}
        self.operands: list[str] = []
        it = iter(args)
        for arg in it:
            if arg == "--":
                self.operands += it
            elif arg.startswith("--"):
                key, eq, value = arg.partition("=")
                self.longs.append(key)
                if eq:
                    self.values[key] = value
            elif arg.startswith("-") and len(arg) > 1:
                flags, key, attached = _short_cluster(arg, short_values)
                self.flags += flags
                if key:
                    self.values[key] = attached or next(it, "")
            else:
                self.operands.append(arg)

    def has(self, *names: str) -> bool:
        return any(n[1:] in self.flags if len(n) == 2 else n in self.longs for n in names)


@functools.lru_cache(maxsize=4096)
def _short_cluster(arg: str, short_values: str) -> tuple[str, str, str]:
    """``-xvf`` -> flags ``xv``, option ``-f`` taking a value, and the value if attached."""
    for k, ch in enumerate(arg[1:], 2):
        if ch in short_values:
            return arg[1 : k - 1], "-" + ch, arg[k:]
    return arg[1:], "", ""


class _Cmd:
    __slots__ = ("args", "cwd", "home", "name")

    def __init__(self, name: str, args: tuple[str, ...], home: str, cwd: str = "") -> None:
        self.name, self.args, self.home, self.cwd = name, args, home, cwd

    def path(self, arg: str) -> str:
        """Expanded; a relative path is joined to the directory an earlier ``cd`` entered."""
        path = _expand(arg, self.home)
        return posixpath.join(self.cwd, path) if self.cwd else path

    def paths(self, args: Iterable[str]) -> list[str]:
        """Each path as an earlier ``cd`` would place it *and*, when a ``cd`` is in effect,
        as written: the ``cd`` may have run in a subshell, so both readings are judged."""
        out: list[str] = []
        for arg in args:
            if arg == "-":
                continue
            joined = self.path(arg)
            out.append(joined)
            written = _expand(arg, self.home)
            if written != joined:
                out.append(written)
        return out

    def opts(self, short_values: str = "") -> _Opts:
        return _Opts(self.args, short_values)


_Handler = Callable[[_Cmd], _Result]


# --- file commands -------------------------------------------------------------------


def _reader(short_values: str, skip: int = 0) -> _Handler:
    def handle(c: _Cmd) -> _Result:
        return _zoned(Zone.SAFE, c.name, reads=c.paths(c.opts(short_values).operands[skip:]))

    return handle


def _writer(short_values: str) -> _Handler:
    def handle(c: _Cmd) -> _Result:
        return _zoned(Zone.WORKSPACE, c.name, writes=c.paths(c.opts(short_values).operands))

    return handle


def _rm(c: _Cmd) -> _Result:
    o = c.opts()
    paths = c.paths(o.operands)
    if "--no-preserve-root" in o.longs:
        return _never("rm-root", "rm --no-preserve-root", paths)
    vital = next((p for p in paths if _vital(p, c.home)), None)
    if vital is not None and o.has("-r", "-R", "--recursive"):
        return _never("rm-root", f"rm -r on {_describe(vital, c.home)}", paths)
    return _zoned(Zone.WORKSPACE, "rm", writes=paths)


def _copy(c: _Cmd) -> _Result:
    """cp, mv, ln, install: the last operand (or ``-t DIR``) is written."""
    o = c.opts("tSmog")
    paths = c.paths(o.operands)
    target = o.values.get("-t") or o.values.get("--target-directory")
    if target is not None:
        sources, dest = paths, [_expand(target, c.home)]
    elif c.name == "install" and o.has("-d"):
        sources, dest = [], paths
    else:
        sources, dest = paths[:-1], paths[-1:] or ["."]
    if c.name == "mv":
        vital = next((p for p in sources if _vital(p, c.home)), None)
        if vital is not None:
            return _never("mv-root", f"mv of {_describe(vital, c.home)}", sources + dest)
        return _zoned(Zone.WORKSPACE, "mv", reads=sources, writes=sources + dest)
    return _zoned(Zone.WORKSPACE, c.name, reads=[] if c.name == "ln" else sources, writes=dest)


def _chmod(c: _Cmd) -> _Result:
    """chmod, chown, chgrp: recursive on a vital place is catastrophic."""
    o = c.opts()
    mode_option = any(re.fullmatch(r"-[rwxXst]+", a) for a in c.args)
    skip = 0 if "--reference" in o.longs or mode_option else 1
    paths = c.paths(o.operands[skip:])
    vital = next((p for p in paths if _vital(p, c.home)), None)
    if vital is not None and o.has("-R", "--recursive"):
        return _never(f"{c.name}-root", f"{c.name} -R on {_describe(vital, c.home)}", paths)
    if c.name != "chmod":
        return _zoned(Zone.MACHINE, c.name, f"{c.name} (changes ownership)", writes=paths)
    if skip and o.operands and re.search(r"s|^[0-7]*[2467][0-7]{3}$", o.operands[0]):
        return _Result(Zone.MACHINE, "shell.machine.setuid", "chmod sets a setuid/setgid bit",
                       writes=paths)  # fmt: skip
    return _zoned(Zone.WORKSPACE, "chmod", writes=paths)


def _dd(c: _Cmd) -> _Result:
    kv = dict(a.partition("=")[::2] for a in c.args if "=" in a)
    out, src = kv.get("of"), kv.get("if")
    if out and out.startswith("/dev/") and not _HARMLESS_DEV.match(out):
        return _never("dd-device", f"dd writes the device {out}", [out])
    reads, writes = c.paths([src] if src else []), c.paths([out] if out else [])
    return _zoned(Zone.WORKSPACE if out else Zone.SAFE, "dd", reads=reads, writes=writes)


def _disk(c: _Cmd) -> _Result:
    """Partitioning and wiping tools: catastrophic on a device, else machine-level."""
    if c.name.startswith("mkfs") or c.name in ("mkswap", "wipefs"):
        return _never("format", f"{c.name} destroys a filesystem")
    o = c.opts()
    device = next((p for p in o.operands if p.startswith("/dev/")), None)
    if device is None or o.has("-l", "--list") or "print" in o.operands:
        if c.name == "shred":
            return _zoned(Zone.WORKSPACE, "shred", writes=c.paths(o.operands))
        return _zoned(Zone.MACHINE, c.name)
    return _never("disk", f"{c.name} on the device {device}")


def _grep(c: _Cmd) -> _Result:
    o = c.opts("efmABCdDgtTMj" if c.name in ("rg", "ag") else "efmABCdD")
    explicit = any(k in o.values for k in ("-e", "-f", "--regexp", "--file"))
    reads = c.paths(o.operands[0 if explicit else 1 :])
    if not reads and (c.name in ("rg", "ag", "ack") or o.has("-r", "-R", "--recursive")):
        reads = ["."]
    reads += c.paths([o.values["-f"]] if "-f" in o.values else [])
    if "--pre" in o.longs:
        return _zoned(Zone.BUILD, c.name, f"{c.name} --pre", reads=reads)
    return _zoned(Zone.SAFE, c.name, reads=reads)


_AWK_EXEC = re.compile(r"system\s*\(|\|\s*&|\|\s*getline|print[^;]*\|\s*\"")
_SED_EXEC = re.compile(
    r"(?:^|[;\n{}])\s*[\d,$!~+]*\s*e\b|/[gpiImM0-9]*e[gpiImM0-9]*\s*(?:[;\n}]|$)"
)
_SED_WRITE = re.compile(r"(?:^|[;\n{}/])\s*w\s+(\S+)")


def _script_filter(c: _Cmd) -> _Result:
    """sed, awk, perl: the script is the first operand unless given with -e/-f."""
    o = c.opts("efFlv" if c.name != "perl" else "eEIlMmx")
    given = [o.values[k] for k in ("-e", "-E", "--expression") if k in o.values]
    explicit = bool(given) or "-f" in o.values or "--file" in o.values
    script = " ".join(given) if explicit else (o.operands[0] if o.operands else "")
    files = c.paths(o.operands[0 if explicit else 1 :])
    in_place = "i" in o.flags or "--in-place" in o.longs
    if c.name == "perl" and not in_place:
        return _zoned(Zone.BUILD, "perl", reads=files)
    if (_AWK_EXEC if "awk" in c.name else _SED_EXEC).search(script):
        return _zoned(Zone.BUILD, c.name, f"{c.name} script that runs commands", reads=files)
    writes = c.paths(_SED_WRITE.findall(script)) if c.name == "sed" else []
    if in_place and "awk" not in c.name:
        return _zoned(Zone.WORKSPACE, c.name, f"{c.name} -i", reads=files, writes=files + writes)
    return _zoned(Zone.WORKSPACE if writes else Zone.SAFE, c.name, reads=files, writes=writes)


_JQ_WIDTH = {"--arg": 3, "--argjson": 3, "--slurpfile": 3, "--rawfile": 3, "--indent": 2}
_JQ_WIDTH |= {"-f": 2, "--from-file": 2, "-L": 2}


def _jq(c: _Cmd) -> _Result:
    operands, i = list[str](), 0
    while i < len(c.args):
        arg = c.args[i]
        i += _JQ_WIDTH.get(arg, 1)
        if not arg.startswith("-") or arg == "-":
            operands.append(arg)
    return _zoned(Zone.SAFE, c.name, reads=c.paths(operands[1:]))


def _find(c: _Cmd) -> _Result:
    first = next((k for k, a in enumerate(c.args) if a[:1] in ("-", "(", "!")), len(c.args))
    starts = c.paths(c.args[:first]) or ["."]
    writes = [c.args[k + 1] for k, a in enumerate(c.args[:-1]) if a in ("-fprint", "-fls")]
    if "-delete" in c.args:
        vital = next((p for p in starts if _vital(p, c.home)), None)
        if vital is not None:
            return _never("find-delete", f"find -delete on {_describe(vital, c.home)}", starts)
        return _zoned(Zone.WORKSPACE, "find", "find -delete", reads=starts, writes=starts)
    return _zoned(Zone.WORKSPACE if writes else Zone.SAFE, "find", reads=starts, writes=writes)


def _tar(c: _Cmd) -> _Result:
    o = c.opts("fCbTXIKN")
    old_style = bool(c.args) and c.args[0][:1] != "-"  # tar xzf a.tgz
    mode, files = o.flags + (c.args[0] if old_style else ""), o.operands[old_style:]
    archive = o.values.get("-f") or o.values.get("--file")
    if archive is None and old_style and "f" in mode and files:
        archive, files = files[0], files[1:]
    archives = c.paths([archive] if archive else [])
    if "t" in mode or "--list" in o.longs:
        return _zoned(Zone.SAFE, "tar", reads=archives)
    if "x" in mode or "--extract" in o.longs or "--get" in o.longs:
        dest = o.values.get("-C") or o.values.get("--directory") or "."
        return _zoned(Zone.WORKSPACE, "tar", "tar -x", reads=archives, writes=c.paths([dest]))
    return _zoned(Zone.WORKSPACE, "tar", reads=c.paths(files), writes=archives)


def _compress(c: _Cmd) -> _Result:
    """unzip, zip and the compressors: listing and ``-c`` only read."""
    o = c.opts("dxP" if c.name == "unzip" else "S")
    files = c.paths(o.operands)
    if c.name == "unzip":
        if o.has("-l", "-t", "-v", "-p", "-Z"):
            return _zoned(Zone.SAFE, "unzip", reads=files[:1])
        dest = c.paths([o.values.get("-d", ".")])
        return _zoned(Zone.WORKSPACE, "unzip", reads=files[:1], writes=dest)
    if c.name == "zip":
        return _zoned(Zone.WORKSPACE, "zip", reads=files[1:], writes=files[:1])
    if c.name.endswith("cat") or o.has("-c", "-l", "-t", "--stdout", "--list", "--test"):
        return _zoned(Zone.SAFE, c.name, reads=files)
    return _zoned(Zone.WORKSPACE, c.name, reads=files, writes=files)


def _patch(c: _Cmd) -> _Result:
    o = c.opts("pFBDVidorz")
    reads = c.paths([o.values["-i"]] if "-i" in o.values else o.operands[1:2])
    writes = c.paths(o.operands[:1] or [o.values.get("-o") or o.values.get("-d") or "."])
    return _zoned(Zone.WORKSPACE, "patch", reads=reads, writes=writes)


# --- network and remote ----------------------------------------------------------------


def _curl(c: _Cmd) -> _Result:
    """curl and wget: uploads are reads, downloads are writes."""
    if c.name == "wget":
        o = c.opts("OoPia")
        reads = [v for k, v in o.values.items() if k in ("-i", "--post-file", "--body-file")]
        out = o.values.get("-O") or o.values.get("--output-document")
        writes = [out] if out else [o.values.get("-P") or o.values.get("--directory-prefix") or "."]
        writes = [w for w in writes if w != "-"]
    else:
        o = c.opts("oTdFHuXAeEKrwmxzbcCDY")
        data = (v for k, v in o.values.items() if k in ("-d", "-F", "--data", "--data-binary",
                "--data-urlencode", "--data-raw", "--form", "--json"))  # fmt: skip
        reads = [v.split("@", 1)[1].split(";")[0] for v in data if "@" in v]
        reads += [o.values[k] for k in ("-T", "--upload-file", "-K", "--config") if k in o.values]
        writes = [o.values[k] for k in ("-o", "--output") if k in o.values and o.values[k] != "-"]
        writes += ["."] if o.has("-O", "--remote-name", "--remote-name-all") else []
    return _zoned(Zone.NETWORK, c.name, reads=c.paths(reads), writes=c.paths(writes))


_REMOTE_PATH = re.compile(r"^(?:[\w.+-]+@)?[\w.-]+:|^\w+://")


def _transfer(c: _Cmd) -> _Result:
    """rsync and scp: remote unless every operand is a local path."""
    o = c.opts("eiloPFJcS" if c.name == "scp" else "eBfTM")
    local = [a for a in o.operands if not _REMOTE_PATH.match(a)]
    reads, writes = c.paths(local[:-1] if local == o.operands else local), []
    if o.operands and not _REMOTE_PATH.match(o.operands[-1]):
        writes = c.paths(o.operands[-1:])
        reads = [r for r in reads if r not in writes]
    zone = Zone.WORKSPACE if len(local) == len(o.operands) else Zone.EXTERNAL
    return _zoned(zone, c.name, reads=reads, writes=writes)


_GH_READS = frozenset({"view", "list", "status", "diff", "checks", "search", "browse"})


def _gh(c: _Cmd) -> _Result:
    o = c.opts("RXfFHqtpL")
    verb = o.operands[1] if len(o.operands) > 1 else ""
    if o.operands[:1] == ["api"]:
        method = (o.values.get("-X") or o.values.get("--method") or "GET").upper()
        fields = any(k in o.values for k in ("-f", "-F", "--field", "--raw-field", "--input"))
        writing = method != "GET" or fields
    else:
        writing = verb not in _GH_READS
    return _zoned(
        Zone.EXTERNAL if writing else Zone.NETWORK, "gh", f"gh {' '.join(o.operands[:2])}"
    )


_PRIVILEGED_CONTAINER = re.compile(
    r"--privileged|--(?:pid|ipc|userns|uts|cgroupns)[= ]host|--cap-add|--device|"
    r"--security-opt[= ]\S*unconfined|"
    r"(?:-v|--volume|--mount)[= ](?:\S*[=:,])?/(?:[:,]|var/run/docker\.sock)"
)


def _docker(c: _Cmd) -> _Result:
    if _PRIVILEGED_CONTAINER.search(" ".join(c.args)):
        return _Result(Zone.MACHINE, "shell.machine.container-privileged",
                       f"{c.name} gives a container control of the host")  # fmt: skip
    return _zoned(Zone.EXTERNAL, c.name)


# --- machine ---------------------------------------------------------------------------


_PACKAGE_QUERIES = ("-l", "-L", "-s", "-S", "-q", "--list", "--listfiles", "--status", "--search")


def _package_db(c: _Cmd) -> _Result:
    """dpkg and rpm: queries only read; anything else installs or removes packages."""
    zone = Zone.SAFE if c.opts().has(*_PACKAGE_QUERIES, "--query") else Zone.MACHINE
    return _zoned(zone, c.name)


def _kill(c: _Cmd) -> _Result:
    args = list(c.args)
    if args[:1] in (["-s"], ["-n"]):
        del args[:2]
    elif args and args[0].startswith("-") and args[0] not in ("--", "-l", "-L"):
        del args[0]
    pids = [a for a in args if a != "--"]
    if "-1" in pids:
        return _never("kill-all", "kill -1 signals every process")
    if "1" in pids:
        return _never("kill-init", "kill 1 signals init")
    return _zoned(Zone.MACHINE, "kill")


_SYSTEMCTL_READS = frozenset(
    "status show cat list-units list-unit-files list-timers list-sockets list-dependencies "
    "is-active is-enabled is-failed help --version".split()
)
_POWER = frozenset({"poweroff", "reboot", "halt", "kexec", "shutdown"})


def _system(c: _Cmd) -> _Result:
    """Power and service control: shutting the machine down is catastrophic."""
    verb = next((a for a in c.args if not a.startswith("-")), "")
    if c.name in _POWER or (c.name == "systemctl" and verb in _POWER):
        return _never("shutdown", f"{c.name} {verb}".strip() + " stops the machine")
    if c.name in ("init", "telinit") and verb in ("0", "6"):
        return _never("shutdown", f"{c.name} {verb} stops the machine")
    if c.name == "crontab" and "r" in c.opts().flags:
        return _never("crontab-remove", "crontab -r deletes every scheduled job")
    if (c.name == "systemctl" and verb in _SYSTEMCTL_READS) or (
        c.name == "crontab" and c.args == ("-l",)
    ):
        return _zoned(Zone.SAFE, c.name)
    if c.name == "defaults" and verb in ("read", "domains", "find", "read-type", "export"):
        return _zoned(Zone.SAFE, "defaults")
    if c.name == "diskutil" and re.match(r"(?i)erase|zero|random|secure|partition", verb):
        return _never("disk", f"diskutil {verb} destroys a disk")
    return _zoned(Zone.MACHINE, c.name)


# --- tools with subcommands --------------------------------------------------------------


def _table(default: Zone, **zones: str) -> tuple[Zone, dict[str, Zone]]:
    """A tool's zone per subcommand; ``pip+install`` is the two-word ``pip install``."""
    table: dict[str, Zone] = {}
    for zone, words in zones.items():
        table |= dict.fromkeys(words.replace("+", " ").split(","), Zone[zone.upper()])
    return default, table


_JS = _table(
    Zone.BUILD,
    safe=",ls,list,config,root,prefix,help,why,explain,version,-v,--version",
    network="install,i,ci,add,update,up,upgrade,publish,dlx,audit,outdated,view,info,search,"
    "login,unpublish,create,init,x",
)
_TOOLS: dict[str, tuple[Zone, dict[str, Zone]]] = {
    "npm": _JS,
    "pnpm": _JS,
    "bun": _JS,
    "yarn": (_JS[0], _JS[1] | {"": Zone.NETWORK}),
    "pip": _table(Zone.BUILD, safe=",list,show,freeze,check,help,config,debug,cache,inspect,"
                  "--version,-V", network="install,download,wheel,index,search"),
    "uv": _table(Zone.BUILD, safe=",version,--version,help,pip+list,pip+show,pip+freeze,pip+tree,"
                 "pip+check,cache+dir", network="add,sync,lock,remove,upgrade,tool,python,publish,"
                 "export,pip+install,pip+sync,pip+compile,pip+download,venv"),
    "poetry": _table(Zone.BUILD, safe=",show,check,version,env,config,about,help,list",
                     network="add,install,update,lock,publish,remove,self,source"),
    "conda": _table(Zone.BUILD, safe=",list,info,config,--version",
                    network="install,create,update,upgrade,remove,search,env"),
    "cargo": _table(Zone.BUILD, safe=",--version,version,help,locate-project,pkgid,metadata",
                    network="install,publish,update,add,fetch,search,login,yank,owner,vendor,"
                    "generate-lockfile"),
    "go": _table(Zone.BUILD, safe=",env,version,help,doc",
                 network="get,install,mod+download,mod+tidy"),
    "gem": _table(Zone.BUILD, safe=",list,env,which,contents,--version",
                  network="install,update,push,fetch,yank,sources,owner,search"),
    "bundle": _table(Zone.BUILD, safe="list,show,info,--version,config",
                     network=",install,update,add,lock,outdated"),
    "composer": _table(Zone.BUILD, safe=",show,--version,list,validate",
                       network="install,require,update,create-project,global,remove,self-update"),
    "brew": _table(Zone.MACHINE, safe=",list,ls,info,search,doctor,config,outdated,deps,uses,"
                   "leaves,desc,--version,--prefix,--cellar"),
    "apt": _table(Zone.MACHINE, safe="list,show,search,policy,depends,rdepends,--version"),
    "dnf": _table(Zone.MACHINE, safe="list,info,search,repolist,provides,--version"),
    "snap": _table(Zone.MACHINE, safe="list,info,find,version"),
    "terraform": _table(Zone.BUILD, safe=",fmt,validate,version,show,output,graph,providers",
                        network="init,plan,refresh,get",
                        external="apply,destroy,import,state,taint,untaint,force-unlock,workspace"),
    "pulumi": _table(Zone.EXTERNAL, safe=",version,about", network="preview"),
}  # fmt: skip
_TOOL_ALIASES = {"pip3": "pip", "pipx": "uv", "mamba": "conda", "micromamba": "conda"}
_TOOL_ALIASES |= {"bundler": "bundle", "apt-get": "apt", "aptitude": "apt", "yum": "dnf"}
_TOOL_ALIASES |= {"tofu": "terraform", "flatpak": "snap"}


def _tool(c: _Cmd) -> _Result:
    default, table = _TOOLS[_TOOL_ALIASES.get(c.name, c.name)]
    words = [a for a in c.args if not a.startswith(("-", "+"))][:2]
    if not words and c.args and c.args[0] in table:  # npm --version
        words = [c.args[0]]
    sub = " ".join(words)
    zone = table.get(sub, table.get(words[0], default) if words else table.get("", default))
    return _zoned(zone, c.name, f"{c.name} {sub}".strip())


# --- git -----------------------------------------------------------------------------------

_GIT: dict[str, Zone] = dict.fromkeys(
    "status log diff show blame rev-parse ls-files ls-tree grep shortlog describe cat-file "
    "rev-list whatchanged name-rev merge-base show-ref for-each-ref count-objects check-ignore "
    "check-attr version help var cherry show-branch fsck verify-commit verify-tag range-diff "
    "annotate archive".split(),
    Zone.SAFE,
)
_GIT |= dict.fromkeys("push pull fetch clone ls-remote".split(), Zone.NETWORK)
_GIT |= dict.fromkeys(
    "commit add checkout switch restore reset merge rebase rm mv init apply am cherry-pick "
    "revert clean gc prune repack bisect sparse-checkout update-index format-patch stage "
    "update-ref commit-tree read-tree checkout-index pack-refs replace filter-branch maintenance "
    "worktree notes stash tag branch remote submodule reflog".split(),
    Zone.WORKSPACE,
)
_GIT["send-email"] = Zone.EXTERNAL
_GIT_EXEC_KEY = re.compile(
    r"(?i)core\.(sshcommand|pager|hookspath|fsmonitor|editor|gitproxy|askpass)|alias\.|"
    r"credential\.|diff\..*\.(textconv|command)|filter\.|sequence\.editor|gpg\.program|"
    r"uploadpack\.|protocol\.|url\."
)
_GIT_LISTS = {"stash": ("list", "show"), "worktree": ("list",), "notes": ("list", "show")}
_GIT_LISTS |= {"submodule": ("status", "summary"), "remote": ("show", "get-url")}
_GIT_MODIFY = {  # options that make branch/tag change refs instead of listing them
    "branch": ("-d", "-D", "-m", "-M", "-c", "-C", "-f", "-u", "--delete", "--move", "--copy"),
    "tag": ("-d", "-a", "-s", "-f", "-m", "-u", "--delete", "--annotate", "--sign"),
}


def _git(c: _Cmd) -> _Result:
    args, i, cwd, exec_config = c.args, 0, ".", False
    while i < len(args) and args[i].startswith("-"):
        flag, _, attached = args[i].partition("=")
        value = attached or (args[i + 1] if i + 1 < len(args) else "")
        if flag in ("-C", "--work-tree"):
            cwd = posixpath.join(cwd, _expand(value, c.home))
        exec_config |= flag in ("-c", "--config-env") and bool(_GIT_EXEC_KEY.match(value))
        i += 2 if not attached and flag in ("-C", "-c", "--git-dir", "--work-tree",
                                              "--namespace", "--config-env") else 1  # fmt: skip
    sub, o = (args[i], _Opts(args[i + 1 :], "fF")) if i < len(args) else ("", _Opts(()))
    if sub == "config":
        result = _git_config(c, o, cwd)
    else:
        zone = _GIT.get(sub, Zone.BUILD) if sub else Zone.SAFE
        first = o.operands[0] if o.operands else ""
        if sub in _GIT_LISTS and (not first or first in _GIT_LISTS[sub]) and sub != "stash":
            zone = Zone.SAFE
        elif sub in ("stash", "reflog") and first in _GIT_LISTS["stash"] + ("", "exists") * (
            sub == "reflog"
        ):
            zone = Zone.SAFE
        elif (
            sub in _GIT_MODIFY
            and not o.has(*_GIT_MODIFY[sub])
            and (not o.operands or o.has("-l", "--list"))
        ):
            zone = Zone.SAFE
        elif (sub, first) in (("remote", "update"), ("submodule", "update"), ("submodule", "add")):
            zone = Zone.NETWORK
        elif sub == "archive" and "--remote" in o.longs:
            zone = Zone.NETWORK
        writes = [cwd] if zone is Zone.WORKSPACE or sub == "pull" else []
        if sub == "clone" and o.operands:
            writes = [o.operands[1] if len(o.operands) > 1 else _repo_dir(o.operands[0])]
        forced = sub == "push" and (o.has("-f", "--force", "--force-with-lease") or "+" in first)
        what = f"git {sub} --force" if forced else f"git {sub}".strip()
        name = f"git-{sub}" if sub in _GIT else "git"
        result = _zoned(zone, name, what, writes=c.paths(writes))
    if exec_config:
        result.floor(Zone.BUILD, "shell.build.git-config", "git -c sets a key that runs a program")
    return result


def _repo_dir(url: str) -> str:
    name = url.rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1]
    return name[:-4] if name.endswith(".git") else name


def _git_config(c: _Cmd, o: _Opts, cwd: str) -> _Result:
    words = (
        o.operands[1:] if o.operands[:1] in (["get"], ["set"], ["unset"], ["list"]) else o.operands
    )
    changing = o.operands[:1] in (["set"], ["unset"]) or o.has(
        "--unset", "--unset-all", "--add", "--replace-all", "--remove-section", "--rename-section",
        "-e", "--edit",
    )  # fmt: skip
    if not changing and (
        len(words) < 2 or o.has("-l", "--list", "--get", "--get-all", "--get-regexp")
    ):
        return _zoned(Zone.SAFE, "git-config", "git config (read)")
    target = posixpath.join(cwd, ".git/config")
    if o.has("--global"):
        target = c.home + "/.gitconfig"
    elif o.has("--system"):
        target = "/etc/gitconfig"
    target = o.values.get("-f") or o.values.get("--file") or target
    key = words[0] if words else ""
    if _GIT_EXEC_KEY.match(key):
        reason = f"git config sets {key}, which runs a program"
        return _Result(Zone.BUILD, "shell.git.config-exec", reason, writes=c.paths([target]))
    return _Result(
        Zone.WORKSPACE, "shell.git.config", f"git config sets {key}", writes=c.paths([target])
    )


# --- interpreters and fetchers -----------------------------------------------------------

_PY_FETCH = re.compile(r"urllib|urlopen|requests\.|http\.client|httpx|aiohttp|socket\.")
_INLINE = {"python": ("-c",), "perl": ("-e", "-E"), "ruby": ("-e",), "php": ("-r",)}
_INLINE |= {"node": ("-e", "-p", "--eval", "--print"), "lua": ("-e",)}
_VERSIONED = re.compile(r"(python|pypy|pip|perl|ruby|node|php|lua)(?:js)?[0-9.]*")


def _python(c: _Cmd) -> _Result:
    if "-m" in c.args[:-1]:
        k = c.args.index("-m")
        if c.args[k + 1] in ("pip", "pip3"):
            return _tool(_Cmd("pip", c.args[k + 2 :], c.home))
    code = _Opts(c.args, "cmWX").values.get("-c", "")
    if _PY_FETCH.search(code):
        return _zoned(Zone.NETWORK, "python", "python -c with network code")
    return _zoned(Zone.BUILD, "python")


def _code_args(name: str, argv: tuple[str, ...]) -> tuple[list[str], bool] | None:
    """What an interpreter runs as code, and whether it reads code from stdin."""
    args = argv[1:]
    if name == "eval":
        return list(args), False
    if name in ("source", "."):
        return list(args[:1]), args[:1] in (("/dev/stdin",), ("-",))
    inline = ("-c",) if name in SHELLS else _INLINE.get(name)
    if inline is None:
        return None
    for k, arg in enumerate(args):
        if arg in inline or (name in SHELLS and re.fullmatch(r"-[a-zA-Z]*c[a-zA-Z]*", arg)):
            return list(args[k + 1 : k + 2]), False
        if arg == "-m" and name == "python":
            return [], False
        if not arg.startswith("-"):
            return [arg], False
    return [], name not in SHELLS or reads_script_from_stdin(argv)


_CODE_RUNNERS = frozenset({*SHELLS, *_INLINE, "eval", "source", "."})
_FETCHERS = frozenset(
    "curl wget fetch aria2c nc ncat netcat socat http https xh lynx w3m ssh".split()
)

# --- everything else: one zone per program -------------------------------------------------

_PROGRAMS: dict[str, Zone] = dict.fromkeys(
    "echo printf pwd which type whereis date whoami id uname true false test [ [[ seq sleep cd "
    "export set unset local declare readonly typeset alias unalias shift exit return wait jobs "
    "fg bg disown umask ulimit hash read pushd popd dirs : env printenv history clear reset tput "
    "man help info basename dirname hostname uptime ps pgrep top htop free nproc arch locale "
    "groups who w tty expr let cal yes getconf lscpu lsblk lsof df mktemp logname sw_vers tr "
    "command time exec apt-cache pbpaste wl-paste xargs watch parallel flock trap script "
    "nohup eval".split(),
    Zone.SAFE,
)
_PROGRAMS |= dict.fromkeys(
    "make cmake ninja meson bazel bazelisk just task node deno pytest py.test tox nox gradle "
    "gradlew mvn mvnw ant sbt tsc jest vitest mocha playwright cypress ruff mypy pyright black "
    "isort flake8 pylint bandit eslint prettier biome rustc rustfmt gcc g++ clang clang++ cc c++ "
    "ld javac java kotlinc dotnet swift swiftc xcodebuild ruby php lua rscript julia ghc stack "
    "cabal mix zig dart flutter pre-commit coverage hatch rye pdm pipenv tsx ts-node vite "
    "webpack rollup esbuild turbo nx lerna ctest gdb lldb valgrind source .".split(),
    Zone.BUILD,
)
_PROGRAMS |= dict.fromkeys(
    "http https xh aria2c fetch lynx w3m ping ping6 traceroute tracepath mtr whois npx pnpx "
    "bunx uvx twine".split(),
    Zone.NETWORK,
)
_PROGRAMS |= dict.fromkeys(
    "ssh sftp nc ncat netcat socat telnet ftp kubectl helm gcloud gsutil aws az mail mailx "
    "sendmail mutt msmtp ssh-copy-id open xdg-open nmap heroku fly flyctl vercel netlify "
    "firebase doctl ansible ansible-playbook rclone s3cmd mosh rsh".split(),
    Zone.EXTERNAL,
)
_PROGRAMS |= dict.fromkeys(
    "sudo doas su pkexec runuser service launchctl mount umount iptables ip6tables nft ufw "
    "firewall-cmd useradd userdel usermod groupadd groupdel passwd chpasswd visudo pkill "
    "killall modprobe insmod rmmod sysctl osascript chroot nsenter unshare setcap swapon "
    "swapoff hostnamectl timedatectl loginctl csrutil spctl nvram security keyctl systemd-run "
    "update-alternatives ldconfig pacman zypper apk port emerge nix-env".split(),
    Zone.MACHINE,
)
_DNS = frozenset("dig nslookup host drill kdig resolvectl".split())
_CLIPBOARD = frozenset("pbcopy xclip xsel wl-copy clip".split())
_READERS = {  # program -> its short options that take a value
    "cat": "", "tac": "", "nl": "bivw", "head": "nc", "tail": "ncs", "less": "", "more": "",
    "bat": "lrHm", "wc": "", "file": "mfF", "stat": "cf", "du": "dBtX", "tree": "LIPo",
    "diff": "UCxXIFL", "cmp": "in", "sort": "kotTS", "uniq": "fsw", "cut": "dfbc", "comm": "",
    "paste": "d", "fold": "w", "fmt": "w", "rev": "", "strings": "nt", "xxd": "lscgo",
    "od": "AtNjw", "hexdump": "nsCe", "base64": "w", "sha1sum": "", "sha256sum": "",
    "sha512sum": "", "md5sum": "", "shasum": "a", "md5": "", "cksum": "", "b2sum": "",
    "column": "sc", "ls": "IwT", "realpath": "", "readlink": "", "readelf": "", "nm": "",
    "objdump": "j", "lsattr": "", "getfacl": "", "iconv": "ft", "expand": "t", "look": "",
}  # fmt: skip
_WRITERS = {"rmdir": "", "touch": "dtr", "mkdir": "m", "tee": "", "truncate": "sr", "sponge": ""}

_HANDLERS: dict[str, _Handler] = {
    **{name: _reader(opts) for name, opts in _READERS.items()},
    **{name: _writer(opts) for name, opts in _WRITERS.items()},
    **dict.fromkeys(("cp", "mv", "ln", "install"), _copy),
    **dict.fromkeys(("chmod", "chown", "chgrp"), _chmod),
    **dict.fromkeys(("mkswap", "wipefs", "fdisk", "sfdisk", "cfdisk", "parted", "gdisk",
                     "sgdisk", "shred"), _disk),
    **dict.fromkeys(("grep", "egrep", "fgrep", "rg", "ag", "ack"), _grep),
    **dict.fromkeys(("sed", "awk", "gawk", "mawk", "nawk", "perl"), _script_filter),
    **dict.fromkeys(("jq", "yq", "gojq", "jaq"), _jq),
    **dict.fromkeys(("unzip", "zip", "gzip", "gunzip", "bzip2", "bunzip2", "xz", "unxz", "zstd",
                     "unzstd", "lz4", "zcat", "bzcat", "xzcat", "zstdcat"), _compress),
    **dict.fromkeys(("curl", "wget"), _curl),
    **dict.fromkeys(("rsync", "scp"), _transfer),
    **dict.fromkeys(("docker", "podman", "nerdctl"), _docker),
    **dict.fromkeys(("shutdown", "reboot", "halt", "poweroff", "systemctl", "init", "telinit",
                     "crontab", "defaults", "diskutil"), _system),
    **dict.fromkeys((*_TOOLS, *_TOOL_ALIASES), _tool),
    **dict.fromkeys(_DNS, lambda c: _Result(Zone.NETWORK, f"shell.network.{c.name}",
                                            f"{c.name} makes DNS queries", sinks={"dns"})),
    **dict.fromkeys(_CLIPBOARD, lambda c: _Result(Zone.WORKSPACE, f"shell.write.{c.name}",
                                                  f"{c.name} writes the clipboard",
                                                  sinks={"clipboard"})),
    "rm": _rm, "dd": _dd, "find": _find, "tar": _tar, "patch": _patch, "gh": _gh,
    "kill": _kill, "git": _git, "dpkg": _package_db, "rpm": _package_db, "python": _python,
}  # fmt: skip


# --- the analysis ------------------------------------------------------------------------

_PRIVILEGE = frozenset({"sudo", "doas", "pkexec", "su", "runuser"})
_PROXIES = frozenset({"torsocks", "proxychains", "proxychains4"})


@functools.lru_cache(maxsize=4096)
def _name(word: str) -> str:
    name = program_name(word)
    m = _VERSIONED.fullmatch(name)
    return ("python" if m.group(1) == "pypy" else m.group(1)) if m else name


class _Analysis:
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
            self.cwd = _Cmd("cd", (), self.home, self.cwd).path(target)

    def facts(self, i: int) -> CommandFacts:
        cmd = self.cmds[i]
        r = self.classify(i)
        if self.names[i] in ("cd", "pushd"):
            self.change_directory(cmd)
        if cmd.redirects:
            self.redirects(cmd, r)
        for path in r.writes:
            if _DEVICE.match(_norm(path)):
                r.floor(Zone.NEVER, "shell.catastrophic.device-write", f"writes {path}")
        if cmd.function and cmd.argv[:1] == (cmd.function,) and self.self_calls[cmd.function] > 1:
            r.floor(Zone.NEVER, "shell.catastrophic.fork-bomb", "a function that spawns itself")
        if self.names[i] in _CODE_RUNNERS and self.runs_fetched(i):
            reason = f"{self.names[i]} runs code fetched from the network"
            r.floor(Zone.NEVER, "shell.catastrophic.pipe-to-shell", reason)
        if cmd.parent >= 0 or cmd.wrappers:
            self.inherit(i, r)
        return CommandFacts(
            cmd, r.zone, r.rule, r.reason, tuple(r.reads), tuple(r.writes), frozenset(r.sinks)
        )

    def inherit(self, i: int, r: _Result) -> None:
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

    def classify(self, i: int) -> _Result:
        cmd, name = self.cmds[i], self.names[i]
        if not cmd.argv:
            return _Result(Zone.SAFE, "shell.readonly.redirect", "only assigns or redirects")
        if cmd.dynamic:
            r = _Result(Zone.BUILD, "shell.dynamic", "command name is computed at run time")
            o = _Opts(cmd.argv[1:])
            vital = next((p for p in o.operands if _vital(_expand(p, self.home), self.home)), None)
            if vital is not None and o.has("-r", "-R", "--recursive"):
                r.floor(
                    Zone.NEVER, "shell.catastrophic.dynamic", f"a computed command -r on {vital}"
                )
            return r
        args = cmd.argv[1:]
        if cmd.via == "argv" and self.names[cmd.parent] == "find":  # find -exec rm {} ;
            starts = _find(_Cmd("find", self.cmds[cmd.parent].argv[1:], self.home)).reads
            args = tuple(p for a in args for p in (starts if a == "{}" else [a]))
        c = _Cmd(name, args, self.home, self.cwd)
        handler = _HANDLERS.get(name) or (_disk if name.startswith("mkfs") else None)
        if handler is not None:
            return handler(c)
        if name in SHELLS or name == "eval":
            if any(self.cmds[k].via == "script" for k in self.children.get(i, [])):
                return _Result(
                    Zone.SAFE, f"shell.readonly.{name}", f"{name} runs the parsed script"
                )
            return _zoned(Zone.BUILD, name, f"{name} script")
        if name in _PROGRAMS:
            return _zoned(_PROGRAMS[name], name)
        if "/" in cmd.argv[0]:
            return _Result(Zone.BUILD, "shell.build.local-program", f"runs {cmd.argv[0]}")
        return _Result(
            Zone.BUILD, f"shell.unknown.{name[:64]}", f"unknown command {name!r} runs code"
        )

    def redirects(self, cmd: SimpleCommand, r: _Result) -> None:
        for redirect in cmd.redirects:
            op = redirect.op.lstrip("0123456789")
            target = _Cmd("", (), self.home, self.cwd).path(redirect.target)
            if "<<" in op or (op in (">&", "<&") and (target.isdigit() or target == "-")):
                continue
            if _HARMLESS_DEV.match(target):
                continue
            targets = _Cmd("", (), self.home, self.cwd).paths([redirect.target])
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
            fetcher = name in _FETCHERS or (name == "python" and _python(
                _Cmd(name, cmd.argv[1:], self.home)).zone is Zone.NETWORK)  # fmt: skip
            upstream = (
                k for k in self.pipelines[cmd.pipeline] if self.cmds[k].position < cmd.position
            )
            inner = (k for k in self.children.get(i, []) if self.cmds[k].via == "subst")
            self.fetched[i] = fetcher or any(map(self.emits_fetched, (*upstream, *inner)))
        return self.fetched[i]

    def runs_fetched(self, i: int) -> bool:
        """Whether command ``i`` runs as code what came from the network."""
        cmd = self.cmds[i]
        code = _code_args(self.names[i], cmd.argv) if cmd.argv and not cmd.dynamic else None
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
