"""Bash's tokenizer, minus execution: quotes, escapes, expansions, here-documents.

Substitutions (``$(…)``, backticks, ``<(…)``) are lexed recursively into the word that
holds them, so the parser sees every nested command; arithmetic and ``${…}`` are
skipped over except for the substitutions inside them. Nothing is expanded.
"""

from __future__ import annotations

import re

from stockade.policy.shell.escapes import decode_escapes
from stockade.policy.shell.model import SUBST
from stockade.policy.shell.tokens import Context, Redir, Token, Word

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
ASSIGN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\[[^\]]*\])?\+?=")
_PARAM = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|[0-9@*#?$!-]")
_MAX_NEST = 64  # ${…} and quotes inside them; keeps recursion far from Python's limit
_OPENERS = frozenset(
    {"if", "then", "else", "elif", "do", "while", "until", "!", "{", "time", "for"}
)


class Lexer:
    """Bash's tokenizer, minus execution; substitutions are lexed recursively."""

    __slots__ = ("ctx", "depth", "nest", "no_arith", "pending", "pos", "src")

    def __init__(self, src: str, depth: int, ctx: Context) -> None:
        self.src, self.depth, self.ctx = src, depth, ctx
        self.pos = self.nest = self.no_arith = 0
        self.pending: list[Redir] = []

    def lex(self, closing: str = "", opened: int = 0) -> list[Token]:
        """Tokens up to the end, or up to the ``)`` that closes ``closing`` (``$(``, ``<(``)."""
        src, n, toks = self.src, len(self.src), list[Token]()
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
                word = Word(m.group())
                word.assign = "=" in word.text and ASSIGN.match(word.text) is not None
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
                    word = Word()
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

    def _redirect(self, op: str, at: int) -> Redir:
        src, pos = self.src, at + len(op)
        while pos < len(src) and src[pos] in _BLANKS:
            pos += 1
        self.pos = pos
        if pos >= len(src) or (src[pos] in _STOP and src[pos : pos + 2] not in ("<(", ">(")):
            self.ctx.fail(f"redirection {op} without a target at offset {at}")
            return Redir(op, Word())
        redir = Redir(op, self._word())
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
                holder = Word()
                Lexer(redir.body, self.depth, self.ctx)._dquote([], holder, "", 0)
                redir.subs = holder.subs
        self.pending.clear()

    def _word(self) -> Word:
        src, n = self.src, len(self.src)
        word, parts = Word(), list[str]()
        word.assign = ASSIGN.match(src, self.pos) is not None
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
                if isinstance(tok, Word):
                    word.subs += tok.subs
            parts.append("(…)")
        word.text = "".join(parts)
        self.pos = min(self.pos, n)
        return word

    def _dquote(self, parts: list[str], word: Word, end: str, opened: int) -> None:
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

    def _dollar(self, parts: list[str], word: Word, *, in_dquote: bool) -> None:
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

    def _substitute(self, word: Word, parts: list[str], inner: int, kind: str) -> None:
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

    def _arith(self, word: Word, pos: int, skip: int) -> bool:
        """``((…))``/``$((…))``: not a command, but ``$(…)`` inside it runs."""
        src, level, i = self.src, 0, pos + skip
        for m in _PARENS.finditer(src, i):
            j = m.start()
            if src[j] == "(":
                level += 1
            elif level:
                level -= 1
            elif src.startswith(")", j + 1):
                holder = Lexer(src[pos + skip : j], self.depth, self.ctx)
                holder._dquote([], word, "", 0)
                self.pos = j + 2
                return True
            else:
                self.no_arith = j
                return False
        self.no_arith = len(src)
        return False

    def _brace(self, word: Word, pos: int) -> None:
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

    def _backtick(self, parts: list[str], word: Word) -> None:
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
        word.subs.append(("`", Lexer("".join(inner), self.depth + 1, self.ctx).lex()))
        parts.append(SUBST)
        word.dynamic = True

    def _nul(self, parts: list[str], word: Word) -> None:
        """A NUL is only legal as the marker left by an earlier substitution."""
        if self.src.startswith(SUBST, self.pos):
            parts.append(SUBST)
            self.pos, word.dynamic = self.pos + len(SUBST), True
        else:
            self.ctx.fail(f"NUL byte at offset {self.pos}")
            self.pos += 1
