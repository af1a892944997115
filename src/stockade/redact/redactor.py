"""The one redactor: every path that writes or shows request-derived data goes through it.

Three scans, in this order: the known values (:mod:`stockade.redact.known`, the vault's,
named in their markers), the built-in shapes and the user's ``[audit] redact_patterns``
(:mod:`stockade.redact.patterns`). User patterns run in a pass of their own so that
they cannot slow down the built-in scan.

The audit writer thread and the event loop both redact, and the vault replaces the
known values while they do: :meth:`Redactor.set_known` builds a new immutable matcher
and swaps one reference, and each call reads that reference once.

Every decision's audit payload repeats the same dozen keys, so a key's redacted form is
remembered (up to :data:`KEY_MEMO_SIZE` keys) beside the known values it was made with,
and forgotten with them.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from stockade.redact.known import KnownValues
from stockade.redact.patterns import KEY_WORDS, MARKERS, Scanner, checked, marker

# A key is secret when one of the words ends it or stands as a ``_``-separated part:
# ``db_password``, ``x-api-key``, ``accessToken``; not ``max_tokens`` or ``tokenizer``.
_SECRET_KEY = re.compile(rf"(?:^|_)(?:{'|'.join(KEY_WORDS)})(?:_|$)")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_KEY_SEPARATORS = re.compile(r"[-.\s]+")

KEY_MEMO_SIZE = 4096


@dataclass(frozen=True, slots=True)
class _Known:
    """The known values and the keys already redacted against them (swapped as one)."""

    values: KnownValues
    keys: dict[str, str] = field(default_factory=dict)


class Redactor:
    """Replaces secrets in text and in JSON-like values; ``extra_patterns`` are user regexes.

    A user pattern may mark the secret part with a named group (``(?P<v>...)``);
    otherwise its whole match is redacted, labelled ``custom``.
    """

    def __init__(self, extra_patterns: Iterable[str] = ()) -> None:
        self._known = _Known(KnownValues())
        self._builtin = Scanner()
        extra = [("custom", checked(pattern)) for pattern in extra_patterns]
        self._extra = Scanner(extra) if extra else None

    def set_known(self, values: Mapping[str, str]) -> None:
        """Look for these values (name → value) from now on, instead of the previous set.

        Values shorter than :data:`~stockade.redact.known.MIN_LENGTH` are not looked for.
        """
        self._known = _Known(KnownValues(values))

    @property
    def known_count(self) -> int:
        """How many distinct values are looked for."""
        return len(self._known.values)

    def redact_text(self, text: str) -> str:
        """``text`` with every recognized secret replaced by its marker."""
        return self._scan(self._known.values, text)

    def redact(self, value: Any) -> Any:
        """A copy of ``value`` with secrets in strings and under secret-looking keys replaced."""
        return self._redact(self._known, value)

    def _scan(self, known: KnownValues, text: str) -> str:
        text = self._builtin.sub(known.sub(text))
        return self._extra.sub(text) if self._extra is not None else text

    def _redact(self, known: _Known, value: Any) -> Any:
        if isinstance(value, str):
            return self._scan(known.values, value)
        if isinstance(value, dict | Mapping):  # dict first: most values skip the ABC check
            out: dict[Any, Any] = {}
            for key, item in value.items():
                if isinstance(key, str):
                    word = _secret_key_word(key)
                    key = self._key(known, key)
                    if word is not None and _has_content(item):
                        out[key] = self._keyed(known.values, word, item)
                        continue
                out[key] = self._redact(known, item)
            return out
        if isinstance(value, list | tuple):
            return [self._redact(known, item) for item in value]
        return value

    def _key(self, known: _Known, key: str) -> str:
        redacted = known.keys.get(key)
        if redacted is None:
            redacted = self._scan(known.values, key)
            if len(known.keys) < KEY_MEMO_SIZE:
                known.keys[key] = redacted
        return redacted

    def _keyed(self, values: KnownValues, word: str, item: Any) -> str:
        """A value under a secret key, whatever it holds: one marker (or the markers
        it already is, or those of the known values it holds)."""
        text = item if isinstance(item, str) else repr(item)
        if _only_markers(text):
            return text
        scanned = self._scan(values, text)
        return scanned if _only_markers(scanned) else marker(word, text)


def _only_markers(text: str) -> bool:
    return MARKERS.fullmatch(text) is not None


@functools.lru_cache(maxsize=4096)  # payloads repeat the same few keys endlessly
def _secret_key_word(key: str) -> str | None:
    """The secret word a key is named after (``"GITHUB_TOKEN"`` → ``"token"``), or None."""
    normalized = _KEY_SEPARATORS.sub("_", _CAMEL.sub("_", key)).lower()
    found = _SECRET_KEY.search(normalized)
    return found.group().strip("_") if found else None


def _has_content(value: Any) -> bool:
    """None, booleans and empty values carry no secret; keeping them keeps rows readable."""
    if value is None or isinstance(value, bool):
        return False
    return not (isinstance(value, str | list | tuple | dict) and len(value) == 0)
