"""The built-in secret shapes, and the one-pass scanner that finds them and user patterns.

A secret becomes ``[REDACTED:<label>:<first 8 hex of sha256(secret)>]`` (see
:func:`marker`). Only the secret part is replaced (``Authorization: Bearer
[REDACTED:...]``), so the rest of a command stays readable.

The built-in patterns are compiled into one alternation so that text is scanned once. They
are written to leave ordinary code alone: the env-assignment form is upper-case
and unspaced (``GITHUB_TOKEN=x``, not ``token = get_token()``), headers need their
scheme, and bare hex or base64 (git SHAs, UUIDs, ``sha512-`` integrity strings) is
never a match by itself. A secret part that is already nothing but markers is left
as it is, so redacting twice changes nothing (``GITHUB_TOKEN=[REDACTED:secret:GH:…]``
keeps the vault's name).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

KEY_WORDS = (
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
_JSON_KEY_WORDS = "|".join(word.replace("_", "[_-]?") for word in KEY_WORDS)
_QUOTED = r"""(?:"(?P<v>[^"\n]+)"|'(?P<v2>[^'\n]+)')"""
_BARE = r"""(?P<v3>(?!\$)[^\s"'`;&|,)}\]]+)"""
_URL_PARAMS = (
    r"(?i:[a-z_-]*token|api_?key|key|secret|client_secret|password|passwd"
    r"|signature|sig|x-amz-signature|x-amz-credential)=(?P<v>[^&#\s\"'<>]+)"
)
_AUTH = r"\"?\s*[:=]\s*\"?(?i:bearer|basic|token|digest|negotiate|bot)\s+(?P<v>[^\s\"',;]+)"
_SPACE = r"(?: |\+|%20)"
_PEM_KIND = rf"(?:[A-Z0-9]|{_SPACE})*"
_ENV_VALUE = rf"(?:\s*=\s*{_QUOTED}|={_BARE})"


def _cased(word: str, rest: str) -> tuple[str, ...]:
    """``Word``, ``word`` and ``WORD`` spelled out: a class would cost the fast first-char set."""
    return tuple(w + rest for w in (word.capitalize(), word.lower(), word.upper()))


# label -> alternatives. Named groups mark the secret part (the first that matched);
# without one the whole match is secret. Every alternative starts with a literal
# character and checks its word boundary in a lookbehind after it: the combined regex
# then gets a first-character set and skips most positions in C (about 10x faster).
# Order matters where alternatives overlap (``sk-ant-`` before ``sk-``).
_PATTERNS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "private-key",
        (
            # Also percent-encoded (``%20`` or ``+`` for its spaces).
            rf"-----BEGIN{_PEM_KIND}PRIVATE{_SPACE}KEY-----"
            rf"(?:[\s\S]*?-----END{_PEM_KIND}PRIVATE{_SPACE}KEY-----|[\s\S]*)",
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
    (
        "slack-token",
        (
            r"xox[abposre]-(?<!\wxox.-)[A-Za-z0-9-]{10,}",
            r"xapp-(?<!\wxapp-)[0-9]-[A-Za-z0-9-]{10,}",
            r"hooks\.slack\.com/(?:services|workflows|triggers)/(?P<v>[A-Za-z0-9/_-]{20,})",
        ),
    ),
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

# ``(?<!\wX)``, the word boundary before a token's prefix ``X``, also holds after a
# percent-escape (``%3Dghp_…`` in URL-encoded text).
_AFTER_ESCAPE = re.compile(r"\(\?<!\\w([^()]+)\)")


def _boundary(pattern: str) -> str:
    return _AFTER_ESCAPE.sub(r"(?:(?<!\\w\1)|(?<=%[0-9A-Fa-f]{2}\1))", pattern)


BUILTIN = tuple((label, _boundary(alt)) for label, alts in _PATTERNS for alt in alts)
"""``(label, regex)`` for every built-in alternative, in order."""
_GROUP_NAME = re.compile(r"\(\?P<\w+>")
# A secret part that is only markers was redacted before: left as it is.
MARKERS = re.compile(r"(?:\[REDACTED:[^\]\s]+:[0-9a-f]{8}\])+")
MARKER = re.compile(r"\[REDACTED:([^\]\s]+):[0-9a-f]{8}\]")
"""A marker; its group is the label (``github-token``, ``secret:NAME``, ``custom``)."""


class Scanner:
    """One combined regex to find secrets, and the alternatives to tell which one matched.

    The combined regex has no named groups (they would have to be unique across all
    alternatives); a match is rare, so re-matching the alternatives at its start to
    find the label and the secret part costs nothing measurable.
    """

    def __init__(self, alternatives: Iterable[tuple[str, str]] = BUILTIN) -> None:
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
                    return _replaced(found, label, start, end)
            return _replaced(found, label, found.start(), found.end())
        raise AssertionError("the combined regex matched no alternative")  # pragma: no cover


def _replaced(found: re.Match[str], label: str, start: int, end: int) -> str:
    """The match with its secret part ``start:end`` replaced by its marker."""
    text = found.string
    already = MARKERS.match(text, start)  # a bare value stops short of the marker's ``]``
    if already is not None and already.end() >= end:
        return found.group()
    return text[found.start() : start] + marker(label, text[start:end]) + text[end : found.end()]


def marker(label: str, secret: str) -> str:
    """What takes the place of ``secret``: its label and 32 bits of its SHA-256."""
    digest = hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return f"[REDACTED:{label}:{digest}]"


def checked(pattern: str) -> str:
    """A user pattern that compiles and cannot match nothing (that would mark every gap)."""
    try:
        regex = re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"invalid redaction pattern {pattern!r}: {exc}") from None
    if regex.match("") is not None:
        raise ValueError(f"redaction pattern {pattern!r} matches the empty string")
    return pattern
