"""C escapes as bash's ``$'…'`` and ``printf``/``echo -e`` decode them.

Kept apart from the lexer because the parser needs the same decoding for what
``printf`` would print into a shell (``printf 'rm -rf ~' | sh``).
"""

from __future__ import annotations

import re

_ANSI = re.compile(r"\\(?:([0-7]{1,3})|x([0-9a-fA-F]{1,2})|u([0-9a-fA-F]{1,4})"
                   r"|U([0-9a-fA-F]{1,8})|c(.)|(.))", re.S)  # fmt: skip
_ESCAPES = {"a": "\a", "b": "\b", "e": "\x1b", "E": "\x1b", "f": "\f", "n": "\n", "r": "\r"}
_ESCAPES |= {"t": "\t", "v": "\v", "\\": "\\", "'": "'", '"': '"', "?": "?"}


def _decode_escape(m: re.Match[str]) -> str:
    octal, hex2, hex4, hex8, ctrl, other = m.groups()
    if other is not None:
        return _ESCAPES.get(other, "\\" + other)
    code = ord(ctrl) & 0x1F if ctrl else int(octal, 8) if octal else int(hex2 or hex4 or hex8, 16)
    return chr(code) if code <= 0x10FFFF else "\ufffd"


def decode_escapes(text: str) -> str:
    """Decode C escapes as ``$'…'`` and ``printf`` do; like bash, stop at a NUL."""
    return _ANSI.sub(_decode_escape, text).split("\x00", 1)[0]
