"""The request bodies of API v1, validated at the edge and nowhere else.

Unknown fields are errors (a misspelled ``project_rot`` must not silently widen
what a call is judged against), types are strict (``"cwd": 1`` is not coerced),
and paths must be absolute. Validation errors name the field and the problem but
never the value: a rejected ``tool_input`` may well hold a secret.
"""

from __future__ import annotations

import json
import re
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
)

from stockade.daemon.problems import ApiProblem
from stockade.policy.actions import HARNESSES
from stockade.policy.learning import Scope
from stockade.request import PromptSubmission, ToolCall

MAX_PROMPT_CHARS = 256 * 1024
MAX_OUTPUT_CHARS = 512 * 1024
MAX_HOLD_S = 3600.0
MAX_NOTE_CHARS = 500
MAX_SEQ = 2**63 - 1  # SQLite's largest integer: a bigger cursor would fail in the query
MAX_KINDS = 32
MAX_KIND_CHARS = 100
# One item of ``?kinds=``: a kind (``decision``) or every kind under a prefix (``permission.*``).
_KIND_PATTERN = re.compile(r"[a-z][a-z0-9_-]*(?:\.[a-z0-9_-]+)*(?:\.\*)?")
# pydantic alone also reads "1700000000" or "0.5" as a time: a typo must not pick a purge's cutoff.
_RFC3339 = re.compile(r"\d{4}-\d\d-\d\d[Tt]\d\d:\d\d:\d\d(\.\d+)?([Zz]|[+-]\d\d:\d\d)")


def _known_harness(value: str) -> str:
    if value not in HARNESSES:
        raise ValueError(f"unknown harness; valid: {', '.join(HARNESSES)}")
    return value


def _absolute_path(value: str) -> str:
    if not value.startswith("/") or "\x00" in value:
        raise ValueError("must be an absolute path without NUL bytes")
    return value


def _kind_patterns(value: Any) -> Any:
    """``"decision, permission.*"`` -> ``("decision", "permission.*")``, each item checked."""
    if not isinstance(value, str):
        return value  # not from a query string: the type check refuses it
    patterns = tuple(item.strip() for item in value.split(",") if item.strip())
    if len(patterns) > MAX_KINDS:
        raise ValueError(f"at most {MAX_KINDS} kinds")
    for pattern in patterns:
        if len(pattern) > MAX_KIND_CHARS or not _KIND_PATTERN.fullmatch(pattern):
            raise ValueError("each kind is a kind (decision) or a prefix (permission.*)")
    return patterns


def _rfc3339(value: object) -> object:
    if not isinstance(value, str) or not _RFC3339.fullmatch(value):
        raise ValueError("must be an RFC 3339 time such as 2025-01-31T12:00:00Z")
    return value


# The JSON schema extras say what the validators enforce (docs/openapi.json is generated).
Harness = Annotated[
    str, AfterValidator(_known_harness), Field(json_schema_extra={"enum": list(HARNESSES)})
]
Name = Annotated[str, Field(min_length=1, max_length=200)]
AbsolutePath = Annotated[
    str,
    Field(min_length=1, max_length=4096, json_schema_extra={"pattern": "^/[^\\x00]*$"}),
    AfterValidator(_absolute_path),
]


def _storable(value: dict[str, Any]) -> dict[str, Any]:
    # The JSON reader takes NaN and Infinity (and reads 1e999 as infinity); the audit log
    # stores canonical JSON, which has neither: refuse them here, not with a 500 later.
    try:
        json.dumps(value, allow_nan=False)
    except ValueError:
        raise ValueError("numbers must be finite: NaN and Infinity are not JSON") from None
    return value


ToolInput = Annotated[dict[str, Any], AfterValidator(_storable)]
# Lax once the text is known to be RFC 3339: strict mode would refuse a string after the check.
Time = Annotated[AwareDatetime, Field(strict=False), BeforeValidator(_rfc3339)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


StrictBody = _Body  # the same rules for the bodies other packages define (vault/schemas.py)


class ToolCallBody(_Body):
    """``POST /check`` (and the base of the other call bodies): one normalized tool call."""

    harness: Harness
    session_id: Name
    tool_name: Name
    tool_input: ToolInput
    cwd: AbsolutePath
    project_root: AbsolutePath | None = None
    agent: Name | None = None

    def to_call(self) -> ToolCall:
        return ToolCall(
            harness=self.harness,
            session_id=self.session_id,
            tool_name=self.tool_name,
            tool_input=self.tool_input,
            cwd=self.cwd,
            project_root=self.project_root,
            agent=self.agent,
        )


class DecideBody(ToolCallBody):
    """``POST /decide``: a tool call; ``hold_s`` asks the daemon to hold an ``ask`` for a human.

    Sent by shims whose harness cannot put an ``ask`` in front of a human itself; the
    shim's remaining deadline minus a margin, so the answer always beats its timeout.
    """

    hold_s: Annotated[float, Field(gt=0, le=MAX_HOLD_S, allow_inf_nan=False)] | None = None


class ToolResultBody(ToolCallBody):
    """``POST /tool-results``: what became of a call; the output is redacted, never stored."""

    status: Literal["succeeded", "failed", "not_run"]
    output: Annotated[str, Field(max_length=MAX_OUTPUT_CHARS)] | None = None
    tool_use_id: Name | None = None


class SessionBody(_Body):
    """``POST /sessions``: a session started or ended."""

    harness: Harness
    session_id: Name
    event: Literal["start", "end"]
    cwd: AbsolutePath | None = None
    project_root: AbsolutePath | None = None
    model: Name | None = None
    source: Name | None = None
    reason: Name | None = None
    agent: Name | None = None


class ScopeBody(_Body):
    """How wide an ``always`` rule is; each field must still cover the held call."""

    command: Annotated[str, Field(min_length=1, max_length=1000)] | None = None
    path: Annotated[str, Field(min_length=1, max_length=4096)] | None = None
    domain: Annotated[str, Field(min_length=1, max_length=253)] | None = None

    def to_scope(self) -> Scope:
        return Scope(command=self.command, path=self.path, domain=self.domain)


class ResolveBody(_Body):
    """``POST /approvals/{id}/approve|deny|always``: ``{}``, a note, and for ``always`` a scope."""

    note: Annotated[str, Field(max_length=MAX_NOTE_CHARS)] | None = None
    scope: ScopeBody | None = None


class PreviewBody(_Body):
    """``POST /approvals/{id}/always/preview``: the scope an ``always`` answer would send."""

    scope: ScopeBody | None = None


class PromptBody(_Body):
    """``POST /prompts/screen``: a submitted prompt, screened and never stored."""

    harness: Harness
    session_id: Name
    prompt: Annotated[str, Field(max_length=MAX_PROMPT_CHARS)]
    cwd: AbsolutePath
    project_root: AbsolutePath | None = None
    agent: Name | None = None

    def to_submission(self) -> PromptSubmission:
        return PromptSubmission(
            harness=self.harness,
            session_id=self.session_id,
            prompt=self.prompt,
            cwd=self.cwd,
            project_root=self.project_root,
            agent=self.agent,
        )


class PurgeBody(_Body):
    """``POST /audit/purge``: destructive, so ``confirm`` must be spelled out."""

    before: Time
    confirm: bool = False


class ConfirmBody(_Body):
    """``POST /agents/{agent}/remove``: cannot be undone, so ``confirm`` must be spelled out."""

    confirm: bool = False


class RotateBody(ConfirmBody):
    """``POST /identity/rotate``: ``confirm``; ``reissue`` re-signs the live grants."""

    reissue: bool = False


MAX_CONSTRAINTS = 64
Constraint = Annotated[str, Field(min_length=1, max_length=1000)]


class AgentBody(_Body):
    """``POST /agents``: register an agent; from then on it may do only what it is granted."""

    name: Annotated[str, Field(min_length=1, max_length=64)]
    note: Annotated[str, Field(max_length=MAX_NOTE_CHARS)] | None = None


class GrantBody(_Body):
    """``POST /caps``: grant ``capability`` to ``agent``, narrowed by the constraints given.

    At most one of ``expires_at`` and ``expires_in_s``; neither: the grant does not expire.
    """

    agent: Annotated[str, Field(min_length=1, max_length=64)]
    capability: Annotated[str, Field(min_length=1, max_length=300)]
    paths: Annotated[list[Constraint], Field(max_length=MAX_CONSTRAINTS)] = []
    commands: Annotated[list[Constraint], Field(max_length=MAX_CONSTRAINTS)] = []
    domains: Annotated[list[Constraint], Field(max_length=MAX_CONSTRAINTS)] = []
    args: Annotated[dict[str, Constraint], Field(max_length=MAX_CONSTRAINTS)] = {}
    expires_at: Time | None = None
    expires_in_s: Annotated[int, Field(gt=0, le=10 * 365 * 86400)] | None = None


class EmptyBody(_Body):
    """Control routes (``/reload``, ``/shutdown``, ``/audit/verify``) take ``{}`` or nothing."""


class EventsQuery(BaseModel):
    """Query string of ``GET /audit/events``; lax, since query values are all strings."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    after: int = Field(default=0, ge=0, le=MAX_SEQ)
    limit: int = Field(default=100, ge=1, le=1000)
    kind: Name | None = None
    session: Name | None = None
    since: Time | None = None
    until: Time | None = None
    tool: Name | None = None
    verdict: Literal["allow", "ask", "deny"] | None = None
    harness: Harness | None = None
    order: Literal["asc", "desc"] = "asc"


class StreamQuery(BaseModel):
    """Query string of ``GET /events``; ``after`` may come as ``Last-Event-ID`` instead."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    after: int | None = Field(default=None, ge=0, le=MAX_SEQ)
    kinds: Annotated[tuple[str, ...], BeforeValidator(_kind_patterns)] = ()
    session: Name | None = None


class SessionsQuery(BaseModel):
    """Query string of ``GET /sessions``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    limit: int = Field(default=50, ge=1, le=500)
    offset: int = Field(default=0, ge=0, le=MAX_SEQ)


class CapsQuery(BaseModel):
    """Query string of ``GET /caps``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    agent: Annotated[str, Field(min_length=1, max_length=64)] | None = None


class ApprovalsQuery(BaseModel):
    """Query string of ``GET /approvals``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    status: Literal["pending", "all"] = "pending"


Model = TypeVar("Model", bound=BaseModel)


def parse_body(model: type[Model], raw: bytes, *, empty_ok: bool = False) -> Model:
    """Validate ``raw`` JSON as ``model``: 400 for non-JSON, 422 for schema violations."""
    if not raw and empty_ok:
        raw = b"{}"
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        raise _problem(exc, "the request body does not match the schema") from None


def parse_query(model: type[Model], params: dict[str, str]) -> Model:
    try:
        return model.model_validate(params)
    except ValidationError as exc:
        raise _problem(exc, "the query string does not match the schema") from None


def _problem(exc: ValidationError, message: str) -> ApiProblem:
    errors = exc.errors(include_url=False, include_input=False, include_context=False)
    for error in errors:
        if error["type"] == "json_invalid":
            return ApiProblem(400, "invalid_json", "the request body is not valid JSON")
        if not error["loc"] and error["type"] in ("model_type", "model_attributes_type"):
            return ApiProblem(400, "invalid_json", "the request body is not a JSON object")
    details = [
        {"loc": [str(part) for part in error["loc"]], "msg": error["msg"], "type": error["type"]}
        for error in errors
    ]
    fields = ", ".join(".".join(d["loc"]) or "(body)" for d in details)
    return ApiProblem(422, "invalid_request", f"{message}: {fields}", "see docs/api.md", details)
