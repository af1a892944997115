"""Compiling a :class:`PolicySpec` into matchers: the slow work happens once, here.

A compiled policy is immutable and bound to one project root, so a decision is
only lookups: name tables, the rule index, one combined credential regex and a
host table.
"""

from __future__ import annotations

from dataclasses import dataclass

from stockade.policy import actions as A
from stockade.policy.credentials import CredentialMatcher
from stockade.policy.rules import NameMatcher, RuleIndex
from stockade.policy.spec import PolicySpec
from stockade.policy.urls import UrlPolicy

_CODING = frozenset(
    {
        A.FS_READ,
        A.FS_SEARCH,
        A.FS_WRITE,
        A.SHELL_EXEC,
        A.NET_FETCH,
        A.NET_SEARCH,
        A.MCP_CALL,
        A.AGENT_SPAWN,
        A.AGENT_META,
    }
)

PROFILE_ACTIONS: dict[str, frozenset[str]] = {
    "read-only": frozenset({A.FS_READ, A.FS_SEARCH, A.AGENT_META}),
    "coding": _CODING,
    "full": frozenset(A.ALL_ACTIONS),
}


@dataclass(frozen=True, slots=True)
class CompiledPolicy:
    spec: PolicySpec
    project_root: str
    home: str
    stockade_home: str
    profile_actions: frozenset[str]
    tools_allow: NameMatcher
    tools_ask: NameMatcher
    tools_deny: NameMatcher
    rules: RuleIndex
    credentials: CredentialMatcher
    urls: UrlPolicy


def compile_policy(
    spec: PolicySpec, *, project_root: str, home: str, stockade_home: str
) -> CompiledPolicy:
    """Compile ``spec`` for calls under ``project_root`` (all paths already resolved)."""
    return CompiledPolicy(
        spec=spec,
        project_root=project_root,
        home=home,
        stockade_home=stockade_home,
        profile_actions=PROFILE_ACTIONS[spec.profile.value],
        tools_allow=NameMatcher(spec.tools_allow),
        tools_ask=NameMatcher(spec.tools_ask),
        tools_deny=NameMatcher(spec.tools_deny),
        rules=RuleIndex(spec.rules, project_root=project_root, home=home),
        credentials=CredentialMatcher.compile(spec.credential_patterns),
        urls=UrlPolicy.compile(
            allow_domains=spec.allow_domains,
            deny_domains=spec.deny_domains,
            allow_http=spec.allow_http,
        ),
    )
