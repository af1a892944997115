"""What the lexer hands the parser: words, redirections, operators, and the parse state.

Mutable and internal: a word collects the substitutions found inside it while it is
lexed, and :class:`Context` gathers the output and the first error of one whole parse.
"""

from __future__ import annotations

from stockade.policy.shell.model import SimpleCommand


class Context:
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


class Word:
    __slots__ = ("arith", "assign", "dynamic", "quoted", "subs", "text")

    def __init__(self, text: str = "") -> None:
        self.text = text
        self.dynamic = self.quoted = self.assign = self.arith = False
        self.subs: list[tuple[str, list[Token]]] = []


class Redir:
    __slots__ = ("body", "op", "subs", "target")

    def __init__(self, op: str, target: Word) -> None:
        self.op, self.target = op, target
        self.body: str | None = None
        self.subs: list[tuple[str, list[Token]]] = []


Token = str | Word | Redir


Job = tuple[list[Token] | str, str]  # tokens or a script to lex, and the child's ``via``
