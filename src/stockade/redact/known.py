"""Known secret values (the vault's) found wherever they appear: verbatim, base64, URL-encoded, hex.

Each value is looked for in these *forms*: the value itself; its JSON string escape
(a value with a newline or a quote inside JSON text); its percent-encoding
(``quote(v, safe="")``, ``quote(v)``, ``quote_plus(v)``, each also with lower-case hex
digits, ``%2f``); its UTF-8 bytes in hex, lower and upper case (``xxd -p``, ``od``-less
dumps, ``bytes.hex()``); and its standard and URL-safe base64 at each of the three byte
alignments. A value inside a longer base64 blob is
encoded differently depending on its offset modulo 3, and the characters at its edges
also carry bits of its neighbours: for each alignment the form is the run of characters
that depend on the value alone. Up to two characters at each end of such a run stay
in the text (at most 4 bits of the value each); nothing else of it does.

What is not found: a value shorter than :data:`MIN_LENGTH` (too many ordinary words
would match), hex with separators (``xxd``'s grouped columns, ``0x`` prefixes), double
encodings, any other transformation (reversed, split across outputs, compressed,
encrypted). Base64 wrapped
in lines (``base64``'s 76 columns, PEM's 64) is joined before it is scanned; a block
that held a value comes back as one line.

All forms of all values are one regex, scanned once. A union of literals would try
every alternative at every position (0.6 MB/s for 100 values); a trie of them is
still 4.7 MB/s, because random values start with every character. So each form is
found from its *rarest* character (by a frequency order of code and logs): the regex
starts with that anchor, so the scan skips in C to the few positions holding an
anchor character, walks a trie of what follows the anchor, and at a form's end
checks the whole form in a fixed-width lookbehind. The match then covers the anchor
to the end; the span is widened back to the form's start.
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import quote, quote_plus

from stockade.redact.patterns import marker

MIN_LENGTH = 8
"""Values shorter than this are not looked for (nor forms shorter than this found)."""

# Most to least common in code and logs; a character not listed is rarer than all.
_COMMON = " etaonisrlhdcupmfgywbvkxjqz0123456789_./-:=,\n()\"'ETAONISRLHDCUPMFGYWBVKXJQZ"
_RANK = {char: rank for rank, char in enumerate(_COMMON)}
_URLSAFE = str.maketrans("+/", "-_")
# For a value at byte offset 0, 1, 2 of a base64 group: the encoded characters before
# its first character that depends on it alone.
_SKIP = (0, 2, 3)
_LABEL_CHARS = re.compile(r"[^A-Za-z0-9_.-]")
# Base64 wrapped in lines (``base64`` wraps at 76, PEM and MIME at 64): whole lines of 40
# base64 characters or more, and the start of the line after them.
_B64 = r"A-Za-z0-9+/_\-"
# It starts with a newline, a literal the scan finds in C (``^`` in MULTILINE is tried
# at every position: 3x slower).
_WRAPPED = re.compile(rf"\n(?:[{_B64}]{{40,}}\r?\n)+[{_B64}]+=*")
_LINE_BREAK = re.compile(r"\r?\n")
_PERCENT_HEX = re.compile(r"%[0-9A-F]{2}")


def forms(value: str) -> set[str]:
    """Every form of ``value`` that is looked for (see the module docstring)."""
    raw = value.encode("utf-8", "surrogatepass")
    percent = {quote(value, safe=""), quote(value), quote_plus(value)}
    found = {
        value,
        json.dumps(value)[1:-1],
        json.dumps(value, ensure_ascii=False)[1:-1],
        raw.hex(),
        raw.hex().upper(),
        *percent,
        *(_PERCENT_HEX.sub(lambda escape: escape.group().lower(), form) for form in percent),
    }
    for offset, skip in enumerate(_SKIP):
        encoded = base64.b64encode(bytes(offset) + raw).decode("ascii")
        core = encoded[skip : (offset + len(raw)) * 8 // 6]
        found |= {core, core.translate(_URLSAFE)}
    return {form for form in found if len(form) >= MIN_LENGTH}


def label(name: str) -> str:
    """The marker label of the value named ``name`` (names are not secret)."""
    return "secret:" + (_LABEL_CHARS.sub("_", name)[:64] or "_")


@dataclass(frozen=True, slots=True)
class _Form:
    text: str
    label: str
    value: str


class KnownValues:
    """An immutable matcher for a set of named values; built once per change of the set."""

    def __init__(self, values: Mapping[str, str] | None = None) -> None:
        by_suffix: dict[str, list[_Form]] = {}
        for name, value in sorted((values or {}).items()):
            if len(value) < MIN_LENGTH:
                continue
            for text in forms(value):
                anchor = max(range(len(text)), key=lambda i: _RANK.get(text[i], len(_RANK)))
                by_suffix.setdefault(text[anchor:], []).append(_Form(text, label(name), value))
        for candidates in by_suffix.values():
            candidates.sort(key=lambda form: -len(form.text))  # the longest form wins
        self._by_suffix = by_suffix
        self._regex = re.compile(_trie(sorted(by_suffix), "", by_suffix)) if by_suffix else None

    def __len__(self) -> int:
        return len({form.value for forms in self._by_suffix.values() for form in forms})

    def sub(self, text: str) -> str:
        """``text`` with every form of every value replaced by the value's marker."""
        if self._regex is None:
            return text
        if "\n" in text:  # the first line may start a block too
            text = _WRAPPED.sub(self._unwrapped, "\n" + text)[1:]
        return self._sub_line(text)

    def _unwrapped(self, block: re.Match[str]) -> str:
        """A wrapped base64 block: scanned as one line; kept as it was when nothing is in it."""
        joined = _LINE_BREAK.sub("", block.group())
        redacted = self._sub_line(joined)
        return block.group() if redacted == joined else "\n" + redacted

    def _sub_line(self, text: str) -> str:
        assert self._regex is not None
        if self._regex.search(text) is None:  # the usual case, in C
            return text
        spans: list[tuple[int, int, _Form]] = []
        for match in self._regex.finditer(text):
            end = match.end()
            form = next(
                form
                for form in self._by_suffix[match.group()]
                if text.startswith(form.text, end - len(form.text))
            )
            start = end - len(form.text)
            if spans and start < spans[-1][1]:  # overlaps the one before: one span
                start, previous = spans[-1][0], spans.pop()[2]
                form = previous
            spans.append((start, end, form))
        if not spans:
            return text
        pieces, done = [], 0
        for start, end, form in spans:
            pieces += [text[done:start], marker(form.label, form.value)]
            done = end
        pieces.append(text[done:])
        return "".join(pieces)


def _trie(suffixes: list[str], path: str, by_suffix: Mapping[str, Iterable[_Form]]) -> str:
    """A regex for the sorted, distinct ``suffixes`` that follow ``path``: shared prefixes
    are spelled once, and each complete suffix ends in lookbehinds for its whole forms."""
    branches = []
    for first, grouped in itertools.groupby(suffixes, key=lambda suffix: suffix[:1]):
        if first:
            group = list(grouped)
            prefix = os.path.commonprefix(group)
            rest = [suffix[len(prefix) :] for suffix in group]
            branches.append(f"{re.escape(prefix)}(?:{_trie(rest, path + prefix, by_suffix)})")
    if suffixes[0] == "":  # ``path`` itself is complete; after the longer ones, which win
        branches += [f"(?<={re.escape(form.text)})" for form in by_suffix[path]]
    return "|".join(branches)
