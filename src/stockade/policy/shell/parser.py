"""Tokens to simple commands: pipelines, reserved words, and what each command runs.

Groups, loops, ``case`` and function bodies are looked through rather than modelled;
every command is appended to the output before the commands it runs (its substitutions,
a ``-c`` script, text piped into a shell), which are parsed one ``depth`` deeper.
"""

from __future__ import annotations

import re

from stockade.policy.shell.escapes import decode_escapes
from stockade.policy.shell.lexer import Lexer
from stockade.policy.shell.model import SUBST, Redirect, SimpleCommand, program_name
from stockade.policy.shell.nested import CHILDREN, reads_script_from_stdin
from stockade.policy.shell.tokens import Context, Job, Redir, Token, Word
from stockade.policy.shell.wrappers import WRAPPERS, unwrap

_SKIPPED = frozenset({"if", "then", "else", "elif", "do", "while", "until", "!", "fi", "done"})
_SKIPPED |= {"esac", "coproc"}
_SEPARATORS = frozenset({";", "&", "&&", "||", "\n", ";;", ";&", ";;&"})
_VIA = {"$(": "subst", "`": "subst", "<(": "subst", ">(": "sink"}


class _Raw:
    __slots__ = ("function", "position", "redirs", "words")

    def __init__(self, words: list[Word], redirs: list[Redir], position: int, fn: str) -> None:
        self.words, self.redirs, self.position, self.function = words, redirs, position, fn


def parse_tokens(
    toks: list[Token], depth: int, parent: int, via: str, function: str, ctx: Context
) -> None:
    """Group tokens into pipelines of simple commands; reserved words are looked through."""
    words: list[Word] = []
    redirs: list[Redir] = []
    pipeline: list[_Raw] = []
    loose: list[Job] = []  # substitutions in words that are not commands (for-lists …)
    groups: list[str] = []
    position, mode, pending_fn, i, n = 0, "", "", 0, len(toks)
    while i < n:
        tok = toks[i]
        i += 1
        if isinstance(tok, Word):
            plain = not tok.quoted and not tok.dynamic
            if tok.arith or mode in ("for", "case", "case-in", "pattern"):
                loose += [(t, _VIA[k]) for k, t in tok.subs]
                if mode == "case" or (mode == "case-in" and tok.text == "in"):
                    mode = "case-in" if mode == "case" else "pattern"
                elif mode == "pattern" and plain and tok.text == "esac":
                    mode = ""
                continue
            if not words and not redirs and plain:
                kw = tok.text
                if kw in _SKIPPED:
                    continue
                if kw in ("for", "select", "case"):
                    mode = "case" if kw == "case" else "for"
                    continue
                if kw in ("{", "}"):
                    if kw == "{":
                        groups.append(pending_fn or (groups[-1] if groups else function))
                    elif groups:
                        groups.pop()
                    pending_fn = ""
                    continue
                name = toks[i] if kw == "function" and i < n else None
                if isinstance(name, Word):
                    pending_fn = name.text
                    i += 3 if toks[i + 1 : i + 3] == ["(", ")"] else 1
                    continue
                if toks[i : i + 2] == ["(", ")"]:
                    pending_fn, i = kw, i + 2
                    continue
            words.append(tok)
            continue
        if isinstance(tok, Redir):
            redirs.append(tok)
            continue
        if mode == "pattern":
            mode = "" if tok == ")" else mode
            continue
        if words or redirs:
            fn = groups[-1] if groups else function
            pipeline.append(_Raw(words, redirs, position, fn))
            words, redirs = [], []
        if tok in ("|", "|&"):
            position += 1
        elif tok == "(":
            groups.append(pending_fn or (groups[-1] if groups else function))
            pending_fn = ""
        elif tok == ")":
            if groups:
                groups.pop()
            else:
                ctx.fail("unmatched )")
        elif tok in _SEPARATORS:
            _emit(pipeline, depth, parent, via, ctx)
            pipeline, position = [], 0
            mode = "pattern" if tok in (";;", ";&", ";;&") else "" if mode == "for" else mode
    if words or redirs:
        pipeline.append(_Raw(words, redirs, position, groups[-1] if groups else function))
    _emit(pipeline, depth, parent, via, ctx)
    if groups:
        ctx.fail("unclosed ( or {")
    for job in loose:
        _run(job, depth + 1, parent, ctx, function)


def _emit(pipeline: list[_Raw], depth: int, parent: int, via: str, ctx: Context) -> None:
    """Append one pipeline's commands, then parse what each of them runs."""
    if not pipeline:
        return
    pid, ctx.pipelines = ctx.pipelines, ctx.pipelines + 1
    built = [_build(raw, depth, parent, via, pid, ctx) for raw in pipeline]
    for k in range(1, len(built)):  # echo 'rm -rf ~' | sh: the text is a script
        feeder, (shell, jobs) = built[k - 1][0], built[k]
        if pipeline[k].position == feeder.position + 1 and reads_script_from_stdin(shell.argv):
            text = _static_output(feeder, pipeline[k - 1].redirs)
            if text:
                jobs.append((text, "script"))
    for cmd, jobs in built:
        index = len(ctx.out)
        ctx.out.append(cmd)
        for job in jobs:
            _run(job, depth + 1, index, ctx, cmd.function)


def _run(job: Job, depth: int, parent: int, ctx: Context, function: str) -> None:
    payload, via = job
    if depth > ctx.max_depth:
        ctx.fail(f"nesting deeper than {ctx.max_depth} levels")
        return
    toks = Lexer(payload, depth, ctx).lex() if isinstance(payload, str) else payload
    parse_tokens(toks, depth, parent, via, function, ctx)


def _static_output(cmd: SimpleCommand, redirs: list[Redir]) -> str:
    """What ``echo``/``printf``/``cat <<EOF`` print, when that is known without running."""
    name = program_name(cmd.argv[0]) if cmd.argv else ""
    if name in ("echo", "printf"):
        args = list(cmd.argv[1:])
        while name == "echo" and args and re.fullmatch(r"-[neE]+", args[0]):
            args.pop(0)
        return decode_escapes(" ".join(args))
    if name in ("cat", ""):
        return "\n".join(
            r.target.text if r.body is None else r.body for r in redirs if "<<" in r.op
        )
    return ""


def _build(
    raw: _Raw, depth: int, parent: int, via: str, pid: int, ctx: Context
) -> tuple[SimpleCommand, list[Job]]:
    """Strip assignments and wrappers; find the commands this one runs."""
    jobs: list[Job] = []
    for w in raw.words:
        if w.subs:
            jobs += [(toks, _VIA[kind]) for kind, toks in w.subs]
    for r in raw.redirs:
        jobs += [(toks, _VIA[kind]) for kind, toks in (*r.target.subs, *r.subs)]
    words, i, wrappers, name = raw.words, 0, list[str](), ""
    while i < len(words) and words[i].assign:
        i += 1
    while i < len(words) and not words[i].dynamic:
        name = program_name(words[i].text)
        if name not in WRAPPERS:
            break
        unwrapped = unwrap(name, words, i + 1, depth, ctx)
        if unwrapped is None or unwrapped[1] >= len(unwrapped[0]):
            break
        wrappers.append(name)
        words, i = unwrapped
    head = words[i] if i < len(words) else None
    dynamic = head is not None and (head.dynamic or SUBST in head.text)
    argv = tuple([w.text for w in words[i:]])
    redirects = tuple([Redirect(r.op, r.target.text) for r in raw.redirs])
    cmd = SimpleCommand(
        argv,
        redirects,
        tuple(wrappers),
        depth,
        dynamic,
        pid,
        raw.position,
        parent,
        via,
        raw.function,
    )
    if argv and not dynamic:
        finder = CHILDREN.get(name if name else program_name(argv[0]))
        if finder is not None:
            jobs += finder(words[i + 1 :], raw.redirs)
    return cmd, jobs
