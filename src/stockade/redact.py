"""Token-like values never reach disk: the audit payload is redacted before it is hashed.

A secret becomes ``[REDACTED:<label>:<first 8 hex of sha256(secret)>]``: an operator
can still tell that two rows carried the same secret, or check a suspected value,
but 32 bits cannot be turned back into a token. Only the secret part is replaced
(``Authorization: Bearer [REDACTED:...]``), so the rest of a command stays readable.

The built-in patterns are compiled into one alternation so that text is scanned once. They
are written to leave ordinary code alone: the env-assignment form is upper-case
and unspaced (``GITHUB_TOKEN=x``, not ``token = get_token()``), headers need their
scheme, and bare hex or base64 (git SHAs, UUIDs, ``sha512-`` integrity strings) is
never a match by itself.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Iterable, Mapping
from typing import Any

_KEY_WORDS = (
    "password",
    "passwd",
    "secret",
    "token",
    "api_key",
    "apikey",
    "authorization",
    "cookie",
    "private_key",
    "access_key",
    "client_secret",
)
_JSON_KEY_WORDS = "|".join(word.replace("_", "[_-]?") for word in _KEY_WORDS)
_QUOTED = r"""(?:"(?P<v>[^"\n]+)"|'(?P<v2>[^'\n]+)')"""
_BARE = r"""(?P<v3>(?!\$)[^\s"'`;&|,)}\]]+)"""
_URL_PARAMS = (
    r"(?i:[a-z_-]*token|api_?key|key|secret|client_secret|password|passwd"
    r"|signature|sig|x-amz-signature|x-amz-credential)=(?P<v>[^&#\s\"'<>]+)"
)
_AUTH = r"\"?\s*[:=]\s*\"?(?i:bearer|basic|token|digest|negotiate|bot)\s+(?P<v>[^\s\"',;]+)"
_ENV_VALUE = rf"(?:\s*=\s*{_QUOTED}|={_BARE})"


def _cased(word: str, rest: str) -> tuple[str, ...]:
    """``Word``, ``word`` and ``WORD`` spelled out: a class would cost the fast first-char set."""
    return tuple(w + rest for w in (word.capitalize(), word.lower(), word.upper()))


# label -> alternatives. Named groups mark the secret part (the first that matched);
# without one the whole match is secret. Every alternative starts with a literal
# character and checks its word boundary in a lookbehind after it: the combined regex
# then gets a first-character set and skips most positions in C (about 10x faster).
# Order matters where alternatives overlap (``sk-ant-`` before ``sk-``).
_BUILTIN: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "private-key",
        (
            r"-----BEGIN[A-Z0-9 ]*PRIVATE KEY-----"
            r"(?:[\s\S]*?-----END[A-Z0-9 ]*PRIVATE KEY-----|[\s\S]*)",
        ),
    ),
    ("authorization", _cased("authorization", _AUTH)),
    ("cookie", _cased("cookie", r":[ \t]*(?P<v>[^\r\n\"']+)")),
    ("anthropic-key", (r"sk-ant-(?<!\wsk-ant-)[A-Za-z0-9_-]{20,}",)),
    ("openai-key", (r"sk-(?<!\wsk-)(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}",)),
    (
        "github-token",
        (
            r"gh[pousr]_(?<!\wgh._)[A-Za-z0-9]{36,255}\b",
            r"github_pat_(?<!\wgithub_pat_)[A-Za-z0-9_]{22,255}",
        ),
    ),
    ("aws-access-key-id", (r"A(?<!\wA)(?:KIA|SIA)[A-Z0-9]{16}\b",)),
    (
        "aws-secret-key",
        _cased(
            "aws_secret_access_key",
            r"[\"']?\s*[:=]\s*[\"']?(?P<v>[A-Za-z0-9/+=]{40})(?![A-Za-z0-9/+=])",
        ),
    ),
    ("slack-token", (r"xox[abposr]-(?<!\wxox.-)[A-Za-z0-9-]{10,}",)),
    ("jwt", (r"eyJ(?<!\weyJ)[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*",)),
    (
        "json-secret",
        (rf"\"[A-Za-z0-9_-]*(?i:{_JSON_KEY_WORDS})\"\s*:\s*\"(?P<v>(?:[^\"\\]|\\.)+)\"",),
    ),
    (
        # ``MY_API_TOKEN=x`` or ``SECRET_KEY = "x"``: upper case, and unspaced unless
        # quoted, so ``API_TOKEN = os.environ[...]`` in code stays as it is.
        "env-secret",
        tuple(
            name + _ENV_VALUE
            for name in (
                "API_?KEY",
                "TOKEN",
                "PASSWORD",
                "PASSWD",
                "SECRET[A-Z0-9_]*",
                "PRIVATE_KEY",
                "ACCESS_KEY",
            )
        ),
    ),
    ("url-param", ("\\?" + _URL_PARAMS, "&" + _URL_PARAMS)),
    (
        # ``scheme://user:password@host`` and ``Password=...;`` in connection strings.
        "connection-password",
        (
            r"://[^\s/:@\"']*:(?P<v>[^\s@/\"']+)(?=@)",
            r"P(?<!\wP)(?:assword|WD|wd)=(?P<v>[^;\s\"']+)",
        ),
    ),
)

# A key is secret when one of the words ends it or stands as a ``_``-separated part:
# ``db_password``, ``x-api-key``, ``accessToken``; not ``max_tokens`` or ``tokenizer``.
_SECRET_KEY = re.compile(rf"(?:^|_)(?:{'|'.join(_KEY_WORDS)})(?:_|$)")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_KEY_SEPARATORS = re.compile(r"[-.\s]+")
_GROUP_NAME = re.compile(r"\(\?P<\w+>")


class _Scanner:
    """One combined regex to find secrets, and the alternatives to tell which one matched.

    The combined regex has no named groups (they would have to be unique across all
    alternatives); a match is rare, so re-matching the alternatives at its start to
    find the label and the secret part costs nothing measurable.
    """

    def __init__(self, alternatives: Iterable[tuple[str, str]]) -> None:
        self._alternatives = [(label, re.compile(pattern)) for label, pattern in alternatives]
        combined = "|".join(_GROUP_NAME.sub("(?:", rx.pattern) for _, rx in self._alternatives)
        self._regex = re.compile(combined)

    def sub(self, text: str) -> str:
        return self._regex.sub(self._replace, text)

    def _replace(self, match: re.Match[str]) -> str:
        for label, regex in self._alternatives:
            found = regex.match(match.string, match.start())
            if found is None:
                continue
            for name in regex.groupindex:
                start, end = found.span(name)
                if start >= 0:
                    text, whole_start, whole_end = found.string, found.start(), found.end()
                    marker = _marker(label, text[start:end])
                    return text[whole_start:start] + marker + text[end:whole_end]
            return _marker(label, found.group())
        raise AssertionError("the combined regex matched no alternative")  # pragma: no cover


def _marker(label: str, secret: str) -> str:
    digest = hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return f"[REDACTED:{label}:{digest}]"


class Redactor:
    """Replaces secrets in text and in JSON-like values; ``extra_patterns`` are user regexes.

    A user pattern may mark the secret part with a named group (``(?P<v>...)``);
    otherwise its whole match is redacted, labelled ``custom``. User patterns run in a
    second pass so that they cannot slow down the built-in scan.
    """

    def __init__(self, extra_patterns: Iterable[str] = ()) -> None:
        self._builtin = _Scanner((label, alt) for label, alts in _BUILTIN for alt in alts)
        extra = [("custom", _checked(pattern)) for pattern in extra_patterns]
        self._extra = _Scanner(extra) if extra else None

    def redact_text(self, text: str) -> str:
        """``text`` with every recognized secret replaced by its marker."""
        text = self._builtin.sub(text)
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
                        out[self.redact_text(key)] = _marker(word, _as_text(item))
                        continue
                    key = self.redact_text(key)
                out[key] = self.redact(item)
            return out
        if isinstance(value, list | tuple):
            return [self.redact(item) for item in value]
        return value


def _checked(pattern: str) -> str:
    """A user pattern that compiles and cannot match nothing (that would mark every gap)."""
    try:
        regex = re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"invalid redaction pattern {pattern!r}: {exc}") from None
    if regex.match("") is not None:
        raise ValueError(f"redaction pattern {pattern!r} matches the empty string")
    return pattern


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


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else repr(value)
