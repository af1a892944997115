"""The daemon's log lines go through the redactor too: a message, its arguments, a traceback.

A filter on each handler of the root logger (uvicorn's loggers and ours all end
there) rewrites the record before any handler formats it. A record whose text had
nothing to redact is left as it was.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator

_FORMATTER = logging.Formatter()


class RedactingFilter(logging.Filter):
    """Replaces a record's message (and formatted traceback) by its redaction."""

    def __init__(self, redact: Callable[[str], str]) -> None:
        super().__init__()
        self._redact = redact

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = self._redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and not record.exc_text:
            record.exc_text = _FORMATTER.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self._redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self._redact(record.stack_info)
        return True


@contextlib.contextmanager
def redacting_logs(redact: Callable[[str], str], *, enabled: bool = True) -> Iterator[None]:
    """Redact every record the root logger's handlers write, while the block runs."""
    handlers = list(logging.getLogger().handlers) if enabled else []
    found = RedactingFilter(redact)
    for handler in handlers:
        handler.addFilter(found)
    try:
        yield
    finally:
        for handler in handlers:
            handler.removeFilter(found)
