"""The decision engine: one normalized call + session state in, a decision out.

It also reports the credentials the call reads, whatever the verdict, and never
changes the session state: the caller adds those reads once the call may run, or
once a denied call is reported to have run anyway.

Pure and synchronous: the only outside access is the injected :class:`PathResolver`
(symlinks must be followed to judge a path). The steps, in order:

1. canonical action, then the profile and the ``tools`` lists (deny > ask > allow);
2. the action's inspector splits the call into subjects with findings (guards);
3. rules are matched per subject; an allow rule covers only its own subject;
4. data-flow: a session holding a credential may not reach a network, DNS,
   clipboard or external sink, nor write outside the project — denied, for the
   rest of the session;
5. every finding not covered by an allow rule is mapped through the security
   level; the most restrictive verdict wins, and ``never`` is always deny;
6. for a capability-restricted agent, a call its grants do not cover is denied
   (``cap:missing``, :mod:`stockade.policy.grants`); grants never lift a deny or ask.
"""

from __future__ import annotations

from dataclasses import dataclass

from stockade.decision import Decision, Verdict, Zone
from stockade.policy.actions import canonicalize
from stockade.policy.compile import CompiledPolicy
from stockade.policy.findings import Analysis, Finding
from stockade.policy.grants import MISSING_RULE, Grants
from stockade.policy.inspect import INSPECTORS, Context
from stockade.policy.paths import PathResolver
from stockade.policy.rules import CallFacts
from stockade.policy.state import Outcome, PromptScreening, SessionState, prompt_digest
from stockade.policy.zones import zone_verdict
from stockade.request import PromptSubmission, ToolCall

FLOW_SINKS = ("dns", "clipboard", "external", "network")  # most specific first


@dataclass(frozen=True, slots=True)
class _Verdicts:
    """Findings sorted by the verdict they carry once rules and level applied."""

    denies: list[Finding]
    asks: list[Finding]
    allows: list[Finding]


class Engine:
    """Decides calls against one compiled policy."""

    def __init__(self, policy: CompiledPolicy, resolver: PathResolver) -> None:
        self.policy = policy
        self.resolver = resolver

    def decide(self, call: ToolCall, state: SessionState, grants: Grants | None = None) -> Outcome:
        """Judge ``call`` in a session that has done ``state``; the state is not changed.

        ``grants`` are the live grants of a capability-restricted agent (``None``: the
        call's agent, if any, is not restricted).
        """
        action, analysis = self._analyze(call)
        verdicts = _Verdicts([], [], [])
        self._tool_lists(call.tool_name, action, verdicts)
        self._rules_and_findings(analysis, verdicts)
        self._data_flow(state, analysis, verdicts)
        if grants is not None:
            facts = [subject.facts for subject in analysis.subjects]
            lacking = grants.missing(call, action, facts)
            if lacking is not None:
                verdicts.denies.append(Finding(Zone.SAFE, MISSING_RULE, lacking, Verdict.DENY))
        zone = max((f.zone for s in analysis.subjects for f in s.findings), default=Zone.SAFE)
        decision = self._verdict(verdicts, zone, action)
        return Outcome(decision, tuple(dict.fromkeys(analysis.credential_sources)))

    def facts(self, call: ToolCall) -> tuple[CallFacts, ...]:
        """What each part of ``call`` touches, as rules see it (to learn a rule from it)."""
        return tuple(subject.facts for subject in self._analyze(call)[1].subjects)

    def _analyze(self, call: ToolCall) -> tuple[str, Analysis]:
        action = canonicalize(call.harness, call.tool_name).action
        cwd = self.resolver.resolve(call.cwd, "/")
        root = cwd if call.root == call.cwd else self.resolver.resolve(call.root, "/")
        analysis = Analysis()
        INSPECTORS[action](Context(call, action, self.policy, self.resolver, cwd, root), analysis)
        return action, analysis

    def screen_prompt(self, submission: PromptSubmission) -> PromptScreening:
        digest = prompt_digest(submission.prompt)
        pattern = self.policy.credentials.find_in_text(submission.prompt)
        if pattern is None:
            return PromptScreening(Verdict.ALLOW, "no credential reference", None, digest)
        return PromptScreening(
            Verdict.DENY,
            f"the prompt references a credential path (matches {pattern!r}); it was not sent",
            pattern,
            digest,
        )

    def _tool_lists(self, tool: str, action: str, verdicts: _Verdicts) -> None:
        policy = self.policy
        denied = policy.tools_deny.match(tool, action)
        if denied is not None:
            verdicts.denies.append(
                Finding(
                    Zone.NEVER, f"tools.deny:{denied}", f"{tool} is denied by tools.deny ({denied})"
                )
            )
        asked = policy.tools_ask.match(tool, action)
        if asked is not None:
            verdicts.asks.append(
                Finding(Zone.SAFE, f"tools.ask:{asked}", f"{tool} always asks (tools.ask: {asked})")
            )
        if action not in policy.profile_actions and policy.tools_allow.match(tool, action) is None:
            profile = policy.spec.profile.value
            verdicts.denies.append(
                Finding(
                    Zone.NEVER,
                    f"profile:{profile}",
                    f"{tool} ({action}) is not available in profile {profile!r}; "
                    "add it to tools.allow to enable it",
                )
            )

    def _rules_and_findings(self, analysis: Analysis, verdicts: _Verdicts) -> None:
        level = self.policy.spec.level
        for subject in analysis.subjects:
            matched = self.policy.rules.match(subject.facts)
            allow_rule: str | None = None
            for named in matched:
                rule = named.rule
                reason = rule.reason or f"rule {named.rule_id}"
                finding = Finding(Zone.SAFE, f"rule:{named.rule_id}", reason, rule.verdict)
                if rule.verdict is Verdict.DENY:
                    verdicts.denies.append(finding)
                elif rule.verdict is Verdict.ASK:
                    verdicts.asks.append(finding)
                elif allow_rule is None:
                    allow_rule = named.rule_id
                    verdicts.allows.append(finding)
            explicit = next((f for f in subject.findings if f.verdict is Verdict.ALLOW), None)
            if explicit is not None and allow_rule is None:
                allow_rule = explicit.rule_id
                verdicts.allows.append(explicit)
            for finding in subject.findings:
                if finding.denies:
                    verdicts.denies.append(finding)
                elif allow_rule is not None:
                    continue
                elif finding.verdict is Verdict.ASK:
                    verdicts.asks.append(finding)
                else:
                    by_level = zone_verdict(level, finding.zone)
                    if by_level is Verdict.DENY:
                        verdicts.denies.append(finding)
                    elif by_level is Verdict.ASK:
                        verdicts.asks.append(finding)

    def _data_flow(self, state: SessionState, analysis: Analysis, verdicts: _Verdicts) -> None:
        sources = list(state.credential_sources) + analysis.credential_sources
        if not sources:
            return
        origin = sources[0].split(":", 1)[-1]
        for sink in FLOW_SINKS:
            if sink in analysis.sinks:
                verdicts.denies.append(
                    Finding(
                        Zone.NEVER,
                        f"flow:credential-then-{sink}",
                        f"this session read a credential ({origin}); a {sink} call could "
                        "exfiltrate it, so it is blocked for the rest of the session",
                    )
                )
                return
        if analysis.writes_outside:
            verdicts.denies.append(
                Finding(
                    Zone.NEVER,
                    "flow:credential-then-write-outside",
                    f"this session read a credential ({origin}); writing outside the project "
                    f"({analysis.writes_outside[0]}) is blocked for the rest of the session",
                )
            )

    def _verdict(self, verdicts: _Verdicts, zone: Zone, action: str) -> Decision:
        if verdicts.denies:
            first = max(verdicts.denies, key=_deny_priority)
            return Decision(
                Verdict.DENY, first.reason, first.rule_id, max(zone, first.zone), action
            )
        if verdicts.asks:
            first = max(verdicts.asks, key=lambda f: f.zone)
            return Decision(Verdict.ASK, first.reason, first.rule_id, zone, action)
        if verdicts.allows:
            rule = verdicts.allows[0]
            return Decision(Verdict.ALLOW, rule.reason, rule.rule_id, zone, action)
        level = self.policy.spec.level.value
        return Decision(
            Verdict.ALLOW,
            f"zone {zone.label} is allowed at level {level}",
            f"zone:{zone.label}",
            zone,
            action,
        )


def _deny_priority(finding: Finding) -> tuple[int, int]:
    """Report the most telling deny: catastrophic first, then flows and guards, then rules."""
    rule_id = finding.rule_id
    if rule_id.startswith("flow:"):
        rank = 3
    elif finding.zone is Zone.NEVER and not rule_id.startswith(("tools.", "profile:")):
        rank = 4
    elif rule_id.startswith("guard:"):
        rank = 2
    else:
        rank = 1
    return rank, int(finding.zone)
