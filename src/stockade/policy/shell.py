"""Split one shell command line into every simple command it would run.

An agent's ``Bash`` call is one string, but the shell may start many programs from it,
and ``ls && rm -rf ~`` must not hide behind ``ls``.  :func:`parse` lexes the string the
way bash does (quotes, escapes, ``$'…'``, here-documents, comments), splits it on every
control operator, looks through groups, loops, ``case`` and function bodies, and unwraps
programs that run other programs: ``$(…)``, backticks and ``<(…)``; ``bash -c``, ``eval``,
``su -c``, ``ssh host CMD``, ``watch``, ``find -exec``, ``xargs``, ``parallel``, ``flock``,
``uv run`` …; text piped or here-doc'ed into a shell; and wrappers such as ``sudo``,
``env``, ``timeout`` or ``nohup``, which are stripped and recorded.  Each level of
nesting is one ``depth``; past ``max_depth`` the parse reports an error, as it does for
anything it cannot lex, and the engine then fails closed.

Nothing is executed or expanded: ``$HOME`` and ``${x}`` stay as written, a command
substitution becomes the :data:`SUBST` marker, and a command *name* built from either is
``dynamic``.  Each nested command records its ``parent`` (an index into
``ParsedCommand.commands``) and ``via``, how the parent runs it:

=========  =====================================================================
``""``     top level
``subst``  its output becomes the parent's arguments: ``$(…)``, backticks, ``<(…)``
``sink``   it reads the parent's output: ``>(…)``
``script`` a string the parent runs as shell code: ``-c``, ``eval``, here-doc, pipe
``argv``   an argument list the parent executes: ``find -exec``, ``xargs``, ``uv run``
``remote`` shell code run on another machine: ``ssh host CMD``
=========  =====================================================================
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass

SUBST = "\x00subst\x00"
"""Stands in argv for the output of a command substitution, which cannot be known."""


@dataclass(frozen=True, slots=True)
class Redirect:
    """One redirection: ``op`` as written with its fd digits (``2>>``), ``target`` unquoted."""

    op: str
    target: str


@dataclass(frozen=True, slots=True)
class SimpleCommand:
    """One program the shell would start, with wrappers and ``VAR=val`` prefixes removed."""

    argv: tuple[str, ...]
    redirects: tuple[Redirect, ...] = ()
    wrappers: tuple[str, ...] = ()
    depth: int = 0
    dynamic: bool = False
    pipeline: int = 0
    position: int = 0
    parent: int = -1
    via: str = ""
    function: str = ""  # the shell function whose body holds this command


@dataclass(frozen=True, slots=True)
class ParsedCommand:
    """Every simple command, parents before children; ``error`` means: fail closed."""

    commands: tuple[SimpleCommand, ...]
    error: str | None = None


@functools.lru_cache(maxsize=4096)
def program_name(word: str) -> str:
    """The name a command is known by: ``/usr/bin/RM`` and ``clip.exe`` become ``rm``, ``clip``."""
    name = word.rsplit("/", 1)[-1].lower()
    return name[:-4] if name.endswith(".exe") else name


SHELLS = frozenset({"sh", "bash", "zsh", "dash", "ksh", "mksh", "ash", "yash", "fish", "posh"})


def reads_script_from_stdin(argv: tuple[str, ...]) -> bool:
    """Whether ``argv`` is a shell that takes its script from stdin (``curl … | bash -s``)."""
    return bool(argv) and program_name(argv[0]) in SHELLS and _shell_mode(argv[1:])[1]


def parse(command: str, *, max_depth: int = 8, max_length: int = 100_000) -> ParsedCommand:
    """Split ``command`` into simple commands; never raises, reports bad input in ``error``."""
    if len(command) > max_length:
        return ParsedCommand((), f"command is longer than {max_length} characters")
    ctx = _Ctx(max_depth)
    nul = command.find("\x00")
    if nul >= 0:
        ctx.fail(f"NUL byte at offset {nul}")
        command = command.replace("\x00", " ")
    try:
        _parse_tokens(_Lexer(command, 0, ctx).lex(), 0, -1, "", "", ctx)
    except RecursionError:
        ctx.fail("command is nested too deeply")
    return ParsedCommand(tuple(ctx.out), ctx.error)


# --- lexer ---------------------------------------------------------------------------

_BLANKS = " \t\r\f\v"
_STOP = frozenset(" \t\r\f\v\n|&;()<>")
_PLAIN = re.compile(r"[^ \t\n\r\f\v'\"\\$`|&;()<>\x00]+")
_SIMPLE_WORD = re.compile(r"(?!#)[^ \t\n\r\f\v'\"\\$`|&;()<>\x00]+(?=[ \t\n\r\f\v|&;)]|\Z)")
_DQ_PLAIN = re.compile(r'[^"\\$`\x00]+')
_HD_PLAIN = re.compile(r"[^\\$`\x00]+")
_BT_PLAIN = re.compile(r"[^\\`]+")
_PARENS = re.compile(r"[()]")
_ANSI_BODY = re.compile(r"(?:[^\\']+|\\.)*", re.S)
_OPERATOR = re.compile(r";;&|;;|;&|;|&&|\|\||\|&|\||&(?!>)")
_REDIRECT = re.compile(r"&>>?|[0-9]*(?:>>|>\||>&|<<<|<<-|<<|<&|<>|>|<)")
_ASSIGN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\[[^\]]*\])?\+?=")
_PARAM = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|[0-9@*#?$!-]")
_ANSI = re.compile(r"\\(?:([0-7]{1,3})|x([0-9a-fA-F]{1,2})|u([0-9a-fA-F]{1,4})"
                   r"|U([0-9a-fA-F]{1,8})|c(.)|(.))", re.S)  # fmt: skip
_ESCAPES = {"a": "\a", "b": "\b", "e": "\x1b", "E": "\x1b", "f": "\f", "n": "\n", "r": "\r"}
_ESCAPES |= {"t": "\t", "v": "\v", "\\": "\\", "'": "'", '"': '"', "?": "?"}
_MAX_NEST = 64  # ${…} and quotes inside them; keeps recursion far from Python's limit


def _decode_escape(m: re.Match[str]) -> str:
    octal, hex2, hex4, hex8, ctrl, other = m.groups()
    if other is not None:
        return _ESCAPES.get(other, "\\" + other)
    code = ord(ctrl) & 0x1F if ctrl else int(octal, 8) if octal else int(hex2 or hex4 or hex8, 16)
    return chr(code) if code <= 0x10FFFF else "\ufffd"


def decode_escapes(text: str) -> str:
    """Decode C escapes as ``$'…'`` and ``printf`` do; like bash, stop at a NUL."""
    return _ANSI.sub(_decode_escape, text).split("\x00", 1)[0]


class _Ctx:
    """State shared by one parse: limits, the first error, the output, pipeline ids."""

    __slots__ = ("error", "max_depth", "out", "pipelines")

    def __init__(self, max_depth: int) -> None:
        self.max_depth = max_depth
        self.error: str | None = None
        self.out: list[SimpleCommand] = []
        self.pipelines = 0

    def fail(self, message: str) -> None:
        if self.error is None:
            self.error = message


class _Word:
    __slots__ = ("arith", "assign", "dynamic", "quoted", "subs", "text")

    def __init__(self, text: str = "") -> None:
        self.text = text
        self.dynamic = self.quoted = self.assign = self.arith = False
        self.subs: list[tuple[str, list[_Token]]] = []


class _Redir:
    __slots__ = ("body", "op", "subs", "target")

    def __init__(self, op: str, target: _Word) -> None:
        self.op, self.target = op, target
        self.body: str | None = None
        self.subs: list[tuple[str, list[_Token]]] = []


_Token = str | _Word | _Redir


class _Lexer:
    """Bash's tokenizer, minus execution; substitutions are lexed recursively."""

    __slots__ = ("ctx", "depth", "nest", "no_arith", "pending", "pos", "src")

    def __init__(self, src: str, depth: int, ctx: _Ctx) -> None:
        self.src, self.depth, self.ctx = src, depth, ctx
        self.pos = self.nest = self.no_arith = 0
        self.pending: list[_Redir] = []

    def lex(self, closing: str = "", opened: int = 0) -> list[_Token]:
        """Tokens up to the end, or up to the ``)`` that closes ``closing`` (``$(``, ``<(``)."""
        src, n, toks = self.src, len(self.src), list[_Token]()
        parens = cases = 0
        at_start = True
        while True:
            pos = self.pos
            while pos < n and src[pos] in _BLANKS:
                pos += 1
            self.pos = pos
            if pos >= n:
                if closing:
                    self.ctx.fail(f"unterminated {closing} at offset {opened}")
                return toks
            c = src[pos]
            m = _SIMPLE_WORD.match(src, pos)
            if m is not None:  # the common case: a word without quotes or expansions
                word = _Word(m.group())
                word.assign = "=" in word.text and _ASSIGN.match(word.text) is not None
                toks.append(word)
                self.pos = m.end()
                if at_start:
                    cases += word.text == "case"
                    cases -= word.text == "esac" and cases > 0
                    at_start = word.text in _OPENERS
            elif c == "#":
                nl = src.find("\n", pos)
                self.pos = n if nl < 0 else nl
            elif c == "\n":
                toks.append("\n")
                self.pos, at_start = pos + 1, True
                self._heredocs()
            elif c == "\\" and src.startswith("\n", pos + 1):
                self.pos = pos + 2
            elif c == ")":
                self.pos, at_start = pos + 1, True
                if closing and not parens and not cases:
                    return toks
                parens -= parens > 0
                toks.append(")")
            elif c == "(":
                if at_start and src.startswith("(", pos + 1) and pos >= self.no_arith:
                    word = _Word()
                    if self._arith(word, pos, 2):
                        word.arith, at_start = True, False
                        toks.append(word)
                        continue
                self.pos, at_start, parens = pos + 1, True, parens + 1
                toks.append("(")
            elif (m := _OPERATOR.match(src, pos)) is not None:
                toks.append(m.group())
                self.pos, at_start = m.end(), True
            elif (
                c in "<>&0123456789"
                and (m := _REDIRECT.match(src, pos)) is not None
                and not (m.group() in ("<", ">") and src.startswith("(", m.end()))
            ):
                toks.append(self._redirect(m.group(), pos))
                at_start = False
            else:
                word = self._word()
                if self.pos == pos:  # cannot happen for valid syntax; never loop forever
                    self.ctx.fail(f"unexpected {c!r} at offset {pos}")
                    self.pos += 1
                toks.append(word)
                if at_start and not word.quoted and not word.dynamic:
                    cases += word.text == "case"
                    cases -= word.text == "esac" and cases > 0
                    at_start = word.text in _OPENERS
                else:
                    at_start = False

    def _redirect(self, op: str, at: int) -> _Redir:
        src, pos = self.src, at + len(op)
        while pos < len(src) and src[pos] in _BLANKS:
            pos += 1
        self.pos = pos
        if pos >= len(src) or (src[pos] in _STOP and src[pos : pos + 2] not in ("<(", ">(")):
            self.ctx.fail(f"redirection {op} without a target at offset {at}")
            return _Redir(op, _Word())
        redir = _Redir(op, self._word())
        if op.lstrip("0123456789") in ("<<", "<<-"):
            self.pending.append(redir)
        return redir

    def _heredocs(self) -> None:
        """Read the bodies of here-documents opened on the line that just ended."""
        src, n = self.src, len(self.src)
        for redir in self.pending:
            delim, start, end = redir.target.text, self.pos, n
            strip = redir.op.endswith("-")
            while self.pos < n:
                eol = src.find("\n", self.pos)
                eol = n if eol < 0 else eol
                line = src[self.pos : eol]
                if (line.lstrip("\t") if strip else line) == delim:
                    end, self.pos = self.pos, eol + 1
                    break
                self.pos = eol + 1
            self.pos = min(self.pos, n)
            redir.body = src[start:end]
            if not redir.target.quoted:  # unquoted delimiter: $(…) in the body runs
                holder = _Word()
                _Lexer(redir.body, self.depth, self.ctx)._dquote([], holder, "", 0)
                redir.subs = holder.subs
        self.pending.clear()

    def _word(self) -> _Word:
        src, n = self.src, len(self.src)
        word, parts = _Word(), list[str]()
        word.assign = _ASSIGN.match(src, self.pos) is not None
        while self.pos < n:
            pos = self.pos
            m = _PLAIN.match(src, pos)
            if m is not None:
                parts.append(m.group())
                self.pos = m.end()
                continue
            c = src[pos]
            if c in "<>" and src.startswith("(", pos + 1):
                self._substitute(word, parts, pos + 2, c + "(")
            elif c in _STOP:
                break
            elif c == "\\":
                if src.startswith("\n", pos + 1):
                    self.pos = pos + 2
                    continue
                parts.append(src[pos + 1 : pos + 2] or "\\")
                self.pos, word.quoted = pos + 2, True
            elif c == "'":
                end = src.find("'", pos + 1)
                if end < 0:
                    self.ctx.fail(f"unbalanced single quote at offset {pos}")
                    end = n
                parts.append(src[pos + 1 : end])
                self.pos, word.quoted = end + 1, True
            elif c == '"':
                self.pos, word.quoted = pos + 1, True
                self._dquote(parts, word, '"', pos)
            elif c == "`":
                self._backtick(parts, word)
            elif c == "$":
                self._dollar(parts, word, in_dquote=False)
            else:
                self._nul(parts, word)
        if word.assign and parts and parts[-1].endswith("=") and src.startswith("(", self.pos):
            self.pos += 1  # array assignment a=(x y): harvest substitutions from its items
            for tok in self.lex("(", self.pos - 1):
                if isinstance(tok, _Word):
                    word.subs += tok.subs
            parts.append("(…)")
        word.text = "".join(parts)
        self.pos = min(self.pos, n)
        return word

    def _dquote(self, parts: list[str], word: _Word, end: str, opened: int) -> None:
        """Double-quoted text up to ``end``; with no ``end``, a here-doc body to the end."""
        src, n = self.src, len(self.src)
        plain, escapable = (_DQ_PLAIN, '$`"\\') if end else (_HD_PLAIN, "$`\\")
        self.nest += 1
        if self.nest > _MAX_NEST:
            self.ctx.fail(f"quotes nested too deeply at offset {opened}")
            self.pos = n
        while self.pos < n:
            pos = self.pos
            m = plain.match(src, pos)
            if m is not None:
                parts.append(m.group())
                self.pos = m.end()
                continue
            c = src[pos]
            if c == end:
                self.pos = pos + 1
                self.nest -= 1
                return
            if c == "\\":
                nxt = src[pos + 1 : pos + 2]
                if nxt and nxt in escapable:
                    parts.append(nxt)
                    self.pos = pos + 2
                else:
                    self.pos = pos + (2 if nxt == "\n" else 1)
                    parts.append("" if nxt == "\n" else "\\")
            elif c == "$":
                self._dollar(parts, word, in_dquote=True)
            elif c == "`":
                self._backtick(parts, word)
            else:
                self._nul(parts, word)
        self.nest -= 1
        if end:
            self.ctx.fail(f"unbalanced double quote at offset {opened}")

    def _dollar(self, parts: list[str], word: _Word, *, in_dquote: bool) -> None:
        src, pos = self.src, self.pos
        nxt = src[pos + 1 : pos + 2]
        if nxt == "(":
            if src.startswith("((", pos + 1) and pos >= self.no_arith and self._arith(word, pos, 3):
                parts.append(src[pos : self.pos])
                word.dynamic = True
            else:
                self._substitute(word, parts, pos + 2, "$(")
        elif nxt == "{":
            self._brace(word, pos)
            parts.append(src[pos : self.pos])
            word.dynamic = True
        elif nxt == "'" and not in_dquote:
            m = _ANSI_BODY.match(src, pos + 2)
            assert m is not None  # the pattern matches the empty string
            if not src.startswith("'", m.end()):
                self.ctx.fail(f"unbalanced $' quote at offset {pos}")
            parts.append(decode_escapes(m.group()))
            self.pos, word.quoted = m.end() + 1, True
        elif nxt == '"' and not in_dquote:
            self.pos, word.quoted = pos + 2, True
            self._dquote(parts, word, '"', pos)
        elif (m := _PARAM.match(src, pos + 1)) is not None:
            parts.append("$" + m.group())
            self.pos, word.dynamic = m.end(), True
        else:
            parts.append("$")
            self.pos = pos + 1

    def _substitute(self, word: _Word, parts: list[str], inner: int, kind: str) -> None:
        if self.depth >= self.ctx.max_depth:
            self.ctx.fail(f"nesting deeper than {self.ctx.max_depth} levels at offset {self.pos}")
            self.pos = len(self.src)
            return
        opened, self.pos = self.pos, inner
        self.depth += 1
        word.subs.append((kind, self.lex(kind, opened)))
        self.depth -= 1
        parts.append(SUBST)
        word.dynamic = True

    def _arith(self, word: _Word, pos: int, skip: int) -> bool:
        """``((…))``/``$((…))``: not a command, but ``$(…)`` inside it runs."""
        src, level, i = self.src, 0, pos + skip
        for m in _PARENS.finditer(src, i):
            j = m.start()
            if src[j] == "(":
                level += 1
            elif level:
                level -= 1
            elif src.startswith(")", j + 1):
                holder = _Lexer(src[pos + skip : j], self.depth, self.ctx)
                holder._dquote([], word, "", 0)
                self.pos = j + 2
                return True
            else:
                self.no_arith = j
                return False
        self.no_arith = len(src)
        return False

    def _brace(self, word: _Word, pos: int) -> None:
        """Skip ``${…}``, harvesting the substitutions inside it."""
        src, n, level = self.src, len(self.src), 1
        self.pos, self.nest = pos + 2, self.nest + 1
        if self.nest > _MAX_NEST:
            self.ctx.fail(f"${{…}} nested too deeply at offset {pos}")
            self.pos = n
        while self.pos < n:
            p = self.pos
            c = src[p]
            if c in "{}":
                level += 1 if c == "{" else -1
                self.pos = p + 1
                if not level:
                    self.nest -= 1
                    return
            elif c == "\\":
                self.pos = p + 2
            elif c == "'":
                end = src.find("'", p + 1)
                self.pos = n if end < 0 else end + 1
            elif c == '"':
                self.pos = p + 1
                self._dquote([], word, '"', p)
            elif c == "$":
                self._dollar([], word, in_dquote=True)
            elif c == "`":
                self._backtick([], word)
            else:
                self.pos = p + 1
        self.pos = n
        self.ctx.fail(f"unterminated ${{ at offset {pos}")

    def _backtick(self, parts: list[str], word: _Word) -> None:
        src, n, start = self.src, len(self.src), self.pos
        i, inner = start + 1, list[str]()
        while i < n and src[i] != "`":
            m = _BT_PLAIN.match(src, i)
            if m is not None:
                inner.append(m.group())
                i = m.end()
            else:  # a backslash: it escapes only $ ` \ inside backticks
                nxt = src[i + 1 : i + 2]
                inner.append(nxt if nxt and nxt in "$`\\" else "\\" + nxt)
                i += 2
        if i >= n:
            self.ctx.fail(f"unbalanced backtick at offset {start}")
        self.pos = min(i + 1, n)
        if self.depth >= self.ctx.max_depth:
            self.ctx.fail(f"nesting deeper than {self.ctx.max_depth} levels at offset {start}")
            return
        word.subs.append(("`", _Lexer("".join(inner), self.depth + 1, self.ctx).lex()))
        parts.append(SUBST)
        word.dynamic = True

    def _nul(self, parts: list[str], word: _Word) -> None:
        """A NUL is only legal as the marker left by an earlier substitution."""
        if self.src.startswith(SUBST, self.pos):
            parts.append(SUBST)
            self.pos, word.dynamic = self.pos + len(SUBST), True
        else:
            self.ctx.fail(f"NUL byte at offset {self.pos}")
            self.pos += 1


# --- parser: tokens -> simple commands ---------------------------------------------

_OPENERS = frozenset(
    {"if", "then", "else", "elif", "do", "while", "until", "!", "{", "time", "for"}
)
_SKIPPED = frozenset({"if", "then", "else", "elif", "do", "while", "until", "!", "fi", "done"})
_SKIPPED |= {"esac", "coproc"}
_SEPARATORS = frozenset({";", "&", "&&", "||", "\n", ";;", ";&", ";;&"})
_VIA = {"$(": "subst", "`": "subst", "<(": "subst", ">(": "sink"}

_Job = tuple[list[_Token] | str, str]  # tokens or a script to lex, and the child's ``via``


class _Raw:
    __slots__ = ("function", "position", "redirs", "words")

    def __init__(self, words: list[_Word], redirs: list[_Redir], position: int, fn: str) -> None:
        self.words, self.redirs, self.position, self.function = words, redirs, position, fn


def _parse_tokens(
    toks: list[_Token], depth: int, parent: int, via: str, function: str, ctx: _Ctx
) -> None:
    """Group tokens into pipelines of simple commands; reserved words are looked through."""
    words: list[_Word] = []
    redirs: list[_Redir] = []
    pipeline: list[_Raw] = []
    loose: list[_Job] = []  # substitutions in words that are not commands (for-lists …)
    groups: list[str] = []
    position, mode, pending_fn, i, n = 0, "", "", 0, len(toks)
    while i < n:
        tok = toks[i]
        i += 1
        if isinstance(tok, _Word):
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
                if isinstance(name, _Word):
                    pending_fn = name.text
                    i += 3 if toks[i + 1 : i + 3] == ["(", ")"] else 1
                    continue
                if toks[i : i + 2] == ["(", ")"]:
                    pending_fn, i = kw, i + 2
                    continue
            words.append(tok)
            continue
        if isinstance(tok, _Redir):
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


def _emit(pipeline: list[_Raw], depth: int, parent: int, via: str, ctx: _Ctx) -> None:
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


def _run(job: _Job, depth: int, parent: int, ctx: _Ctx, function: str) -> None:
    payload, via = job
    if depth > ctx.max_depth:
        ctx.fail(f"nesting deeper than {ctx.max_depth} levels")
        return
    toks = _Lexer(payload, depth, ctx).lex() if isinstance(payload, str) else payload
    _parse_tokens(toks, depth, parent, via, function, ctx)


def _argv_job(words: list[_Word]) -> _Job:
    """An argument list run as a command: its substitutions were already harvested."""
    toks = list[_Token]()
    for w in words:
        bare = _Word(w.text)
        bare.dynamic, bare.quoted = w.dynamic, True  # quoted: never a reserved word
        toks.append(bare)
    return toks, "argv"


def _static_output(cmd: SimpleCommand, redirs: list[_Redir]) -> str:
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
    raw: _Raw, depth: int, parent: int, via: str, pid: int, ctx: _Ctx
) -> tuple[SimpleCommand, list[_Job]]:
    """Strip assignments and wrappers; find the commands this one runs."""
    jobs: list[_Job] = []
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
        if name not in _WRAPPERS:
            break
        unwrapped = _unwrap(name, words, i + 1, depth, ctx)
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
        finder = _CHILDREN.get(name if name else program_name(argv[0]))
        if finder is not None:
            jobs += finder(words[i + 1 :], raw.redirs)
    return cmd, jobs


# --- wrappers and the programs that run other programs -------------------------------

_NONE: frozenset[str] = frozenset()
# wrapper -> (short options taking a value, long options taking a value, positionals)
_WRAPPERS: dict[str, tuple[str, frozenset[str], int]] = {
    "sudo": ("CDghpRrTtUu", frozenset({"--user", "--group", "--host", "--prompt", "--role",
             "--type", "--other-user", "--chdir", "--close-from", "--chroot"}), 0),
    "doas": ("Cu", _NONE, 0),
    "pkexec": ("", frozenset({"--user"}), 0),
    "env": ("uCS", frozenset({"--unset", "--chdir", "--split-string"}), 0),
    "timeout": ("ks", frozenset({"--kill-after", "--signal"}), 1),
    "nice": ("n", frozenset({"--adjustment"}), 0),
    "ionice": ("cnp", frozenset({"--class", "--classdata", "--pid"}), 0),
    "time": ("fo", frozenset({"--format", "--output"}), 0),
    "exec": ("a", _NONE, 0),
    "stdbuf": ("ioe", frozenset({"--input", "--output", "--error"}), 0),
    "caffeinate": ("tw", _NONE, 0),
    "strace": ("abeEIoOpPsSuUX", _NONE, 0),
    "ltrace": ("aAeFlnopsuwx", _NONE, 0),
    "torsocks": ("upaP", _NONE, 0),
    "proxychains": ("f", _NONE, 0),
    "proxychains4": ("f", _NONE, 0),
} | dict.fromkeys(
    ("nohup", "command", "builtin", "setsid", "unbuffer", "busybox", "noglob", "nocorrect"),
    ("", _NONE, 0),
)  # fmt: skip


def _skip_options(texts: list[str], i: int, short: str, long: frozenset[str]) -> int:
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


def _unwrap(
    name: str, words: list[_Word], i: int, depth: int, ctx: _Ctx
) -> tuple[list[_Word], int] | None:
    """Words and index of the command ``name`` wraps, or None when it runs none."""
    texts = [w.text for w in words]
    if name == "command" and i < len(texts) and texts[i] in ("-v", "-V"):
        return None  # only looks the name up
    short, long, positionals = _WRAPPERS[name]
    while True:
        start, i = i, _skip_options(texts, i, short, long) + positionals
        if name in ("env", "sudo"):
            while i < len(texts) and _ASSIGN.match(texts[i]):
                i += 1
        end = min(i, len(texts))
        split = next((k for k in range(start, end) if texts[k].startswith(("-S", "--split"))), -1)
        if name != "env" or split < 0:
            return words, i
        arg = texts[split]  # env -S 'cmd args': the string is split into more words
        attached = arg.partition("=")[2] if arg.startswith("--") else arg[2:]
        rest = split + (1 if attached else 2)
        value = attached or (texts[split + 1] if rest <= len(texts) else "")
        extra = [t for t in _Lexer(value, depth, ctx).lex() if isinstance(t, _Word)]
        words = [*words[:split], *extra, *words[rest:]]
        texts, i = [w.text for w in words], split


_Finder = Callable[[list[_Word], list[_Redir]], list[_Job]]


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


def _stdin_scripts(redirs: list[_Redir], via: str) -> list[_Job]:
    return [
        (r.target.text if r.body is None else r.body, via)
        for r in redirs
        if r.op.lstrip("0123456789") in ("<<", "<<-", "<<<")
    ]


def _shell(ws: list[_Word], redirs: list[_Redir]) -> list[_Job]:
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
    def find(ws: list[_Word], redirs: list[_Redir]) -> list[_Job]:
        script = _option_value([w.text for w in ws], options)
        return [] if script is None else [(script, "script")]

    return find


def _ssh(ws: list[_Word], redirs: list[_Redir]) -> list[_Job]:
    texts = [w.text for w in ws]
    i = _skip_options(texts, 0, "BbcDEeFIiJLlmOoPpQRSWw", _NONE) + 1
    if i < len(texts):
        return [(" ".join(texts[i:]), "remote")]
    return _stdin_scripts(redirs, "remote")


def _after_options(short: str, long: frozenset[str] = _NONE, *, script: bool) -> _Finder:
    def find(ws: list[_Word], redirs: list[_Redir]) -> list[_Job]:
        i = _skip_options([w.text for w in ws], 0, short, long)
        if i >= len(ws):
            return []
        if script:
            return [(" ".join(w.text for w in ws[i:]), "script")]
        return [_argv_job(ws[i:])]

    return find


def _find(ws: list[_Word], redirs: list[_Redir]) -> list[_Job]:
    jobs: list[_Job] = []
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


def _parallel(ws: list[_Word], redirs: list[_Redir]) -> list[_Job]:
    texts = [w.text for w in ws]
    i = _skip_options(texts, 0, "jSaIdnNLCE", frozenset({"--jobs", "--sshlogin", "--arg-file"}))
    end = next((k for k in range(i, len(texts)) if texts[k].startswith(":::")), len(texts))
    if end > i:
        return [(" ".join(texts[i:end]), "script")]
    return [(t, "script") for t in texts[end + 1 :] if not t.startswith(":::")]


def _flock(ws: list[_Word], redirs: list[_Redir]) -> list[_Job]:
    texts = [w.text for w in ws]
    i = _skip_options(texts, 0, "Ew", frozenset({"--timeout", "--wait", "--conflict-exit-code"}))
    if i + 1 < len(texts) and texts[i + 1] in ("-c", "--command"):
        return [(texts[i + 2], "script")] if i + 2 < len(texts) else []
    return [_argv_job(ws[i + 1 :])] if i + 1 < len(ws) else []


def _trap(ws: list[_Word], redirs: list[_Redir]) -> list[_Job]:
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

    def find(ws: list[_Word], redirs: list[_Redir]) -> list[_Job]:
        i = _skip_options([w.text for w in ws], 0, "", _NONE)
        return run(ws[i + 1 :], redirs) if i < len(ws) and ws[i].text == sub else []

    return find


_CHILDREN: dict[str, _Finder] = dict.fromkeys(SHELLS, _shell) | {
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
