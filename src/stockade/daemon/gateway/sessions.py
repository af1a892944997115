"""UI sessions: what a browser holds instead of the token after logging in.

The browser keeps only an opaque random id in an HttpOnly cookie (script on the page
cannot read it, so an injected script cannot steal a credential that outlives the
page). The server keeps the SHA-256 of each id, never the id itself, with an absolute
expiry: a session ends after ``SESSION_LIFETIME_S``, on logout, and — all of them at
once — when the token is rotated. The table is bounded; the oldest session goes first.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable

SESSION_LIFETIME_S = 12 * 3600.0
MAX_SESSIONS = 1000


def _key(session_id: str) -> bytes:
    return hashlib.sha256(session_id.encode("utf-8", "surrogateescape")).digest()


class SessionStore:
    """Live UI sessions by hashed id; ``clock`` is injectable for tests."""

    def __init__(
        self,
        *,
        lifetime_s: float = SESSION_LIFETIME_S,
        max_sessions: int = MAX_SESSIONS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.lifetime_s = lifetime_s
        self._max = max_sessions
        self._clock = clock
        self._expiry: dict[bytes, float] = {}  # insertion order = age

    def create(self) -> str:
        """A new session id (the caller sets it as the cookie)."""
        now = self._clock()
        self._drop_expired(now)
        while len(self._expiry) >= self._max:
            del self._expiry[next(iter(self._expiry))]
        session_id = secrets.token_urlsafe(32)
        self._expiry[_key(session_id)] = now + self.lifetime_s
        return session_id

    def valid(self, session_id: str) -> bool:
        expiry = self._expiry.get(_key(session_id))
        if expiry is None:
            return False
        if expiry <= self._clock():
            del self._expiry[_key(session_id)]
            return False
        return True

    def end(self, session_id: str) -> None:
        self._expiry.pop(_key(session_id), None)

    def end_all(self) -> int:
        """End every session (token rotation); returns how many there were."""
        count = len(self._expiry)
        self._expiry.clear()
        return count

    def _drop_expired(self, now: float) -> None:
        for key in [key for key, expiry in self._expiry.items() if expiry <= now]:
            del self._expiry[key]
