"""Token-like values never reach disk, a log, an API answer or the model: one redactor for all.

A secret becomes ``[REDACTED:<label>:<first 8 hex of sha256(secret)>]``: an operator
can still tell that two rows carried the same secret, or check a suspected value,
but 32 bits cannot be turned back into a token. The label says what it was: a
built-in shape (``github-token``), ``custom`` (a user pattern) or ``secret:NAME``
(a value the vault holds, in any of the forms :mod:`stockade.redact.known` looks for).
"""

from stockade.redact.known import MIN_LENGTH as MIN_KNOWN_LENGTH
from stockade.redact.patterns import MARKER
from stockade.redact.redactor import Redactor

__all__ = ["MARKER", "MIN_KNOWN_LENGTH", "Redactor"]
