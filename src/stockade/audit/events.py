"""What the audit log records, and the one canonical text form of a payload.

The payload is hashed as the exact text stored, so it must have exactly one
encoding: sorted keys, no whitespace, UTF-8 (``ensure_ascii=False``), no NaN or
infinity (they are not JSON and would not round-trip). ``tests/golden`` pins it.

Event kinds (``kind`` is a free string so that later features add kinds without a
schema change; these are the ones Stockade writes today). An approval's ``ref`` is
``approval_id``, ``harness``, ``session``, ``tool`` and ``input_sha256``:

=========================  =======================================================
kind                       payload
=========================  =======================================================
``decision``               the request (``input`` redacted) and the ``Decision``
                           answered; a held call adds ``engine_verdict`` (``ask``)
                           and ``approval_id``
``decision.error``         the same, for an error that turned into a deny
``session.tainted``        harness, the credential ``sources`` the session now holds
                           (paths, or ``content:<label>`` for a secret found in a
                           tool's output), and the ``decision_seq`` or
                           ``tool_result_seq`` that caused it (restored on start)
``prompt.screened``        harness, session, verdict, matched pattern, prompt sha256
                           (never the text); ``prompt.error`` when screening failed
``permission.request``     ref, and the call: agent, action, ``input`` (redacted),
                           cwd, project_root, reason, rule_id, zone, severity,
                           expires_at
``permission.resolved``    ref, ``resolution`` (``approved``, ``denied``, ``always``,
                           ``expired``); a human's answer adds ``by`` (``cli``,
                           ``ui`` or ``api``, also the actor), ``note`` and, for
                           ``always``, the ``learned_rule``; an expiry adds ``why``
                           (``timeout``, ``disconnect``, ``shutdown``, ``unrecorded``)
``permission.executed``    ref, ``tool_result_seq`` of the result that ran it
``rule.revoked``           the learned ``rule`` taken back, and ``by``
``tool.result``            harness, session, agent, tool, tool_use_id, action,
                           input_sha256, status (``succeeded``, ``failed``,
                           ``not_run``), output_chars, redacted_labels,
                           redacted_count (never the output)
``session.started``        harness, session, agent, cwd, project_root, model, source,
                           reason (absent ones ``null``)
``session.ended``          as ``session.started``
``daemon.started``         pid, version, config hash, ``identity`` (key fingerprint)
``redaction.disabled``     ``[logging] redact = "off"``: by, setting, what goes
                           ``unredacted`` and what is ``still_redacted`` (each start)
``daemon.stopped``         pid, reason (a checkpoint is signed right after it)
``identity.rotated``       ``statement`` (old and new fingerprint and public key,
                           ts) and ``old_signature`` / ``new_signature`` over it
                           (:mod:`stockade.identity.rotation`)
``config.reloaded``        previous and new config hash
``config.reload_failed``   the error; the running policy was kept
``audit.purged``           ``before``, ``purged`` (count), ``base_seq`` (first kept)
``auth.failed``            gateway: client, forwarded, method, path, reason (never
                           what was presented)
``auth.locked_out``        gateway: client, forwarded, max_failures, window_s,
                           lockout_s (once per lockout)
``gateway.token_rotated``  ``by`` (``cli``, ``api``), sessions_ended (never the token)
``secret.*``               the vault's: added, removed, key_rotated, resolved — names
                           and metadata only (:mod:`stockade.vault.events`)
=========================  =======================================================

``actor`` says who caused the event: ``"daemon"``, the harness of the call or session
(``"claude-code"``, ``"codex"``, ``"gemini"``, ``"generic"``), who answered an
approval (``"cli"``, ``"ui"``, ``"api"``), or ``"gateway"`` for ``auth.*``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

PURGED_KIND = "audit.purged"


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """What a caller appends; the store assigns seq, time and hashes."""

    kind: str
    actor: str
    session: str | None
    payload: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """One row of the log, exactly as hashed (payload already redacted)."""

    seq: int
    ts: str
    kind: str
    actor: str
    session: str | None
    payload: dict[str, Any]
    prev_hash: str
    hash: str

    def to_json(self) -> dict[str, Any]:
        """The API v1 ``Event`` object."""
        return {
            "seq": self.seq,
            "ts": self.ts,
            "kind": self.kind,
            "actor": self.actor,
            "session": self.session,
            "payload": self.payload,
            "prev_hash": self.prev_hash,
            "hash": self.hash,
        }


@dataclass(frozen=True, slots=True)
class ChainHead:
    """The newest event: an external copy of it pins everything before it."""

    seq: int
    hash: str

    def to_json(self) -> dict[str, Any]:
        return {"seq": self.seq, "hash": self.hash}


def canonical_payload(payload: Mapping[str, Any]) -> str:
    """The single text form that is stored and hashed; raises ``ValueError`` on NaN/inf."""
    text = json.dumps(
        dict(payload),
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
    )
    text.encode("utf-8")  # lone surrogates cannot be stored as TEXT: fail now, not in SQLite
    return text


def format_ts(moment: datetime) -> str:
    """RFC 3339 UTC with microseconds and ``Z``: fixed width, so text order is time order.

    A naive datetime is taken to be UTC already.
    """
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def normalize_ts(text: str) -> str:
    """Any RFC 3339 time (``Z`` or offset) in the stored form, for range comparisons.

    A time without an offset is taken to be UTC. Raises ``ValueError`` when unparseable.
    """
    return format_ts(datetime.fromisoformat(text.strip()))
