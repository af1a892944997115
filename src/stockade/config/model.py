"""The configuration schema: what ``stockade.toml`` and ``.stockade.toml`` may say.

Pydantic models with ``extra="forbid"`` so that a misspelt key is an error, not a
silently ignored setting. Every default is the secure choice. The JSON schema
published in ``docs/config.schema.json`` is generated from these classes.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from stockade.decision import Verdict
from stockade.redact import Redactor


class Level(StrEnum):
    """How much each zone of risk is trusted; ``never`` is denied at every level."""

    PERMISSIVE = "permissive"
    STANDARD = "standard"
    STRICT = "strict"
    PARANOID = "paranoid"

    @property
    def rank(self) -> int:
        return list(Level).index(self)


class Profile(StrEnum):
    """Which canonical actions exist at all for an agent (tools outside it are denied)."""

    READ_ONLY = "read-only"
    CODING = "coding"
    FULL = "full"

    @property
    def rank(self) -> int:
        return list(Profile).index(self)


Pattern = Annotated[str, Field(min_length=1, max_length=4096)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ToolLists(_Strict):
    """Tool names, canonical actions (``fs.write``), groups (``group:fs``) or globs."""

    allow: list[Pattern] = Field(default_factory=list, description="Tools made available.")
    ask: list[Pattern] = Field(default_factory=list, description="Tools that always ask.")
    deny: list[Pattern] = Field(default_factory=list, description="Tools that are denied.")


class Rule(_Strict):
    """A fine-grained rule; every condition given must match. deny > ask > allow."""

    id: str | None = Field(None, max_length=200, description="Shown in decisions.")
    verdict: Verdict
    action: Pattern | None = Field(None, description="Canonical action, group or glob.")
    tool: Pattern | None = Field(None, description="Tool-name glob (mcp__github__*).")
    command: Pattern | None = Field(
        None, description="Command prefix, word by word ('git push' matches 'git push -f')."
    )
    exact_command: bool = Field(
        False, description="The command must be exactly these words, with no more arguments."
    )
    path: Pattern | None = Field(
        None, description="Path glob; relative globs are anchored at the project root."
    )
    domain: Pattern | None = Field(None, description="Host, or *.example.com for subdomains.")
    reason: str | None = Field(None, max_length=1000)

    @field_validator("command")
    @classmethod
    def _command_has_words(cls, value: str | None) -> str | None:
        if value is not None and not value.split():
            raise ValueError("command prefix must contain at least one word")
        return value

    @model_validator(mode="after")
    def _exact_needs_command(self) -> Rule:
        if self.exact_command and self.command is None:
            raise ValueError("exact_command needs a command")
        return self

    def has_condition(self) -> bool:
        return any((self.action, self.tool, self.command, self.path, self.domain))


class Network(_Strict):
    allow_domains: list[Pattern] = Field(
        default_factory=list, description="Hosts fetched without asking (*.example.com ok)."
    )
    deny_domains: list[Pattern] = Field(default_factory=list, description="Hosts never fetched.")
    allow_http: bool = Field(False, description="Permit plain http:// URLs.")


class Credentials(_Strict):
    patterns: list[Pattern] = Field(
        default_factory=list,
        description="Extra gitignore-style credential patterns (added to the defaults).",
    )


class PolicyOverride(_Strict):
    """Settings that an agent or project override may change; unset means inherit."""

    level: Level | None = None
    profile: Profile | None = None
    workspace_only_writes: bool | None = None
    tools: ToolLists = Field(default_factory=ToolLists)
    rules: list[Rule] = Field(default_factory=list)
    network: Network = Field(default_factory=Network)
    credentials: Credentials = Field(default_factory=Credentials)


class AuditSettings(_Strict):
    redact_patterns: list[Pattern] = Field(
        default_factory=list,
        description="Extra regexes whose matches are redacted (applied at daemon start).",
    )
    checkpoint_every_events: int = Field(
        1000,
        ge=1,
        le=10_000_000,
        description=(
            "Sign the audit chain head after this many events (applied at daemon start). "
            "Events after the newest checkpoint can be cut or rebuilt unnoticed until the next."
        ),
    )
    checkpoint_every_s: float = Field(
        60.0,
        ge=1,
        le=86_400,
        description="Sign the head this many seconds after the last checkpoint if it moved since.",
    )

    @field_validator("redact_patterns")
    @classmethod
    def _compiles(cls, patterns: list[str]) -> list[str]:
        Redactor(patterns)  # raises ValueError naming the bad pattern
        return patterns


class ApprovalSettings(_Strict):
    hold_timeout_s: float = Field(
        60.0,
        ge=1,
        le=3600,
        description=(
            "Longest time a held call (a hook that cannot ask a human itself) waits for "
            "`stockade approvals approve`; unanswered, it is denied."
        ),
    )
    notify: bool = Field(
        True,
        description="Announce each held call with `notify-send`, where it is installed.",
    )


class Settings(_Strict):
    """The whole of ``$STOCKADE_HOME/stockade.toml``."""

    level: Level = Field(Level.STANDARD, description="Security level: zone -> verdict.")
    profile: Profile = Field(Profile.CODING, description="Which tools exist at all.")
    workspace_only_writes: bool = Field(
        True, description="Deny file writes outside the project root."
    )
    writable_dirs: list[Pattern] = Field(
        default_factory=lambda: ["/tmp", "/var/tmp"],  # noqa: S108 - scratch space, by design
        description="Directories outside the project where writes are allowed (scratch space).",
    )
    tools: ToolLists = Field(default_factory=ToolLists)
    rules: list[Rule] = Field(default_factory=list)
    network: Network = Field(default_factory=Network)
    credentials: Credentials = Field(default_factory=Credentials)
    audit: AuditSettings = Field(default_factory=AuditSettings)
    approvals: ApprovalSettings = Field(default_factory=ApprovalSettings)
    agents: dict[str, PolicyOverride] = Field(
        default_factory=dict, description="Overrides per agent name."
    )
    projects: dict[str, PolicyOverride] = Field(
        default_factory=dict, description="Overrides per absolute project path."
    )

    @field_validator("writable_dirs")
    @classmethod
    def _absolute_dirs(cls, value: list[str]) -> list[str]:
        for path in value:
            if not path.startswith("/") or path.rstrip("/") == "":
                raise ValueError(f"writable dir {path!r} must be an absolute path other than /")
        return value

    @field_validator("projects")
    @classmethod
    def _absolute_project_paths(cls, value: dict[str, PolicyOverride]) -> dict[str, PolicyOverride]:
        for path in value:
            if not path.startswith(("/", "~")):
                raise ValueError(f"project path {path!r} must be absolute")
        return value


class ProjectFile(PolicyOverride):
    """A project's ``.stockade.toml``: may only tighten policy unless the user trusts it."""
