"""Glob patterns for tool names and rule paths, translated to regular expressions.

``*`` matches within one path component, ``**`` across components, ``?`` one
character, ``[...]`` a class. Tool-name globs use the same syntax (no ``/`` in names).
"""

from __future__ import annotations

import re

GLOB_CHARS = frozenset("*?[")


def has_glob(text: str) -> bool:
    return any(char in GLOB_CHARS for char in text)


def escape_glob(text: str) -> str:
    """A glob that matches ``text`` literally (each wildcard character in a class)."""
    return "".join(f"[{char}]" if char in GLOB_CHARS else char for char in text)


def literal_prefix(pattern: str) -> str:
    """The part of a glob before its first wildcard (the whole text if it has none)."""
    for index, char in enumerate(pattern):
        if char in GLOB_CHARS:
            return pattern[:index]
    return pattern


def glob_to_regex(pattern: str) -> str:
    """The regex (without anchors) for a glob; ``**/`` may match zero components."""
    out: list[str] = []
    index, length = 0, len(pattern)
    while index < length:
        char = pattern[index]
        if pattern.startswith("**/", index):
            out.append("(?:.*/)?")
            index += 3
        elif pattern.startswith("**", index):
            out.append(".*")
            index += 2
        elif char == "*":
            out.append("[^/]*")
            index += 1
        elif char == "?":
            out.append("[^/]")
            index += 1
        elif char == "[":
            end = pattern.find("]", index + 2)
            if end == -1:
                out.append(re.escape(char))
                index += 1
                continue
            body = pattern[index + 1 : end]
            if body.startswith("!"):
                body = "^" + body[1:]
            out.append("[" + body.replace("\\", "\\\\").replace("[", "\\[") + "]")
            index = end + 1
        else:
            out.append(re.escape(char))
            index += 1
    return "".join(out)


def compile_glob(pattern: str) -> re.Pattern[str]:
    return re.compile(glob_to_regex(pattern) + r"\Z", re.DOTALL)


def literal_dir_prefix(pattern: str) -> str:
    """The directory part of an absolute glob before its first wildcard component."""
    parts = pattern.split("/")
    literal: list[str] = []
    for part in parts[:-1]:
        if has_glob(part):
            break
        literal.append(part)
    prefix = "/".join(literal)
    return prefix or "/"
