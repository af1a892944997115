"""Programs that run other programs: ``bash -c``, ``ssh host CMD``, ``find -exec``, ``xargs``.

Each finder reads a command's arguments (and here-documents) and returns what it would
run, as a script to lex or an argument list, with the ``via`` that says how.
"""

from __future__ import annotations

from collections.abc import Callable

from stockade.policy.shell.model import SHELLS, program_name
from stockade.policy.shell.tokens import Job, Redir, Token, Word
from stockade.policy.shell.wrappers import NONE, skip_options


def reads_script_from_stdin(argv: tuple[str, ...]) -> bool:
    """Whether ``argv`` is a shell that takes its script from stdin (``curl … | bash -s``)."""
    return bool(argv) and program_name(argv[0]) in SHELLS and _shell_mode(argv[1:])[1]


def _argv_job(words: list[Word]) -> Job:
    """An argument list run as a command: its substitutions were already harvested."""
    toks = list[Token]()
    for w in words:
        bare = Word(w.text)
        bare.dynamic, bare.quoted = w.dynamic, True  # quoted: never a reserved word
        toks.append(bare)
    return toks, "argv"


_Finder = Callable[[list[Word], list[Redir]], list[Job]]


def _shell_mode(args: tuple[str, ...] | list[str]) -> tuple[str | None, bool]:
    """A shell's ``-c`` script, and whether it reads its script from stdin instead."""
    i, has_c, has_s = 0, False, False
    while i < len(args) and len(args[i]) > 1 and args[i][0] in "-+" and args[i] != "--":
        arg = args[i]
        i += 2 if arg in ("-o", "+o", "-O", "+O", "--rcfile", "--init-file") else 1
        if arg[0] == "-" and not arg.startswith("--"):
            has_c, has_s = has_c or "c" in arg, has_s or "s" in arg
    i += i < len(args) and args[i] == "--"
    if has_c:
        return (args[i] if i < len(args) else None), False
    return None, has_s or i >= len(args) or args[i] == "-"


def _stdin_scripts(redirs: list[Redir], via: str) -> list[Job]:
    return [
        (r.target.text if r.body is None else r.body, via)
        for r in redirs
        if r.op.lstrip("0123456789") in ("<<", "<<-", "<<<")
    ]


def _shell(ws: list[Word], redirs: list[Redir]) -> list[Job]:
    script, stdin = _shell_mode([w.text for w in ws])
    if script is not None:
        return [(script, "script")]
    return _stdin_scripts(redirs, "script") if stdin else []


def _option_value(texts: list[str], options: tuple[str, ...]) -> str | None:
    """The value of the first of ``options`` (``-c x``, ``--command=x``), if given."""
    for k, arg in enumerate(texts):
        if arg in options and k + 1 < len(texts):
            return texts[k + 1]
        if arg.startswith("--") and arg.partition("=")[0] in options:
            return arg.partition("=")[2]
    return None


def _script_option(*options: str) -> _Finder:
    def find(ws: list[Word], redirs: list[Redir]) -> list[Job]:
        script = _option_value([w.text for w in ws], options)
        return [] if script is None else [(script, "script")]

    return find


def _ssh(ws: list[Word], redirs: list[Redir]) -> list[Job]:
    texts = [w.text for w in ws]
    i = skip_options(texts, 0, "BbcDEeFIiJLlmOoPpQRSWw", NONE) + 1
    if i < len(texts):
        return [(" ".join(texts[i:]), "remote")]
    return _stdin_scripts(redirs, "remote")


def _after_options(short: str, long: frozenset[str] = NONE, *, script: bool) -> _Finder:
    def find(ws: list[Word], redirs: list[Redir]) -> list[Job]:
        i = skip_options([w.text for w in ws], 0, short, long)
        if i >= len(ws):
            return []
        if script:
            return [(" ".join(w.text for w in ws[i:]), "script")]
        return [_argv_job(ws[i:])]

    return find


def _find(ws: list[Word], redirs: list[Redir]) -> list[Job]:
    jobs: list[Job] = []
    i = 0
    while i < len(ws):
        if ws[i].text in ("-exec", "-execdir", "-ok", "-okdir"):
            j = i + 1
            while j < len(ws) and ws[j].text != ";" and (ws[j].text, ws[j - 1].text) != ("+", "{}"):
                j += 1
            if j > i + 1:
                jobs.append(_argv_job(ws[i + 1 : j]))
            i = j
        i += 1
    return jobs


def _parallel(ws: list[Word], redirs: list[Redir]) -> list[Job]:
    texts = [w.text for w in ws]
    i = skip_options(texts, 0, "jSaIdnNLCE", frozenset({"--jobs", "--sshlogin", "--arg-file"}))
    end = next((k for k in range(i, len(texts)) if texts[k].startswith(":::")), len(texts))
    if end > i:
        return [(" ".join(texts[i:end]), "script")]
    return [(t, "script") for t in texts[end + 1 :] if not t.startswith(":::")]


def _flock(ws: list[Word], redirs: list[Redir]) -> list[Job]:
    texts = [w.text for w in ws]
    i = skip_options(texts, 0, "Ew", frozenset({"--timeout", "--wait", "--conflict-exit-code"}))
    if i + 1 < len(texts) and texts[i + 1] in ("-c", "--command"):
        return [(texts[i + 2], "script")] if i + 2 < len(texts) else []
    return [_argv_job(ws[i + 1 :])] if i + 1 < len(ws) else []


def _trap(ws: list[Word], redirs: list[Redir]) -> list[Job]:
    texts = [t for t in (w.text for w in ws) if t != "--"]
    if len(texts) >= 2 and not texts[0].startswith("-"):
        return [(texts[0], "script")]
    return []


_RUN_OPTIONS = frozenset({"--with", "--with-editable", "--with-requirements", "--python",
                          "--directory", "--project", "--package", "--extra", "--group",
                          "--env-file", "--index", "--from"})  # fmt: skip


def _runner(sub: str) -> _Finder:
    """``uv run CMD``, ``poetry run CMD``, ``bundle exec CMD`` …: the rest is a command."""
    run = _after_options("p", _RUN_OPTIONS, script=False)

    def find(ws: list[Word], redirs: list[Redir]) -> list[Job]:
        i = skip_options([w.text for w in ws], 0, "", NONE)
        return run(ws[i + 1 :], redirs) if i < len(ws) and ws[i].text == sub else []

    return find


CHILDREN: dict[str, _Finder] = dict.fromkeys(SHELLS, _shell) | {
    "eval": lambda ws, _: [(" ".join(w.text for w in ws), "script")],
    "su": _script_option("-c", "--command"),
    "runuser": _script_option("-c", "--command"),
    "script": _script_option("-c", "--command"),
    "ssh": _ssh,
    "watch": _after_options("nq", frozenset({"--interval"}), script=True),
    "find": _find,
    "xargs": _after_options("aEdILnPs", frozenset({"--arg-file", "--delimiter",
                            "--max-args", "--max-procs", "--max-chars"}), script=False),
    "parallel": _parallel,
    "flock": _flock,
    "trap": _trap,
    "uv": _runner("run"), "poetry": _runner("run"), "pipenv": _runner("run"),
    "pdm": _runner("run"), "hatch": _runner("run"), "rye": _runner("run"),
    "bundle": _runner("exec"), "pnpm": _runner("exec"), "npm": _runner("exec"),
}  # fmt: skip
