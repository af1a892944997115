"""The daemon's live view of agents and tokens: which grants count for a call, right now.

:meth:`CapabilityBook.grants_for` is on the decision path, so it must cost next to
nothing. What it returns is cached per agent until one of these changes:

- a token file (the files are ``stat``-ed at most every ``recheck_s``; one whose
  inode, size, mtime or ctime moved is read again);
- the desk granted, revoked, added or removed something (it refreshes at once, so a
  revocation holds from the next decision on);
- the earliest expiry among the agent's grants passed.

A file that is read again is verified only if its *content* is new: parsing, the
ed25519 check and the lookup of its grant event are cached by the SHA-256 of the file's
bytes, and dropped when the record changes (a grant, a rotation). A token counts only if
a ``cap.granted`` or ``cap.reissued`` event names its sha256: a validly signed token that
the log does not know (signed with a stolen key, say) grants nothing. A token that grants
nothing (malformed, edited, signed by a key that is not the current one, not in the log,
expired, revoked) is logged and queued once per file content and problem, for the
pipeline to audit as ``cap.rejected`` (:meth:`take_reports`).
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from stockade.caps.agents import Agent, load_agents
from stockade.caps.files import caps_dir, load_revoked, parse_raw, read_raw
from stockade.caps.ledger import LedgerEvent, granted_sha256s, read_ledger, revoked_ids
from stockade.caps.match import GrantSet
from stockade.caps.token import Token, TokenError, is_token_id
from stockade.home import Home
from stockade.identity import IdentityFiles, KeyRing

logger = logging.getLogger(__name__)

RECHECK_S = 0.25
MAX_REMEMBERED = 4096  # distinct file contents verified or reported: a bound, not a working set
_Stat = tuple[int, int, int, int]


@dataclass(frozen=True, slots=True)
class TokenState:
    """One token file as the daemon judges it; ``problem`` is ``None`` for a live token.

    ``flaw`` is what is wrong with the content itself (cached by ``sha256``), ``problem``
    adds what time and revocation did to it.
    """

    path: Path
    stat: _Stat
    sha256: str  # of the file's bytes
    token: Token | None
    flaw: str | None
    expires: float | None  # epoch seconds
    problem: str | None = None

    @property
    def status(self) -> str:
        """``live``, ``revoked``, ``expired`` or ``invalid`` (the content itself is bad)."""
        if self.problem is None:
            return "live"
        if self.flaw is not None:
            return "invalid"
        return "revoked" if self.problem.startswith("revoked") else "expired"

    def to_json(self) -> dict[str, Any]:
        """What ``caps list`` and ``caps show`` print for this file."""
        token = self.token
        data: dict[str, Any] = {
            "id": self.path.name.removesuffix(".json"),
            "status": self.status,
            "problem": self.problem,
            "file": str(self.path),
        }
        if token is not None:
            data |= {
                "agent": token.agent,
                "capability": token.grant.capability,
                "constraints": token.grant.constraints.to_json(),
                "issued_at": token.issued_at,
                "expires_at": token.expires_at,
                "key_fingerprint": token.key_fingerprint,
                "sha256": token.sha256,
                "token": token.to_json(),
            }
        return data


class CapabilityBook:
    """Agents, revocations and verified tokens of one home (see the module docstring)."""

    def __init__(
        self, home: Home, *, recheck_s: float = RECHECK_S, clock: Callable[[], float] = time.time
    ) -> None:
        self.home = home
        self.recheck_s = recheck_s
        self.clock = clock
        self._lock = threading.RLock()
        self._loaded = False
        self._agents: dict[str, Agent] = {}
        self._revoked: set[str] = set()
        self._ring = KeyRing(None)
        self._granted: set[str] = set()  # sha256 of every token a grant event names
        self._directory = caps_dir(home)
        self._files: dict[str, TokenState] = {}  # by file name
        self._verified: dict[str, tuple[Token | None, str | None]] = {}
        self._sets: dict[str, tuple[GrantSet, float]] = {}  # agent -> (set, valid until)
        self._checked_at = float("-inf")
        self._reports: list[dict[str, Any]] = []
        self._reported: set[tuple[str, str, str]] = set()

    def load(self) -> None:
        """Read agents, revocations (file and audit log), keys and tokens; raises on bad files."""
        with self._lock:
            self._agents = load_agents(self.home)
            ledger = read_ledger(self.home.audit_path)
            self._revoked = load_revoked(self.home) | revoked_ids(ledger)
            self._record(ledger)
            self._loaded = True
            self._rescan()

    def _record(self, ledger: list[LedgerEvent]) -> None:
        """Take the keyring and the granted tokens as they are now; verify every file anew."""
        self._ring = IdentityFiles(self.home).keyring()
        self._granted = granted_sha256s(ledger)
        self._verified.clear()
        self._files.clear()

    def grants_for(self, agent: str | None) -> GrantSet | None:
        """The live grants of ``agent`` when it is restricted; ``None`` when it is not."""
        if agent is None:
            return None
        with self._lock:
            if not self._loaded:
                self.load()
            if agent not in self._agents:
                return None
            now = self.clock()
            if now - self._checked_at >= self.recheck_s:
                self._rescan()
            cached = self._sets.get(agent)
            if cached is not None and now < cached[1]:
                return cached[0]
            return self._build(agent, now)

    @property
    def agents(self) -> dict[str, Agent]:
        with self._lock:
            if not self._loaded:
                self.load()
            return dict(self._agents)

    def set_agents(self, agents: dict[str, Agent]) -> None:
        with self._lock:
            self._agents = dict(agents)
            self._sets.clear()

    @property
    def revoked(self) -> set[str]:
        with self._lock:
            return set(self._revoked)

    def revoke(self, token_id: str) -> None:
        """From the next decision on, ``token_id`` grants nothing, whatever file holds it.

        The file is not judged again here: the desk deletes it next, and a copy that
        is still (or again) there at the next scan is reported then.
        """
        with self._lock:
            self._revoked.add(token_id)
            self._sets.clear()

    def refresh(self) -> None:
        """After a grant or a rotation: read the keyring and the granted tokens again,
        and judge every token file anew (blocking: run it in a thread)."""
        with self._lock:
            self._record(read_ledger(self.home.audit_path))
            self._rescan()

    def states(self) -> list[TokenState]:
        """Every token file, judged now."""
        with self._lock:
            if not self._loaded:
                self.load()
            self._rescan()
            return [self._files[name] for name in sorted(self._files)]

    def take_reports(self) -> list[dict[str, Any]]:
        """The ``cap.rejected`` payloads not yet handed out (each is handed out once)."""
        if not self._reports:  # the decision path: no lock when there is nothing to say
            return []
        with self._lock:
            reports, self._reports = self._reports, []
            return reports

    def _rescan(self) -> None:
        """Stat every token file, read again those that changed, judge all as of now.

        ``os.scandir`` and plain names rather than ``pathlib``: this runs every
        ``recheck_s`` while decisions wait on the lock.
        """
        now = self.clock()
        self._checked_at = now
        fresh: dict[str, TokenState] = {}
        try:
            entries = list(os.scandir(self._directory))
        except FileNotFoundError:
            entries = []
        for entry in entries:
            name = entry.name
            if not (name.endswith(".json") and is_token_id(name[:-5])):
                continue
            try:
                info = entry.stat(follow_symlinks=False)
            except FileNotFoundError:
                continue
            stat = (info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)
            known = self._files.get(name)
            if known is None or known.stat != stat:
                known = self._read(Path(entry.path), stat)
            fresh[name] = self._judge(known, now)
        if fresh != self._files:
            self._sets.clear()
        self._files = fresh

    def _read(self, path: Path, stat: _Stat) -> TokenState:
        try:
            raw = read_raw(path)
        except OSError as exc:
            return TokenState(path, stat, "", None, f"unreadable ({exc.strerror})", None)
        sha = hashlib.sha256(raw).hexdigest()
        verified = self._verified.get(sha)
        if verified is None:
            if len(self._verified) >= MAX_REMEMBERED:
                self._verified.clear()
            try:
                parsed = parse_raw(raw, path.name)
            except TokenError as exc:
                verified = (None, f"malformed: {exc}")
            else:
                flaw = parsed.signature_problem(self._ring)
                if flaw is None and parsed.sha256 not in self._granted:
                    flaw = "no cap.granted event in the audit log names this token"
                verified = (parsed, flaw)
            self._verified[sha] = verified
        token, flaw = verified
        expires = None if token is None else token.expires_epoch
        return TokenState(path, stat, sha, token, flaw, expires)

    def _judge(self, state: TokenState, now: float) -> TokenState:
        token, problem = state.token, state.flaw
        if token is not None and problem is None:
            if token.id in self._revoked:
                problem = "revoked: a restored or stale copy of a revoked token"
            elif state.expires is not None and state.expires <= now:
                problem = f"expired at {token.expires_at}"
        if problem is not None:
            self._report(state, problem)
        # The same object when nothing changed: the rescan's comparison is then by identity.
        return state if problem == state.problem else replace(state, problem=problem)

    def _report(self, state: TokenState, problem: str) -> None:
        key = (state.path.name, state.sha256, problem.split(" ", 1)[0])
        if key in self._reported:
            return
        if len(self._reported) >= MAX_REMEMBERED:
            self._reported.clear()  # at worst a problem is reported once more
        self._reported.add(key)
        token = state.token
        logger.warning("capability token %s grants nothing: %s", state.path.name, problem)
        self._reports.append(
            {
                "cap_id": token.id if token is not None else state.path.name,
                "agent": token.agent if token is not None else None,
                "problem": problem,
                "file_sha256": state.sha256,
            }
        )

    def _build(self, agent: str, now: float) -> GrantSet:
        live = [
            (state.token, state.expires)
            for state in self._files.values()
            if state.problem is None
            and state.token is not None
            and state.token.agent == agent
            and state.token.id not in self._revoked
            and (state.expires is None or state.expires > now)
        ]
        grants = GrantSet(agent, [token.grant for token, _ in live])
        valid_until = min((e for _, e in live if e is not None), default=float("inf"))
        self._sets[agent] = (grants, valid_until)
        return grants
