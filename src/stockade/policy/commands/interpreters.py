"""Interpreters and fetchers: what runs code, and what prints what came from the network.

The analysis joins the two to find fetched content run as code (``curl … | sh``,
``bash -c "$(curl …)"``), which is NEVER.
"""

from __future__ import annotations

import re

from stockade.decision import Zone
from stockade.policy.commands.arguments import Cmd, Opts
from stockade.policy.commands.results import Result, zoned
from stockade.policy.commands.tools import tool
from stockade.policy.shell import SHELLS, reads_script_from_stdin

_PY_FETCH = re.compile(r"urllib|urlopen|requests\.|http\.client|httpx|aiohttp|socket\.")
_INLINE = {"python": ("-c",), "perl": ("-e", "-E"), "ruby": ("-e",), "php": ("-r",)}
_INLINE |= {"node": ("-e", "-p", "--eval", "--print"), "lua": ("-e",)}
VERSIONED = re.compile(r"(python|pypy|pip|perl|ruby|node|php|lua)(?:js)?[0-9.]*")


def python(c: Cmd) -> Result:
    if "-m" in c.args[:-1]:
        k = c.args.index("-m")
        if c.args[k + 1] in ("pip", "pip3"):
            return tool(Cmd("pip", c.args[k + 2 :], c.home))
    code = Opts(c.args, "cmWX").values.get("-c", "")
    if _PY_FETCH.search(code):
        return zoned(Zone.NETWORK, "python", "python -c with network code")
    return zoned(Zone.BUILD, "python")


def code_inputs(name: str, argv: tuple[str, ...]) -> tuple[list[str], bool] | None:
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


CODE_RUNNERS = frozenset({*SHELLS, *_INLINE, "eval", "source", "."})
FETCHERS = frozenset(
    "curl wget fetch aria2c nc ncat netcat socat http https xh lynx w3m ssh".split()
)
