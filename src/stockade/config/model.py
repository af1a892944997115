"""The configuration schema: what ``stockade.toml`` and ``.stockade.toml`` may say.

Pydantic models with ``extra="forbid"`` so that a misspelt key is an error, not a
silently ignored setting. Every default is the secure choice. The JSON schema
published in ``docs/config.schema.json`` is generated from these classes.
"""

from __future__ import annotations

import ipaddress
from enum import StrEnum
from typing import Annotated, Literal
from urllib.parse import urlsplit

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


class LoggingSettings(_Strict):
    redact: Literal["on", "off"] = Field(
        "on",
        description=(
            "Redact secrets from the tool output handed back to the model and from the "
            'daemon\'s log. "off" is audited at every start and flagged by `stockade doctor`; '
            "the audit log, API answers and the UI are redacted either way (read at start)."
        ),
    )


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


def split_listen(text: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[::1]:PORT`` for IPv6) as host and port; ``ValueError`` if malformed.

    The host is an IP literal or ``localhost`` (names other than that would make
    "is this loopback?" depend on DNS at the moment of binding).
    """
    host, sep, port_text = text.rpartition(":")
    if not sep or not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
        raise ValueError(f"{text!r} is not HOST:PORT with a port from 1 to 65535")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
        if ipaddress.ip_address(host).version != 6:
            raise ValueError(f"{text!r}: only an IPv6 address goes in brackets")
    elif host != "localhost":
        if ":" in host:
            raise ValueError(f"{text!r}: write an IPv6 address in brackets, [::1]:PORT")
        ipaddress.ip_address(host)  # ValueError names the bad address
    return host, int(port_text)


def _origin(text: str) -> str:
    parts = urlsplit(text)
    if (
        parts.scheme not in ("http", "https")
        or not parts.netloc
        or text != (f"{parts.scheme}://{parts.netloc}")
    ):
        raise ValueError(f"origin {text!r} must be scheme://host[:port], e.g. https://x.example")
    return text.lower()


class GatewaySettings(_Strict):
    """The optional TCP gateway: the socket's API (plus the web UI) over HTTP(S)."""

    listen: str | None = Field(
        None,
        description=(
            "HOST:PORT to serve on ([::1]:PORT for IPv6); unset = no TCP listener. "
            "Off loopback, tls_cert and tls_key are required. `stockade serve --http` overrides it."
        ),
    )
    tls_cert: str | None = Field(None, description="PEM certificate (chain) file for HTTPS.")
    tls_key: str | None = Field(
        None, description="PEM private key file for HTTPS; must not be group/world readable."
    )
    allowed_hosts: list[Annotated[str, Field(min_length=1, max_length=300)]] = Field(
        default_factory=list,
        description=(
            "Extra Host header values accepted (exact, e.g. stockade.lan:8443), beyond the "
            "listen address (and localhost/127.0.0.1/[::1] with its port on loopback)."
        ),
    )
    allowed_origins: list[Annotated[str, Field(min_length=1, max_length=300)]] = Field(
        default_factory=list,
        description="Extra Origin values accepted (scheme://host[:port]), beyond the hosts'.",
    )
    trusted_proxies: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(
        default_factory=list,
        description=(
            "Proxy IPs or CIDRs whose X-Forwarded-For / X-Real-IP headers are believed; "
            "from any other peer those headers are ignored."
        ),
    )
    max_failures: int = Field(
        10, ge=1, le=1000, description="Failed authentications from one address before lockout."
    )
    failure_window_s: float = Field(
        60.0, ge=1, le=86400, description="The window in which max_failures are counted."
    )
    lockout_s: float = Field(
        300.0,
        ge=1,
        le=86400,
        description="How long a locked-out address's failed authentications get 429 (uncounted).",
    )
    read_timeout_s: float = Field(
        10.0,
        ge=0.5,
        le=300,
        description="Longest time to receive a request's headers and body (from its first byte).",
    )
    idle_timeout_s: int = Field(
        15, ge=1, le=3600, description="Keep-alive: an idle connection is closed after this long."
    )

    @field_validator("listen")
    @classmethod
    def _listen_parses(cls, value: str | None) -> str | None:
        if value is not None:
            split_listen(value)
        return value

    @field_validator("allowed_hosts")
    @classmethod
    def _lower_hosts(cls, value: list[str]) -> list[str]:
        return [host.lower() for host in value]

    @field_validator("allowed_origins")
    @classmethod
    def _origins_parse(cls, value: list[str]) -> list[str]:
        return [_origin(origin) for origin in value]

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_parse(cls, value: list[str]) -> list[str]:
        for proxy in value:
            ipaddress.ip_network(proxy, strict=False)  # ValueError names the bad entry
        return value

    @model_validator(mode="after")
    def _tls_pair(self) -> GatewaySettings:
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError("tls_cert and tls_key go together: set both or neither")
        return self


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
    logging: LoggingSettings = Field(default_factory=LoggingSettings)
    gateway: GatewaySettings = Field(default_factory=GatewaySettings)
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
