"""Which files hold credentials: a gitignore-style list, compiled once, checked per decision.

Reading a credential is the first half of every exfiltration, so the engine asks this
on every file access and screens prompts with it too. The list uses gitignore syntax
(translated by ``pathspec``, not re-implemented) with two deliberate differences:

* Every pattern *floats*: it may match at any directory boundary of the absolute
  path, so ``.ssh/**`` covers ``/home/u/.ssh/id_x`` and ``/proj/.ssh/x`` alike, and a
  leading ``/`` is ignored. The matcher has no root to anchor to, and matching more
  is the safe failure.
* Matching ignores case (patterns and paths are compared lowercased). macOS and
  Windows filesystems ignore it, so ``.ENV`` opens ``.env`` there; on Linux the cost
  is an occasional extra question.

A path is a credential when some include pattern matches it and no *later* negation
(``!pattern``) does: gitignore's last-match-wins. Negations therefore only exempt
paths from patterns listed before them.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from pathspec.patterns.gitignore.spec import GitIgnoreSpecPattern

DEFAULT_CREDENTIAL_PATTERNS: tuple[str, ...] = (
    ".env",
    ".env.*",
    "!.env.example",
    "!.env.sample",
    "!.env.template",
    ".envrc",
    "*.pem",
    "*.key",
    "*.p12",
    "*.pfx",
    "*.jks",
    "*.keystore",
    "id_rsa*",
    "id_dsa*",
    "id_ecdsa*",
    "id_ed25519*",
    ".ssh/**",
    "!id_*.pub",
    ".aws/credentials",
    ".aws/config",
    ".netrc",
    "_netrc",
    ".npmrc",
    ".pypirc",
    ".pgpass",
    ".docker/config.json",
    ".kube/config",
    ".git-credentials",
    ".gnupg/**",
    "credentials.json",
    "secrets.*",
    "*.secret",
    ".htpasswd",
    "*.kdbx",
    ".config/gh/hosts.yml",
    ".config/gcloud/**",
    "service-account*.json",
    "*.tfstate",
    "*.tfstate.backup",
    ".vault-token",
    ".password-store/**",
    "*.ovpn",
    # system secrets: password hashes, sudo policy, host keys
    "etc/shadow",
    "etc/shadow-",
    "etc/gshadow",
    "etc/gshadow-",
    "etc/sudoers",
    "etc/sudoers.d/**",
    "ssh_host_*_key",
)

# Lowercasing beats re.IGNORECASE: Python's regex engine skips a branch on its first
# character only when that character is a plain literal.
_FLAGS = re.DOTALL
# pathspec's translation of a leading ``**/``: any run of whole leading components.
_FLOATING_PREFIX = "^(?:.+/)?"
# pathspec marks "matched as a directory" with a named group; names clash in an alternation.
_DIR_MARK = "(?P<ps_d>/)"
# Prompt screening: where a path-like token ends, and what trails it in prose.
_TOKEN_SPLIT = re.compile(r"[\s'\"`,()\[\]{}<>:=;|&]+")
_TRAILING_PUNCTUATION = ".,;:!?)]}>"
_PATH_SHAPE = re.compile(r"[./_]")
# One regex atom that may be shared as a prefix: an escape, a plain character, or ``*``.
_ATOM = re.compile(r"(?:\\.|\[\^/\]\*|[^\\\[\](){}*+?|^$.])(?![*+?{])", re.DOTALL)
_MAX_SHARED_ATOMS = 64
_GROUP_SIZE = 32


@dataclass(frozen=True, slots=True)
class _Entry:
    pattern: str
    include: bool
    regex: re.Pattern[str]


@dataclass(frozen=True, slots=True)
class _Group:
    """Consecutive entries behind one combined regex, so a hit skips groups that cannot match."""

    regex: re.Pattern[str]
    entries: tuple[_Entry, ...]


@dataclass(frozen=True, slots=True)
class CredentialMatcher:
    """A compiled credential list; build it with :meth:`compile`.

    All include patterns share one regex, factored into a prefix tree so that the
    engine tries a handful of branches per position instead of every pattern: a
    path that is no credential (nearly every path) costs about a microsecond however
    long the list. Only a hit looks for the pattern that decided, group by group.
    """

    patterns: tuple[str, ...]
    _any_include: re.Pattern[str] | None = field(repr=False)
    _groups: tuple[_Group, ...] = field(repr=False)

    @classmethod
    def compile(cls, patterns: Iterable[str]) -> CredentialMatcher:
        """Compile ``patterns``; raises ``ValueError`` naming the first bad one."""
        source = tuple(patterns)
        translated = [_translate(pattern) for pattern in source]
        includes = [body for entry, body in translated if entry.include]
        groups: list[_Group] = []
        for start in range(0, len(translated), _GROUP_SIZE):
            chunk = translated[start : start + _GROUP_SIZE]
            combined = _compile([body for _, body in chunk])
            groups.append(_Group(combined, tuple(entry for entry, _ in chunk)))
        return cls(source, _compile(includes) if includes else None, tuple(groups))

    def match(self, path: str) -> str | None:
        """The pattern that makes ``path`` (absolute, resolved) a credential, or ``None``."""
        subject = path.lstrip("/").lower()
        if self._any_include is None or self._any_include.match(subject) is None:
            return None
        for group in reversed(self._groups):
            if group.regex.match(subject) is None:
                continue
            for entry in reversed(group.entries):
                if entry.regex.match(subject) is not None:
                    return entry.pattern if entry.include else None
        return None

    def find_in_text(self, text: str) -> str | None:
        """The pattern matched by the first credential path that ``text`` mentions.

        Screens prompts and free-form tool input, which name files loosely
        (``cat ~/.aws/credentials``, ``my id_rsa``, ``the .env file``). Only tokens
        with a file shape (a ``.``, ``/`` or ``_``) are tested, so words such as
        "key", "secret" or "env" never flag, even against a bare-word pattern.
        A token naming a directory whose contents are credentials (``~/.ssh``) flags.
        """
        tokens = dict.fromkeys(_TOKEN_SPLIT.split(text))
        for raw in tokens:
            token = raw.lstrip("([{<").rstrip(_TRAILING_PUNCTUATION)
            if not token or _PATH_SHAPE.search(token) is None:
                continue
            candidate = posixpath.normpath(token)
            # A child no pattern names: flags a directory only its contents match.
            found = self.match(candidate) or self.match(candidate + "/\0")
            if found is not None:
                return found
        return None


def _translate(pattern: str) -> tuple[_Entry, str]:
    """The entry for one pattern, made floating, and its regex body for combining."""
    include = not pattern.startswith("!")
    glob = (pattern if include else pattern[1:]).lower()
    if not glob.strip() or glob.startswith("#"):
        raise ValueError(f"invalid credential pattern {pattern!r}: it matches nothing")
    glob = glob.lstrip("/")
    if not glob.startswith("**/"):
        glob = "**/" + glob
    try:
        regex, _ = GitIgnoreSpecPattern.pattern_to_regex(glob)
    except ValueError as error:
        raise ValueError(f"invalid credential pattern {pattern!r}: {error}") from None
    if regex is None:
        raise ValueError(f"invalid credential pattern {pattern!r}: bad character range")
    if not regex.startswith(_FLOATING_PREFIX):
        raise ValueError(
            f"invalid credential pattern {pattern!r}: it matches every path; "
            "list the files that hold credentials instead"
        )
    body = regex[len(_FLOATING_PREFIX) :].replace(_DIR_MARK, "/")
    try:
        regex = re.compile(_FLOATING_PREFIX + body, _FLAGS)
    except re.error as error:
        raise ValueError(f"invalid credential pattern {pattern!r}: {error}") from None
    return _Entry(pattern, include, regex), body


def _compile(bodies: list[str]) -> re.Pattern[str]:
    return re.compile(_FLOATING_PREFIX + _alternation(bodies), _FLAGS)


class _Node:
    """A prefix tree of regex bodies, shared atom by atom."""

    __slots__ = ("children", "tails")

    def __init__(self) -> None:
        self.children: dict[str, _Node] = {}
        self.tails: set[str] = set()

    def render(self) -> str:
        alternatives = sorted(self.tails)
        alternatives += [atom + child.render() for atom, child in self.children.items()]
        if len(alternatives) == 1:
            return alternatives[0]
        return "(?:" + "|".join(alternatives) + ")"


def _alternation(bodies: list[str]) -> str:
    """One regex matching what any of ``bodies`` matches, common prefixes factored out."""
    root = _Node()
    for body in bodies:
        node, position = root, 0
        for _ in range(_MAX_SHARED_ATOMS):
            atom = _ATOM.match(body, position)
            if atom is None:
                break
            node = node.children.setdefault(atom.group(), _Node())
            position = atom.end()
        node.tails.add(body[position:])
    return root.render()


def parse_ignore_file(text: str) -> list[str]:
    """The patterns of a ``.stockadeignore`` file, in the syntax :meth:`compile` takes.

    Follows gitignore: blank lines and ``#`` comments are skipped, unescaped trailing
    spaces dropped; escapes such as ``\\#`` and ``\\!`` are kept for the compiler.
    """
    patterns: list[str] = []
    for line in text.splitlines():
        stripped = line.rstrip(" ")
        backslashes = len(stripped) - len(stripped.rstrip("\\"))
        if backslashes % 2 == 1 and len(stripped) < len(line):
            stripped += " "
        if stripped and not stripped.startswith("#"):
            patterns.append(stripped)
    return patterns
