"""Wrappers that run the rest of their arguments as a command: ``sudo``, ``env``, ``timeout``.

The parser strips them (recording each in ``SimpleCommand.wrappers``) so that the
wrapped program is judged by its own name; skipping a wrapper's options needs a table
of which options take a value, or ``sudo -u root rm`` would be read as running ``root``.
"""

from __future__ import annotations

from stockade.policy.shell.lexer import ASSIGN, Lexer
from stockade.policy.shell.tokens import Context, Word

NONE: frozenset[str] = frozenset()
# wrapper -> (short options taking a value, long options taking a value, positionals)
WRAPPERS: dict[str, tuple[str, frozenset[str], int]] = {
    "sudo": ("CDghpRrTtUu", frozenset({"--user", "--group", "--host", "--prompt", "--role",
             "--type", "--other-user", "--chdir", "--close-from", "--chroot"}), 0),
    "doas": ("Cu", NONE, 0),
    "pkexec": ("", frozenset({"--user"}), 0),
    "env": ("uCS", frozenset({"--unset", "--chdir", "--split-string"}), 0),
    "timeout": ("ks", frozenset({"--kill-after", "--signal"}), 1),
    "nice": ("n", frozenset({"--adjustment"}), 0),
    "ionice": ("cnp", frozenset({"--class", "--classdata", "--pid"}), 0),
    "time": ("fo", frozenset({"--format", "--output"}), 0),
    "exec": ("a", NONE, 0),
    "stdbuf": ("ioe", frozenset({"--input", "--output", "--error"}), 0),
    "caffeinate": ("tw", NONE, 0),
    "strace": ("abeEIoOpPsSuUX", NONE, 0),
    "ltrace": ("aAeFlnopsuwx", NONE, 0),
    "torsocks": ("upaP", NONE, 0),
    "proxychains": ("f", NONE, 0),
    "proxychains4": ("f", NONE, 0),
} | dict.fromkeys(
    ("nohup", "command", "builtin", "setsid", "unbuffer", "busybox", "noglob", "nocorrect"),
    ("", NONE, 0),
)  # fmt: skip


def skip_options(texts: list[str], i: int, short: str, long: frozenset[str]) -> int:
    """Index of the first operand after the options starting at ``i``."""
    while i < len(texts):
        arg = texts[i]
        if arg == "--":
            return i + 1
        if not arg.startswith("-") or arg == "-":
            return i
        i += 1
        if arg.startswith("--"):
            i += arg in long
            continue
        for k, ch in enumerate(arg[1:], 2):
            if ch in short:
                i += k == len(arg)  # the value is the next word unless attached
                break
    return i


def unwrap(
    name: str, words: list[Word], i: int, depth: int, ctx: Context
) -> tuple[list[Word], int] | None:
    """Words and index of the command ``name`` wraps, or None when it runs none."""
    texts = [w.text for w in words]
    if name == "command" and i < len(texts) and texts[i] in ("-v", "-V"):
        return None  # only looks the name up
    short, long, positionals = WRAPPERS[name]
    while True:
        start, i = i, skip_options(texts, i, short, long) + positionals
        if name in ("env", "sudo"):
            while i < len(texts) and ASSIGN.match(texts[i]):
                i += 1
        end = min(i, len(texts))
        split = next((k for k in range(start, end) if texts[k].startswith(("-S", "--split"))), -1)
        if name != "env" or split < 0:
            return words, i
        arg = texts[split]  # env -S 'cmd args': the string is split into more words
        attached = arg.partition("=")[2] if arg.startswith("--") else arg[2:]
        rest = split + (1 if attached else 2)
        value = attached or (texts[split + 1] if rest <= len(texts) else "")
        extra = [t for t in Lexer(value, depth, ctx).lex() if isinstance(t, Word)]
        words = [*words[:split], *extra, *words[rest:]]
        texts, i = [w.text for w in words], split
