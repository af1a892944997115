"""Commands that read and write files: ``rm``, ``cp``, ``chmod``, ``dd``, ``sed``, ``tar`` …

Each handler says which paths a command reads and writes, and whether it destroys a
vital place or a disk (``rm -r ~``, ``dd of=/dev/sda``), which is NEVER.
"""

from __future__ import annotations

import re

from stockade.decision import Zone
from stockade.policy.commands.arguments import (
    HARMLESS_DEV,
    Cmd,
    Handler,
    describe,
    expand,
    is_vital,
)
from stockade.policy.commands.results import Result, never, zoned


def reader(short_values: str, skip: int = 0) -> Handler:
    def handle(c: Cmd) -> Result:
        return zoned(Zone.SAFE, c.name, reads=c.paths(c.opts(short_values).operands[skip:]))

    return handle


def writer(short_values: str) -> Handler:
    def handle(c: Cmd) -> Result:
        return zoned(Zone.WORKSPACE, c.name, writes=c.paths(c.opts(short_values).operands))

    return handle


def rm(c: Cmd) -> Result:
    o = c.opts()
    paths = c.paths(o.operands)
    if "--no-preserve-root" in o.longs:
        return never("rm-root", "rm --no-preserve-root", paths)
    vital = next((p for p in paths if is_vital(p, c.home)), None)
    if vital is not None and o.has("-r", "-R", "--recursive"):
        return never("rm-root", f"rm -r on {describe(vital, c.home)}", paths)
    return zoned(Zone.WORKSPACE, "rm", writes=paths)


def copy(c: Cmd) -> Result:
    """cp, mv, ln, install: the last operand (or ``-t DIR``) is written."""
    o = c.opts("tSmog")
    paths = c.paths(o.operands)
    target = o.values.get("-t") or o.values.get("--target-directory")
    if target is not None:
        sources, dest = paths, [expand(target, c.home)]
    elif c.name == "install" and o.has("-d"):
        sources, dest = [], paths
    else:
        sources, dest = paths[:-1], paths[-1:] or ["."]
    if c.name == "mv":
        vital = next((p for p in sources if is_vital(p, c.home)), None)
        if vital is not None:
            return never("mv-root", f"mv of {describe(vital, c.home)}", sources + dest)
        return zoned(Zone.WORKSPACE, "mv", reads=sources, writes=sources + dest)
    return zoned(Zone.WORKSPACE, c.name, reads=[] if c.name == "ln" else sources, writes=dest)


def chmod(c: Cmd) -> Result:
    """chmod, chown, chgrp: recursive on a vital place is catastrophic."""
    o = c.opts()
    mode_option = any(re.fullmatch(r"-[rwxXst]+", a) for a in c.args)
    skip = 0 if "--reference" in o.longs or mode_option else 1
    paths = c.paths(o.operands[skip:])
    vital = next((p for p in paths if is_vital(p, c.home)), None)
    if vital is not None and o.has("-R", "--recursive"):
        return never(f"{c.name}-root", f"{c.name} -R on {describe(vital, c.home)}", paths)
    if c.name != "chmod":
        return zoned(Zone.MACHINE, c.name, f"{c.name} (changes ownership)", writes=paths)
    if skip and o.operands and re.search(r"s|^[0-7]*[2467][0-7]{3}$", o.operands[0]):
        return Result(Zone.MACHINE, "shell.machine.setuid", "chmod sets a setuid/setgid bit",
                       writes=paths)  # fmt: skip
    return zoned(Zone.WORKSPACE, "chmod", writes=paths)


def dd(c: Cmd) -> Result:
    kv = dict(a.partition("=")[::2] for a in c.args if "=" in a)
    out, src = kv.get("of"), kv.get("if")
    if out and out.startswith("/dev/") and not HARMLESS_DEV.match(out):
        return never("dd-device", f"dd writes the device {out}", [out])
    reads, writes = c.paths([src] if src else []), c.paths([out] if out else [])
    return zoned(Zone.WORKSPACE if out else Zone.SAFE, "dd", reads=reads, writes=writes)


def disk(c: Cmd) -> Result:
    """Partitioning and wiping tools: catastrophic on a device, else machine-level."""
    if c.name.startswith("mkfs") or c.name in ("mkswap", "wipefs"):
        return never("format", f"{c.name} destroys a filesystem")
    o = c.opts()
    device = next((p for p in o.operands if p.startswith("/dev/")), None)
    if device is None or o.has("-l", "--list") or "print" in o.operands:
        if c.name == "shred":
            return zoned(Zone.WORKSPACE, "shred", writes=c.paths(o.operands))
        return zoned(Zone.MACHINE, c.name)
    return never("disk", f"{c.name} on the device {device}")


def grep(c: Cmd) -> Result:
    o = c.opts("efmABCdDgtTMj" if c.name in ("rg", "ag") else "efmABCdD")
    explicit = any(k in o.values for k in ("-e", "-f", "--regexp", "--file"))
    reads = c.paths(o.operands[0 if explicit else 1 :])
    if not reads and (c.name in ("rg", "ag", "ack") or o.has("-r", "-R", "--recursive")):
        reads = ["."]
    reads += c.paths([o.values["-f"]] if "-f" in o.values else [])
    if "--pre" in o.longs:
        return zoned(Zone.BUILD, c.name, f"{c.name} --pre", reads=reads)
    return zoned(Zone.SAFE, c.name, reads=reads)


_AWK_EXEC = re.compile(r"system\s*\(|\|\s*&|\|\s*getline|print[^;]*\|\s*\"")
_SED_EXEC = re.compile(
    r"(?:^|[;\n{}])\s*[\d,$!~+]*\s*e\b|/[gpiImM0-9]*e[gpiImM0-9]*\s*(?:[;\n}]|$)"
)
_SED_WRITE = re.compile(r"(?:^|[;\n{}/])\s*w\s+(\S+)")


def script_filter(c: Cmd) -> Result:
    """sed, awk, perl: the script is the first operand unless given with -e/-f."""
    o = c.opts("efFlv" if c.name != "perl" else "eEIlMmx")
    given = [o.values[k] for k in ("-e", "-E", "--expression") if k in o.values]
    explicit = bool(given) or "-f" in o.values or "--file" in o.values
    script = " ".join(given) if explicit else (o.operands[0] if o.operands else "")
    files = c.paths(o.operands[0 if explicit else 1 :])
    in_place = "i" in o.flags or "--in-place" in o.longs
    if c.name == "perl" and not in_place:
        return zoned(Zone.BUILD, "perl", reads=files)
    if (_AWK_EXEC if "awk" in c.name else _SED_EXEC).search(script):
        return zoned(Zone.BUILD, c.name, f"{c.name} script that runs commands", reads=files)
    writes = c.paths(_SED_WRITE.findall(script)) if c.name == "sed" else []
    if in_place and "awk" not in c.name:
        return zoned(Zone.WORKSPACE, c.name, f"{c.name} -i", reads=files, writes=files + writes)
    return zoned(Zone.WORKSPACE if writes else Zone.SAFE, c.name, reads=files, writes=writes)


_JQ_WIDTH = {"--arg": 3, "--argjson": 3, "--slurpfile": 3, "--rawfile": 3, "--indent": 2}
_JQ_WIDTH |= {"-f": 2, "--from-file": 2, "-L": 2}


def jq(c: Cmd) -> Result:
    operands, i = list[str](), 0
    while i < len(c.args):
        arg = c.args[i]
        i += _JQ_WIDTH.get(arg, 1)
        if not arg.startswith("-") or arg == "-":
            operands.append(arg)
    return zoned(Zone.SAFE, c.name, reads=c.paths(operands[1:]))


def find(c: Cmd) -> Result:
    first = next((k for k, a in enumerate(c.args) if a[:1] in ("-", "(", "!")), len(c.args))
    starts = c.paths(c.args[:first]) or ["."]
    writes = [c.args[k + 1] for k, a in enumerate(c.args[:-1]) if a in ("-fprint", "-fls")]
    if "-delete" in c.args:
        vital = next((p for p in starts if is_vital(p, c.home)), None)
        if vital is not None:
            return never("find-delete", f"find -delete on {describe(vital, c.home)}", starts)
        return zoned(Zone.WORKSPACE, "find", "find -delete", reads=starts, writes=starts)
    return zoned(Zone.WORKSPACE if writes else Zone.SAFE, "find", reads=starts, writes=writes)


def tar(c: Cmd) -> Result:
    o = c.opts("fCbTXIKN")
    old_style = bool(c.args) and c.args[0][:1] != "-"  # tar xzf a.tgz
    mode, files = o.flags + (c.args[0] if old_style else ""), o.operands[old_style:]
    archive = o.values.get("-f") or o.values.get("--file")
    if archive is None and old_style and "f" in mode and files:
        archive, files = files[0], files[1:]
    archives = c.paths([archive] if archive else [])
    if "t" in mode or "--list" in o.longs:
        return zoned(Zone.SAFE, "tar", reads=archives)
    if "x" in mode or "--extract" in o.longs or "--get" in o.longs:
        dest = o.values.get("-C") or o.values.get("--directory") or "."
        return zoned(Zone.WORKSPACE, "tar", "tar -x", reads=archives, writes=c.paths([dest]))
    return zoned(Zone.WORKSPACE, "tar", reads=c.paths(files), writes=archives)


def compress(c: Cmd) -> Result:
    """unzip, zip and the compressors: listing and ``-c`` only read."""
    o = c.opts("dxP" if c.name == "unzip" else "S")
    files = c.paths(o.operands)
    if c.name == "unzip":
        if o.has("-l", "-t", "-v", "-p", "-Z"):
            return zoned(Zone.SAFE, "unzip", reads=files[:1])
        dest = c.paths([o.values.get("-d", ".")])
        return zoned(Zone.WORKSPACE, "unzip", reads=files[:1], writes=dest)
    if c.name == "zip":
        return zoned(Zone.WORKSPACE, "zip", reads=files[1:], writes=files[:1])
    if c.name.endswith("cat") or o.has("-c", "-l", "-t", "--stdout", "--list", "--test"):
        return zoned(Zone.SAFE, c.name, reads=files)
    return zoned(Zone.WORKSPACE, c.name, reads=files, writes=files)


def patch(c: Cmd) -> Result:
    o = c.opts("pFBDVidorz")
    reads = c.paths([o.values["-i"]] if "-i" in o.values else o.operands[1:2])
    writes = c.paths(o.operands[:1] or [o.values.get("-o") or o.values.get("-d") or "."])
    return zoned(Zone.WORKSPACE, "patch", reads=reads, writes=writes)
