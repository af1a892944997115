"""The OpenAPI 3.1 document of API v1, generated from the request models and one table.

Generated, not hand-written, so that it cannot promise what the edge refuses: request
bodies and query strings are the JSON schemas of the very pydantic models that validate
them (``daemon/schemas.py``), and the answers are described once, below. The document
is what schemathesis fuzzes (``tests/integration/test_api_fuzz.py``), served at
``GET /api/v1/openapi.json`` and published as ``docs/openapi.json``.

``OPERATIONS`` is the table: one :class:`Operation` per route of ``create_app``, and
one per socket-only route of the vault (``socket_only``). A route served but missing
here (or the reverse) fails ``tests/unit/test_openapi.py``.
The error answers an operation can give follow from what it takes (a body, a query,
a path parameter); ``errors`` adds the ones its handler raises itself.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from stockade import __version__
from stockade.daemon.approvals import ApprovalStatus, Expiry, Severity
from stockade.daemon.schemas import (
    MAX_SEQ,
    AgentBody,
    ApprovalsQuery,
    CapsQuery,
    ConfirmBody,
    DecideBody,
    EmptyBody,
    EventsQuery,
    GrantBody,
    PreviewBody,
    PromptBody,
    PurgeBody,
    ResolveBody,
    RotateBody,
    SessionBody,
    SessionsQuery,
    StreamQuery,
    ToolCallBody,
    ToolResultBody,
)
from stockade.decision import Verdict, Zone
from stockade.vault.format import NAME_PATTERN
from stockade.vault.schemas import ExecBody, SecretBody

Schema = dict[str, Any]
PREFIX = "/api/v1"
_COMPONENTS = "#/components/schemas/"
_PATH_PARAM = re.compile(r"\{(?P<name>\w+)(?::(?P<convertor>\w+))?\}")


def _ref(name: str) -> Schema:
    return {"$ref": _COMPONENTS + name}


def _object(required: Schema, optional: Schema | None = None) -> Schema:
    """A JSON object with these properties; more may appear as the API grows."""
    properties = {**required, **(optional or {})}
    return {"type": "object", "required": list(required), "properties": properties}


def _nullable(schema: Schema) -> Schema:
    return {"anyOf": [schema, {"type": "null"}]}


def _array_of(name: str) -> Schema:
    return {"type": "array", "items": _ref(name)}


def _enum(values: Any) -> Schema:
    return {"type": "string", "enum": [str(value) for value in values]}


STRING: Schema = {"type": "string"}
INTEGER: Schema = {"type": "integer"}
SEQ: Schema = {"type": "integer", "minimum": 0, "maximum": MAX_SEQ}
HEX: Schema = {"type": "string", "pattern": "^[0-9a-f]+$"}
TIME: Schema = {"type": "string", "format": "date-time"}
ANY_OBJECT: Schema = {"type": "object"}
STRINGS: Schema = {"type": "array", "items": STRING}

# The answers, by name (components of the document); an operation names its answer.
ANSWERS: dict[str, Schema] = {
    "Object": ANY_OBJECT,
    "Problem": _object(
        {
            "error": _object(
                {"code": STRING, "message": STRING, "hint": _nullable(STRING)},
                {"details": {"type": "array", "items": ANY_OBJECT}},
            )
        }
    ),
    "Health": _object({"status": STRING, "pid": INTEGER, "uptime_s": {"type": "number"}}),
    "Version": _object({"version": STRING, "api": STRING, "supported_api_versions": STRINGS}),
    "Capabilities": _object(
        dict.fromkeys(
            ("harnesses", "actions", "groups", "zones", "levels", "profiles", "features"), STRINGS
        )
        | {"limits": _object({"max_body_bytes": INTEGER})}
    ),
    "Check": _object(
        {
            "verdict": _enum(Verdict),
            "reason": STRING,
            "rule_id": STRING,
            "zone": _enum(zone.label for zone in Zone),
            "action": STRING,
        }
    ),
    "Decision": {
        "allOf": [
            _ref("Check"),
            _object(
                {"event_seq": SEQ},
                {"approval": _object({"id": HEX, "status": _enum(ApprovalStatus)})},
            ),
        ]
    },
    "ToolResult": _object(
        {"output": _nullable(STRING), "redacted": {"type": "boolean"}, "event_seq": SEQ}
    ),
    "Recorded": _object({"event_seq": SEQ}),
    "Approval": _object(
        {
            "id": HEX,
            "harness": STRING,
            "session_id": STRING,
            "tool_name": STRING,
            "action": STRING,
            "input": ANY_OBJECT,
            "input_sha256": HEX,
            "reason": STRING,
            "rule_id": STRING,
            "zone": STRING,
            "severity": _enum(Severity),
            "cwd": STRING,
            "project_root": _nullable(STRING),
            "status": _enum(ApprovalStatus),
            "created_at": TIME,
            "expires_at": TIME,
            "resolved_at": _nullable(TIME),
            "resolved_by": _nullable(_enum(["cli", "ui", "api", *Expiry])),
            "learned_rule": _nullable(STRING),
        }
    ),
    "LearnedRule": _object(
        {
            "id": STRING,
            "project_root": STRING,
            "harness": STRING,
            "tool_name": STRING,
            "rules": {"type": "array", "items": ANY_OBJECT, "minItems": 1},
            "by": STRING,
            "created_at": TIME,
        },
        {"approval_id": STRING, "note": STRING},
    ),
    "RulePreview": _object(
        {
            "approval_id": HEX,
            "project_root": STRING,
            "harness": STRING,
            "tool_name": STRING,
            "rules": {"type": "array", "items": ANY_OBJECT, "minItems": 1},
        }
    ),
    "Rules": _object({"rules": _array_of("LearnedRule")}),
    "Revoked": _object({"revoked": _ref("LearnedRule"), "event_seq": SEQ}),
    "Sessions": _object({"sessions": {"type": "array", "items": ANY_OBJECT}}),
    "EventStream": _object(
        {
            "id": STRING,
            "event": STRING,
            "data": {"type": "string", "contentMediaType": "application/json"},
        }
    ),
    "Keys": ANY_OBJECT,
    "Rotation": ANY_OBJECT,
    "Approvals": _object({"approvals": _array_of("Approval")}),
    "Screening": _object(
        {
            "verdict": _enum(Verdict),
            "reason": STRING,
            "pattern": _nullable(STRING),
            "prompt_sha256": HEX,
            "event_seq": SEQ,
        }
    ),
    "Reloaded": _object({"reloaded": {"const": True}, "config_hash": STRING}),
    "Stopping": _object({"stopping": {"const": True}}),
    "Event": _object(
        {
            "seq": SEQ,
            "ts": TIME,
            "kind": STRING,
            "actor": STRING,
            "session": _nullable(STRING),
            "payload": ANY_OBJECT,
            "prev_hash": HEX,
            "hash": HEX,
        }
    ),
    "EventPage": _object({"events": _array_of("Event"), "next_after": SEQ}),
    "ChainHead": _object({"seq": SEQ, "hash": HEX}),
    "VerifyReport": _object(
        {
            "ok": {"type": "boolean"},
            "checked": INTEGER,
            "first_bad_seq": _nullable(SEQ),
            "problem": _nullable(STRING),
            "head": _ref("ChainHead"),
        },
        {
            "check": _nullable(STRING),
            "checkpoints": _nullable(ANY_OBJECT),
            "anchor": _nullable(ANY_OBJECT),
        },
    ),
    "Purged": _object({"purged": INTEGER, "base_seq": SEQ}),
    "SecretInfo": _object({"name": STRING, "created": TIME, "updated": TIME}),
    "Secrets": _object(
        {"secrets": _array_of("SecretInfo"), "key_source": _enum(["keychain", "env", "file"])}
    ),
    "SecretAdded": {
        "allOf": [_ref("SecretInfo"), _object({"replaced": {"type": "boolean"}, "event_seq": SEQ})]
    },
    "SecretRemoved": _object({"removed": STRING, "event_seq": SEQ}),
    "KeyRotated": _object(
        {
            "rotated": {"const": True},
            "old_key_id": _nullable(HEX),
            "new_key_id": HEX,
            "secrets": INTEGER,
            "event_seq": SEQ,
        }
    ),
    "ExecResult": _object(
        {
            "exit_code": INTEGER,
            "stdout": STRING,
            "stderr": STRING,
            "truncated": {"type": "boolean"},
            "timed_out": {"type": "boolean"},
        }
    ),
    "Agent": _object(
        {"name": STRING, "added_at": TIME, "by": STRING, "note": _nullable(STRING)},
        {"live_grants": INTEGER},
    ),
    "Agents": _object({"agents": _array_of("Agent")}),
    "AgentAdded": _object({"agent": _ref("Agent"), "event_seq": SEQ}),
    "AgentRemoved": _object({"removed": STRING, "revoked": STRINGS, "event_seq": SEQ}),
    "Token": _object(
        {
            "id": STRING,
            "status": _enum(["live", "expired", "revoked", "invalid"]),
            "problem": _nullable(STRING),
            "file": STRING,
        },
        {
            "agent": STRING,
            "capability": STRING,
            "constraints": ANY_OBJECT,
            "issued_at": TIME,
            "expires_at": _nullable(TIME),
            "key_fingerprint": STRING,
            "sha256": HEX,
            "token": ANY_OBJECT,
        },
    ),
    "Tokens": _object({"tokens": _array_of("Token")}),
    "Granted": _object({"token": _ref("Token"), "event_seq": SEQ}),
    "TokenRevoked": _object({"revoked": STRING, "agent": _nullable(STRING), "event_seq": SEQ}),
}


@dataclass(frozen=True, slots=True)
class Operation:
    """One route of API v1: what it takes and what it answers.

    ``path`` is written as in ``create_app`` (``/audit/events/{seq:int}``), under ``/api/v1``;
    ``answer`` names the success answer's schema in ``ANSWERS``.
    """

    method: Literal["GET", "POST"]
    path: str
    summary: str
    answer: str
    status: int = 200
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    errors: tuple[int, ...] = ()
    media_type: str = "application/json"  # of the success answer (``text/event-stream``: SSE)
    socket_only: bool = False  # refused on the TCP gateway (404), whatever the token

    @property
    def summary_text(self) -> str:
        return f"{self.summary} (Unix socket only)" if self.socket_only else self.summary

    @property
    def route(self) -> str:
        return PREFIX + self.path

    @property
    def body_optional(self) -> bool:
        """A body whose fields all have defaults may be left out: the handler reads ``{}``."""
        fields = () if self.body is None else self.body.model_fields.values()
        return not any(field.is_required() for field in fields)


OPERATIONS: tuple[Operation, ...] = (
    Operation("GET", "/health", "Liveness", "Health"),
    Operation("GET", "/version", "Daemon and API versions", "Version"),
    Operation("GET", "/capabilities", "What this daemon knows and accepts", "Capabilities"),
    Operation("GET", "/openapi.json", "This document", "Object"),
    Operation("POST", "/decide", "Decide a tool call (audited)", "Decision", body=DecideBody),
    Operation("POST", "/check", "Decide as a dry run (not audited)", "Check", body=ToolCallBody),
    Operation("POST", "/tool-results", "What became of a call", "ToolResult", body=ToolResultBody),
    Operation("POST", "/sessions", "A session started or ended", "Recorded", body=SessionBody),
    Operation("GET", "/approvals", "Approvals, oldest first", "Approvals", query=ApprovalsQuery),
    Operation("GET", "/approvals/{approval_id}", "One approval", "Approval"),
    Operation(
        "POST",
        "/approvals/{approval_id}/approve",
        "Approve a held call",
        "Approval",
        body=ResolveBody,
        errors=(409,),
    ),
    Operation(
        "POST",
        "/approvals/{approval_id}/deny",
        "Deny a held call",
        "Approval",
        body=ResolveBody,
        errors=(409,),
    ),
    Operation(
        "POST",
        "/approvals/{approval_id}/always",
        "Approve a held call and learn a narrow allow rule",
        "Approval",
        body=ResolveBody,
        errors=(409,),
    ),
    Operation(
        "POST",
        "/approvals/{approval_id}/always/preview",
        "The rules an always answer would record (records nothing)",
        "RulePreview",
        body=PreviewBody,
        errors=(409,),
    ),
    Operation("GET", "/rules", "Rules learned from always answers", "Rules"),
    Operation(
        "POST", "/rules/{rule_id}/revoke", "Revoke a learned rule", "Revoked", body=EmptyBody
    ),
    Operation(
        "GET", "/sessions", "Sessions seen in the audit log", "Sessions", query=SessionsQuery
    ),
    Operation(
        "GET",
        "/events",
        "Live audit events (Server-Sent Events, resumable)",
        "EventStream",
        query=StreamQuery,
        errors=(503,),
        media_type="text/event-stream",
    ),
    Operation("GET", "/identity", "The daemon's public keys", "Keys"),
    Operation(
        "POST",
        "/identity/rotate",
        "Rotate the identity key",
        "Rotation",
        body=RotateBody,
        errors=(400,),
        socket_only=True,
    ),
    Operation("GET", "/agents", "Registered (capability-restricted) agents", "Agents"),
    Operation(
        "POST",
        "/agents",
        "Register an agent (audited)",
        "AgentAdded",
        status=201,
        body=AgentBody,
        errors=(409,),
    ),
    Operation(
        "POST",
        "/agents/{agent}/remove",
        "Remove an agent and revoke its grants (audited)",
        "AgentRemoved",
        body=ConfirmBody,
        errors=(400,),
    ),
    Operation("GET", "/caps", "Capability tokens and their status", "Tokens", query=CapsQuery),
    Operation(
        "POST",
        "/caps",
        "Grant a capability (a signed token, audited)",
        "Granted",
        status=201,
        body=GrantBody,
        errors=(404, 409),
    ),
    Operation("GET", "/caps/{token_id}", "One capability token", "Token"),
    Operation(
        "POST",
        "/caps/{token_id}/revoke",
        "Revoke a capability token at once (audited)",
        "TokenRevoked",
        body=EmptyBody,
        errors=(409,),
    ),
    Operation("POST", "/prompts/screen", "Screen a prompt", "Screening", body=PromptBody),
    Operation("GET", "/policy", "The effective, merged policy", "Object"),
    Operation(
        "POST", "/reload", "Reload the configuration", "Reloaded", body=EmptyBody, errors=(422,)
    ),
    Operation("POST", "/shutdown", "Stop the daemon", "Stopping", status=202, body=EmptyBody),
    Operation("GET", "/audit/events", "A page of audit events", "EventPage", query=EventsQuery),
    Operation("GET", "/audit/events/{seq:int}", "One audit event", "Event"),
    Operation("GET", "/audit/head", "The newest event of the chain", "ChainHead"),
    Operation("POST", "/audit/verify", "Verify the hash chain", "VerifyReport", body=EmptyBody),
    Operation("POST", "/audit/purge", "Delete events before a time", "Purged", body=PurgeBody),
    Operation(
        "GET", "/secrets", "Secret names and times", "Secrets", errors=(409,), socket_only=True
    ),
    Operation(
        "POST",
        "/secrets",
        "Keep a secret",
        "SecretAdded",
        status=201,
        body=SecretBody,
        errors=(409,),
        socket_only=True,
    ),
    Operation(
        "POST",
        "/secrets/{name}/remove",
        "Remove a secret",
        "SecretRemoved",
        body=ConfirmBody,
        errors=(409,),
        socket_only=True,
    ),
    Operation(
        "POST",
        "/secrets/rotate-key",
        "Seal every secret under a new master key",
        "KeyRotated",
        body=ConfirmBody,
        errors=(409,),
        socket_only=True,
    ),
    Operation(
        "POST",
        "/secrets/exec",
        "Run a program with secret:// handles resolved in its environment",
        "ExecResult",
        body=ExecBody,
        errors=(404, 409),
        socket_only=True,
    ),
)

_CALL = {
    "harness": "claude-code",
    "session_id": "9b2f61c0-session",
    "tool_name": "Bash",
    "tool_input": {"command": "curl https://example.com"},
    "cwd": "/home/me/project",
    "project_root": "/home/me/project",
}
# One request body per model, shown in the document (and tried first by the fuzzer);
# each is checked against its model by the unit tests.
EXAMPLES: dict[type[BaseModel], Schema] = {
    ToolCallBody: _CALL,
    DecideBody: _CALL | {"hold_s": 30},
    ToolResultBody: _CALL | {"status": "succeeded", "output": "<html>…", "tool_use_id": "toolu_1"},
    SessionBody: {"harness": "codex", "session_id": "s-1", "event": "start", "cwd": "/home/me"},
    PromptBody: {"harness": "gemini", "session_id": "s-2", "prompt": "Fix the tests", "cwd": "/"},
    ResolveBody: {"note": "fine this once"},
    PreviewBody: {"scope": {"command": "curl -s"}},
    EmptyBody: {},
    PurgeBody: {"before": "2025-01-01T00:00:00Z", "confirm": True},
    ConfirmBody: {"confirm": True},
    SecretBody: {"name": "GITHUB_TOKEN", "value": "ghp_…"},
    ExecBody: {"argv": ["gh", "repo", "list"], "env": {"GH_TOKEN": "secret://GITHUB_TOKEN"}},
    RotateBody: {"confirm": True, "reissue": True},
    AgentBody: {"name": "ci-bot", "note": "the nightly CI job"},
    GrantBody: {"agent": "ci-bot", "capability": "shell.exec", "commands": ["git", "make test"]},
}

# Path parameters by name: what the route accepts is wider (any text, any digits).
PATH_PARAMETERS: dict[str, Schema] = {
    "approval_id": {"type": "string", "pattern": "^[0-9a-f]{8}$"},
    "rule_id": {"type": "string", "pattern": "^always-[0-9a-f]{8}$"},
    "agent": {"type": "string", "pattern": "^[a-z0-9][a-z0-9._-]{0,63}$"},
    "token_id": {"type": "string", "pattern": "^cap_[0-9a-f]{16}$"},
    "seq": SEQ,
    "name": {"type": "string", "pattern": NAME_PATTERN},
}

_ERRORS = {
    400: "Malformed: invalid_json, unsupported_api_version or confirmation_required",
    404: "No such approval, event, agent, token, secret or secret:// handle",
    408: "The body did not arrive in time",
    409: (
        "The approval is no longer pending; the agent or secret exists; the token is already "
        "revoked; the vault cannot be opened"
    ),
    413: "The body is over the size limit",
    415: "A body that is not application/json",
    422: "The body or query does not match the schema (details lists the fields)",
    500: "A bug; nothing was allowed",
    503: "Too many event streams open",
}
_BODY_ERRORS = (400, 408, 413, 415, 422)


def route_key(method: str, path: str) -> tuple[str, str]:
    """``("GET", "/api/v1/audit/events/{seq}")``: a route as the document names it."""
    return method, _PATH_PARAM.sub(r"{\g<name>}", path)


@functools.cache
def openapi_document() -> Schema:
    """The document; built once per process (it depends on code only)."""
    models = sorted(
        {op.body for op in OPERATIONS if op.body is not None},
        key=lambda model: model.__name__,
    )
    _, defs = models_json_schema(
        [(model, "validation") for model in models], ref_template=_COMPONENTS + "{model}"
    )
    paths: dict[str, dict[str, Schema]] = {}
    for op in OPERATIONS:
        _, path = route_key(op.method, op.route)
        paths.setdefault(path, {})[op.method.lower()] = _operation(op)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Stockade API",
            "version": __version__,
            "description": (
                "API v1 of the Stockade daemon, on the Unix socket $STOCKADE_HOME/stockade.sock. "
                "See docs/api.md."
            ),
        },
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": {**defs["$defs"], **ANSWERS},
            "parameters": {
                "ApiVersion": {
                    "name": "Stockade-API-Version",
                    "in": "header",
                    "required": False,
                    "description": "Any value but 1 is refused (400 unsupported_api_version).",
                    "schema": {"type": "string", "enum": ["1"]},
                }
            },
        },
    }


def _operation(op: Operation) -> Schema:
    parameters: list[Schema] = [{"$ref": "#/components/parameters/ApiVersion"}]
    statuses = {400, 500, *op.errors}
    for match in _PATH_PARAM.finditer(op.path):
        name = match["name"]
        parameters.append(
            {"name": name, "in": "path", "required": True, "schema": PATH_PARAMETERS[name]}
        )
        statuses.add(404)
    if op.query is not None:
        parameters.extend(_query_parameters(op.query))
        statuses.add(422)
    operation: Schema = {
        "operationId": _operation_id(op),
        "summary": op.summary_text,
        "parameters": parameters,
    }
    if op.body is not None:
        media = {"schema": _ref(op.body.__name__), "example": EXAMPLES[op.body]}
        operation["requestBody"] = {
            "required": not op.body_optional,
            "content": {"application/json": media},
        }
        statuses.update(_BODY_ERRORS)
    responses: Schema = {str(op.status): _answer("OK", _ref(op.answer), op.media_type)}
    for status in sorted(statuses):
        responses[str(status)] = _answer(_ERRORS[status], _ref("Problem"))
    operation["responses"] = responses
    return operation


def _operation_id(op: Operation) -> str:
    words = re.findall(r"[a-z0-9]+", _PATH_PARAM.sub(r"by_\g<name>", op.path).lower())
    return "_".join([op.method.lower(), *words])


def _answer(description: str, schema: Schema, media_type: str = "application/json") -> Schema:
    return {"description": description, "content": {media_type: {"schema": schema}}}


def _query_parameters(model: type[BaseModel]) -> list[Schema]:
    """One query parameter per field; ``null`` cannot be written in a query, so it is dropped."""
    schema = model.model_json_schema()
    required = set(schema.get("required", ()))
    parameters = []
    for name, prop in schema["properties"].items():
        options = [option for option in prop.pop("anyOf", ()) if option != {"type": "null"}]
        if options:
            prop |= options[0] if len(options) == 1 else {"anyOf": options}
        if prop.get("default", 0) is None:
            del prop["default"]
        parameters.append(
            {"name": name, "in": "query", "required": name in required, "schema": prop}
        )
    return parameters


if __name__ == "__main__":  # regenerates docs/openapi.json
    print(json.dumps(openapi_document(), indent=2))
