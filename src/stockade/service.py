"""DecisionService: the loaded policy plus per-session state, behind one small API.

The daemon's pipeline calls only this. It reads configuration (the only file I/O
here: the user's settings, ``.stockadeignore`` files, a project's ``.stockade.toml``),
compiles one engine per (project, agent) and caches it until a file changes, and
keeps each session's data-flow state. :meth:`decide` never raises: an exception or
an invalid project file becomes a deny.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stockade.caps.book import CapabilityBook
from stockade.config.learned import LearnedRule, load_learned
from stockade.config.load import load_settings, read_ignore_file
from stockade.config.model import AuditSettings, GatewaySettings, Rule, Settings
from stockade.config.project import load_project_file
from stockade.config.trust import PROJECT_FILE, TrustStore
from stockade.decision import Decision, Verdict, Zone
from stockade.errors import ConfigError
from stockade.home import Home
from stockade.policy.actions import canonicalize
from stockade.policy.compile import compile_policy
from stockade.policy.credentials import DEFAULT_CREDENTIAL_PATTERNS
from stockade.policy.engine import Engine
from stockade.policy.learning import Scope, learn_rules
from stockade.policy.paths import RealPathResolver
from stockade.policy.spec import (
    NamedRule,
    PolicySpec,
    add_rules,
    apply_override,
    base_spec,
    extend_patterns,
)
from stockade.policy.state import Outcome, PromptScreening, SessionState, prompt_digest
from stockade.request import PromptSubmission, ToolCall

log = logging.getLogger(__name__)

IGNORE_FILE = ".stockadeignore"
POLICY_RECHECK_S = 0.25
"""How long a compiled engine is used before its project's policy files are stat'ed again.

Three ``stat`` calls per decision cost more than the rest of the cache lookup; a
quarter of a second is below what a person editing ``.stockade.toml`` notices. Until
the re-check the previous policy applies, and that one had been accepted (a loosening
edit to a trusted file is refused once seen, never applied early)."""

_FileSignature = tuple[tuple[int, int] | None, ...]


@dataclass(slots=True)
class _CachedEngine:
    engine: Engine
    signature: _FileSignature
    recheck_at: float


class DecisionService:
    """Owns the effective policy and the state of every live session."""

    def __init__(
        self,
        home: Home,
        settings: Settings,
        config_hash: str,
        learned: tuple[LearnedRule, ...] = (),
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._home = home
        self._clock = clock
        # The registered agents and their verified grants (read on first use, or by load()).
        self.capabilities = CapabilityBook(home)
        self._settings = settings
        self._learned = learned
        self.config_hash = config_hash
        self._user_home = os.path.realpath(os.path.expanduser("~"))
        self._stockade_home = os.path.realpath(home.root)
        self._resolver = RealPathResolver(self._user_home)
        self._trust = TrustStore(home)
        self._home_patterns = tuple(read_ignore_file(home.ignore_path))
        self._engines: dict[tuple[str, str | None], _CachedEngine] = {}
        # Only sessions that read a credential: every other session's state is empty.
        self._sessions: dict[tuple[str, str], SessionState] = {}
        self._lock = threading.Lock()

    @classmethod
    def load(cls, home: Home, *, clock: Callable[[], float] = time.monotonic) -> DecisionService:
        """Load and compile the configuration; raises ``ConfigError`` when invalid."""
        settings, digest = load_settings(home)
        service = cls(home, settings, digest, load_learned(home.rules_path), clock=clock)
        service.check_compiles()
        service.capabilities.load()  # a bad agents.json stops the daemon, like a bad rules.json
        return service

    def check_compiles(self) -> None:
        """Compile the policy of every configured agent and project, so that a bad pattern,
        glob or domain stops the daemon (or ``config validate``) instead of every call."""
        self.engine_for(self._user_home, None)
        for agent in self._settings.agents:
            self.engine_for(self._user_home, agent)
        for project in self._settings.projects:
            self.engine_for(os.path.expanduser(project), None)
        for root in {learned.project_root for learned in self._learned}:
            self.engine_for(root, None)

    def decide(self, call: ToolCall) -> Outcome:
        """Decide one call and taint its session with the reads it may now do. Never raises."""
        outcome = self.evaluate(call)
        self.add_taint(call.harness, call.session_id, outcome.admitted_reads)
        return outcome

    def evaluate(self, call: ToolCall) -> Outcome:
        """Decide without changing the session. Never raises.

        The caller adds the call's ``credential_reads`` with :meth:`add_taint` once it
        may run (an ``ask`` held for a human: once approved) or has run.
        """
        with self._lock:
            state = self._sessions.get((call.harness, call.session_id), SessionState())
        return self._decide(call, state)

    def check(self, call: ToolCall) -> Decision:
        """Decide without touching session state (``stockade check``)."""
        return self.evaluate(call).decision

    def add_taint(self, harness: str, session_id: str, sources: Iterable[str]) -> list[str]:
        """Mark credentials as read by the session (a call that may run or ran, or a
        restart restoring them); returns the sources it did not hold yet, once each."""
        key = (harness, session_id)
        with self._lock:
            held = self._sessions.get(key, SessionState())
            state = held
            for source in sources:
                state = state.with_credential(source)
            if state is held:
                return []
            self._sessions[key] = state
        return list(state.credential_sources[len(held.credential_sources) :])

    def session_state(self, harness: str, session_id: str) -> SessionState:
        with self._lock:
            return self._sessions.get((harness, session_id), SessionState())

    @property
    def hold_timeout_s(self) -> float:
        """The longest a held ``ask`` waits for a human (``[approvals] hold_timeout_s``)."""
        return self._settings.approvals.hold_timeout_s

    @property
    def audit_settings(self) -> AuditSettings:
        """``[audit]``: redaction patterns and checkpoint periods (applied at daemon start)."""
        return self._settings.audit

    @property
    def redacts_output(self) -> bool:
        """``[logging] redact``: whether tool output and the daemon log are redacted."""
        return self._settings.logging.redact == "on"

    @property
    def gateway_settings(self) -> GatewaySettings:
        """``[gateway]`` (read at daemon start; a reload does not change the listener)."""
        return self._settings.gateway

    @property
    def redact_patterns(self) -> tuple[str, ...]:
        """The user's extra redaction regexes (``[audit] redact_patterns``)."""
        return tuple(self._settings.audit.redact_patterns)

    def screen_prompt(self, submission: PromptSubmission) -> PromptScreening:
        try:
            return self.engine_for(
                submission.project_root or submission.cwd, submission.agent
            ).screen_prompt(submission)
        except Exception as exc:  # fail closed: a prompt we cannot screen is blocked
            log.exception("prompt screening failed")
            digest = prompt_digest(submission.prompt)
            return PromptScreening(
                Verdict.DENY, f"screening failed: {_describe(exc)}", None, digest
            )

    def effective_policy(
        self, project_root: str | None = None, agent: str | None = None
    ) -> dict[str, Any]:
        root = self._resolver.resolve(project_root, "/") if project_root else self._user_home
        spec = self._spec_for(root, agent)
        return {
            "config_hash": self.config_hash,
            "project_root": root,
            "agent": agent,
            **spec.to_json(),
        }

    @property
    def learned_rules(self) -> tuple[LearnedRule, ...]:
        return self._learned

    @property
    def rules_path(self) -> Path:
        return self._home.rules_path

    @property
    def notify(self) -> bool:
        """Whether a held call is announced with ``notify-send`` (``[approvals] notify``)."""
        return self._settings.approvals.notify

    def propose_rule(self, call: ToolCall, scope: Scope, *, reason: str) -> tuple[str, list[Rule]]:
        """The project root and the narrow allow rules an "always" answer to ``call`` records.

        Raises :class:`~stockade.policy.learning.ScopeError` when no narrow rule fits.
        """
        engine = self.engine_for(call.root, call.agent)
        rules = learn_rules(call.tool_name, engine.facts(call), scope, reason)
        return engine.policy.project_root, rules

    def use_learned(self, learned: tuple[LearnedRule, ...]) -> None:
        """Decide with ``learned`` from now on (the caller has saved them)."""
        with self._lock:
            self._learned = learned
            self._engines.clear()

    def reload(self) -> str:
        """Reload configuration; on ``ConfigError`` the running policy is kept."""
        fresh = DecisionService.load(self._home, clock=self._clock)
        with self._lock:
            self._settings = fresh._settings
            self._learned = fresh._learned
            self._home_patterns = fresh._home_patterns
            self.config_hash = fresh.config_hash
            self._engines.clear()
        return self.config_hash

    def _decide(self, call: ToolCall, state: SessionState) -> Outcome:
        try:
            grants = self.capabilities.grants_for(call.agent)
            return self.engine_for(call.root, call.agent).decide(call, state, grants)
        except ConfigError as exc:
            reason = f"project configuration rejected: {exc.message}"
            return Outcome(self._deny(call, reason, "config:invalid"))
        except Exception as exc:
            log.exception("decision failed; denying")
            return Outcome(self._deny(call, f"internal error: {_describe(exc)}", "error:internal"))

    def _deny(self, call: ToolCall, reason: str, rule_id: str) -> Decision:
        action = canonicalize(call.harness, call.tool_name).action
        return Decision(Verdict.DENY, reason, rule_id, Zone.NEVER, action)

    def engine_for(self, raw_root: str, agent: str | None) -> Engine:
        """The compiled engine for calls under ``raw_root`` by ``agent``.

        Cached by the root as spelled, until a policy file of the project or the trust
        store changes (looked at every :data:`POLICY_RECHECK_S`). The engine re-resolves
        the root on every call to judge paths; the cache only picks which compiled policy
        applies.
        """
        key = (raw_root, agent)
        now = self._clock()
        cached = self._engines.get(key)
        if cached is not None:
            if now < cached.recheck_at:
                return cached.engine
            root = cached.engine.policy.project_root
            if cached.signature == _signature(root, self._home.trust_path):
                cached.recheck_at = now + POLICY_RECHECK_S
                return cached.engine
        root = self._resolver.resolve(raw_root, "/")
        signature = _signature(root, self._home.trust_path)
        spec = self._spec_for(root, agent)
        try:
            policy = compile_policy(
                spec, project_root=root, home=self._user_home, stockade_home=self._stockade_home
            )
        except (ValueError, re.error) as exc:
            sources = ", ".join(
                str(self._home.config_path) if source == "settings" else source
                for source in spec.sources
            )
            raise ConfigError(
                f"the policy from {sources} does not compile: {exc}",
                "fix the pattern, glob or domain it names",
            ) from None
        engine = Engine(policy, self._resolver)
        self._engines[key] = _CachedEngine(engine, signature, now + POLICY_RECHECK_S)
        return engine

    def _spec_for(self, root: str, agent: str | None) -> PolicySpec:
        settings = self._settings
        spec = base_spec(settings, DEFAULT_CREDENTIAL_PATTERNS + self._home_patterns)
        if agent is not None and agent in settings.agents:
            spec = apply_override(spec, settings.agents[agent], f"agents.{agent}")
        for path, override in settings.projects.items():
            if os.path.realpath(os.path.expanduser(path)) == root:
                spec = apply_override(spec, override, f"projects.{path}")
        project = load_project_file(
            root,
            self._trust,
            level=spec.level,
            profile=spec.profile,
            workspace_only=spec.workspace_only_writes,
        )
        if project is not None:
            spec = apply_override(spec, project.content, f"project:{project.path}")
        project_ignore = read_ignore_file(Path(root) / IGNORE_FILE)
        if any(p.startswith("!") for p in project_ignore):
            raise ConfigError(
                f"{Path(root) / IGNORE_FILE}: a project ignore file may not exempt paths (`!`)",
                "move exemptions to $STOCKADE_HOME/.stockadeignore",
            )
        spec = extend_patterns(spec, project_ignore, f"ignore:{root}")
        learned = [
            NamedRule(rule_id, rule)
            for entry in self._learned
            if entry.project_root == root
            for rule_id, rule in entry.named()
        ]
        return add_rules(spec, learned, "learned")


def _signature(root: str, trust_path: Path) -> _FileSignature:
    """Change detector for the project's policy files and the trust store (mtime, size)."""
    parts: list[tuple[int, int] | None] = []
    for path in (os.path.join(root, PROJECT_FILE), os.path.join(root, IGNORE_FILE), trust_path):
        try:
            info = os.stat(path)
        except OSError:
            parts.append(None)
        else:
            parts.append((info.st_mtime_ns, info.st_size))
    return tuple(parts)


def _describe(exc: Exception) -> str:
    return type(exc).__name__
