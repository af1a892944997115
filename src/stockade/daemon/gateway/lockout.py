"""Failed-authentication rate limiting: too many failures from one address lock it out.

The token is 256 random bits, so guessing is hopeless anyway; the lockout exists to
bound what a hostile client can make the daemon do per failure (an audited, fsynced
``auth.failed`` event) and to make an attack loud. Failures are counted per client
address in a sliding window; ``max_failures`` of them lock the address for
``lockout_s``, during which its failures are refused without being counted or audited
again. The right token (or a live session) is not refused: on loopback every local
process shares one address, so a lockout that refused it too would let any local
process lock the user out of the gateway. Guessing stays hopeless without a lockout's
help, and a success does not lift the lockout, so the attacker stays locked out.
Memory is bounded: at most ``max_clients`` addresses are tracked, the stalest dropped.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

MAX_CLIENTS = 10_000


@dataclass(slots=True)
class _Record:
    failures: deque[float] = field(default_factory=deque)
    locked_until: float = 0.0


class Lockout:
    """Per-address failure windows; ``clock`` is injectable for tests."""

    def __init__(
        self,
        max_failures: int,
        window_s: float,
        lockout_s: float,
        *,
        max_clients: int = MAX_CLIENTS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_failures = max_failures
        self.window_s = window_s
        self.lockout_s = lockout_s
        self._max_clients = max_clients
        self._clock = clock
        self._records: dict[str, _Record] = {}  # insertion order = least recently failed first

    def retry_after(self, client: str) -> float | None:
        """Seconds until ``client`` may try again, or None when it is not locked out."""
        record = self._records.get(client)
        if record is None:
            return None
        remaining = record.locked_until - self._clock()
        return remaining if remaining > 0 else None

    def fail(self, client: str) -> bool:
        """Count a failure; True when it starts a lockout (to be audited once)."""
        now = self._clock()
        record = self._records.pop(client, None) or _Record()
        self._records[client] = record  # most recent last
        while record.failures and record.failures[0] <= now - self.window_s:
            record.failures.popleft()
        record.failures.append(now)
        started = len(record.failures) >= self.max_failures
        if started:
            record.locked_until = now + self.lockout_s
            record.failures.clear()
        self._bound()
        return started

    def succeed(self, client: str) -> None:
        """A successful authentication clears the address's failures (not a lockout)."""
        record = self._records.get(client)
        if record is not None and record.locked_until <= self._clock():
            del self._records[client]

    def _bound(self) -> None:
        while len(self._records) > self._max_clients:
            del self._records[next(iter(self._records))]
