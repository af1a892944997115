"""Merging settings and overrides into one flat policy specification.

Order: user settings → the agent's override → the user's override for the project
→ the project's own file → the rules learned from "always" answers in the project.
Scalars (level, profile) are replaced by later layers;
lists are united, so a deny or ask added anywhere survives (deny > ask > allow is
applied when deciding). Each rule keeps an id that says where it came from.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from stockade.config.model import Level, PolicyOverride, Profile, Rule, Settings


@dataclass(frozen=True, slots=True)
class NamedRule:
    rule_id: str
    rule: Rule


@dataclass(frozen=True, slots=True)
class PolicySpec:
    """The effective policy for one (project, agent) pair, before compilation."""

    level: Level
    profile: Profile
    workspace_only_writes: bool
    writable_dirs: tuple[str, ...]
    tools_allow: tuple[str, ...]
    tools_ask: tuple[str, ...]
    tools_deny: tuple[str, ...]
    rules: tuple[NamedRule, ...]
    allow_domains: tuple[str, ...]
    deny_domains: tuple[str, ...]
    allow_http: bool
    credential_patterns: tuple[str, ...]
    sources: tuple[str, ...]

    def to_json(self) -> dict[str, object]:
        return {
            "level": self.level.value,
            "profile": self.profile.value,
            "workspace_only_writes": self.workspace_only_writes,
            "writable_dirs": list(self.writable_dirs),
            "tools": {
                "allow": list(self.tools_allow),
                "ask": list(self.tools_ask),
                "deny": list(self.tools_deny),
            },
            "rules": [
                {"id": named.rule_id, **named.rule.model_dump(exclude_none=True, mode="json")}
                for named in self.rules
            ],
            "network": {
                "allow_domains": list(self.allow_domains),
                "deny_domains": list(self.deny_domains),
                "allow_http": self.allow_http,
            },
            "credential_patterns": list(self.credential_patterns),
            "sources": list(self.sources),
        }


def base_spec(settings: Settings, credential_defaults: tuple[str, ...]) -> PolicySpec:
    """The user's settings as a spec, before any override."""
    return PolicySpec(
        level=settings.level,
        profile=settings.profile,
        workspace_only_writes=settings.workspace_only_writes,
        writable_dirs=tuple(settings.writable_dirs),
        tools_allow=tuple(settings.tools.allow),
        tools_ask=tuple(settings.tools.ask),
        tools_deny=tuple(settings.tools.deny),
        rules=_named(settings.rules, "rules"),
        allow_domains=tuple(settings.network.allow_domains),
        deny_domains=tuple(settings.network.deny_domains),
        allow_http=settings.network.allow_http,
        credential_patterns=credential_defaults + tuple(settings.credentials.patterns),
        sources=("settings",),
    )


def apply_override(spec: PolicySpec, override: PolicyOverride, source: str) -> PolicySpec:
    """``spec`` with ``override`` layered on top (``source`` names it in rule ids)."""
    return PolicySpec(
        level=override.level or spec.level,
        profile=override.profile or spec.profile,
        workspace_only_writes=(
            spec.workspace_only_writes
            if override.workspace_only_writes is None
            else override.workspace_only_writes
        ),
        writable_dirs=spec.writable_dirs,
        tools_allow=spec.tools_allow + tuple(override.tools.allow),
        tools_ask=spec.tools_ask + tuple(override.tools.ask),
        tools_deny=spec.tools_deny + tuple(override.tools.deny),
        rules=spec.rules + _named(override.rules, f"{source}.rules"),
        allow_domains=spec.allow_domains + tuple(override.network.allow_domains),
        deny_domains=spec.deny_domains + tuple(override.network.deny_domains),
        allow_http=spec.allow_http or override.network.allow_http,
        credential_patterns=spec.credential_patterns + tuple(override.credentials.patterns),
        sources=spec.sources + (source,),
    )


def add_rules(spec: PolicySpec, rules: Iterable[NamedRule], source: str) -> PolicySpec:
    """``spec`` with more rules after its own (learned "always" rules)."""
    added = tuple(rules)
    if not added:
        return spec
    return replace(spec, rules=spec.rules + added, sources=spec.sources + (source,))


def extend_patterns(spec: PolicySpec, patterns: list[str], source: str) -> PolicySpec:
    """``spec`` with extra credential patterns (from a ``.stockadeignore``)."""
    if not patterns:
        return spec
    return _replace_patterns(spec, spec.credential_patterns + tuple(patterns), source)


def _replace_patterns(spec: PolicySpec, patterns: tuple[str, ...], source: str) -> PolicySpec:
    return PolicySpec(
        spec.level,
        spec.profile,
        spec.workspace_only_writes,
        spec.writable_dirs,
        spec.tools_allow,
        spec.tools_ask,
        spec.tools_deny,
        spec.rules,
        spec.allow_domains,
        spec.deny_domains,
        spec.allow_http,
        patterns,
        spec.sources + (source,),
    )


def _named(rules: list[Rule], prefix: str) -> tuple[NamedRule, ...]:
    return tuple(
        NamedRule(rule.id or f"{prefix}[{index}]", rule) for index, rule in enumerate(rules)
    )
