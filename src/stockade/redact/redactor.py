"""The one redactor: every path that writes or shows request-derived data goes through it.

Three scans, in this order: the known values (:mod:`stockade.redact.known`, the vault's,
named in their markers), the built-in shapes and the user's ``[audit] redact_patterns``
(:mod:`stockade.redact.patterns`). User patterns run in a pass of their own so that
they cannot slow down the built-in scan.

The audit writer thread and the event loop both redact, and the vault replaces the
known values while they do: :meth:`Redactor.set_known` builds a new immutable matcher
and swaps one reference, and each call reads that reference once.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from typing import Any

from stockade.redact.known import KnownValues
from stockade.redact.patterns import KEY_WORDS, MARKERS, Scanner, checked, marker

# A key is secret when one of the words ends it or stands as a ``_``-separated part:
# ``db_password``, ``x-api-key``, ``accessToken``; not ``max_tokens`` or ``tokenizer``.
_SECRET_KEY = re.compile(rf"(?:^|_)(?:{'|'.join(KEY_WORDS)})(?:_|$)")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_KEY_SEPARATORS = re.compile(r"[-.\s]+")


class Redactor:
    """Replaces secrets in text and in JSON-like values; ``extra_patterns`` are user regexes.

    A user pattern may mark the secret part with a named group (``(?P<v>...)``);
    otherwise its whole match is redacted, labelled ``custom``.
    """

    def __init__(self, extra_patterns: Iterable[str] = ()) -> None:
        self._known = KnownValues()
        self._builtin = Scanner()
        extra = [("custom", checked(pattern)) for pattern in extra_patterns]
        self._extra = Scanner(extra) if extra else None

    def set_known(self, values: Mapping[str, str]) -> None:
        """Look for these values (name → value) from now on, instead of the previous set.

        Values shorter than :data:`~stockade.redact.known.MIN_LENGTH` are not looked for.
        """
        self._known = KnownValues(values)

    @property
    def known_count(self) -> int:
        """How many distinct values are looked for."""
        return len(self._known)

    def redact_text(self, text: str) -> str:
        """``text`` with every recognized secret replaced by its marker."""
        text = self._builtin.sub(self._known.sub(text))
        return self._extra.sub(text) if self._extra is not None else text

    def redact(self, value: Any) -> Any:
        """A copy of ``value`` with secrets in strings and under secret-looking keys replaced."""
        if isinstance(value, str):
            return self.redact_text(value)
        if isinstance(value, Mapping):
            out: dict[Any, Any] = {}
            for key, item in value.items():
                if isinstance(key, str):
                    word = _secret_key_word(key)
                    if word is not None and _has_content(item):
                        out[self.redact_text(key)] = self._keyed(word, item)
                        continue
                    key = self.redact_text(key)
                out[key] = self.redact(item)
            return out
        if isinstance(value, list | tuple):
            return [self.redact(item) for item in value]
        return value

    def _keyed(self, word: str, item: Any) -> str:
        """A value under a secret key, whatever it holds: one marker (or the markers
        it already is, or those of the known values it holds)."""
        text = item if isinstance(item, str) else repr(item)
        if _only_markers(text):
            return text
        scanned = self.redact_text(text)
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
