"""``rules.recorded``: every learned allow rule in ``rules.json`` was recorded by the log.

The daemon is the only writer of ``rules.json`` (:mod:`stockade.config.learned`), and
records each rule it adds in full (``permission.resolved``, ``learned_rule``) and each
it takes back (``rule.revoked``). So the file needs no recorded hash: replaying the log
says exactly which rules may be in it. A rule the log never recorded, one recorded
differently, or one revoked and back is an allow rule nobody answered "always" for.
A rule missing from the file only tightens policy, so it is not drift.

After a purge the log no longer holds the oldest records: rules created before its
first event cannot be checked, and the detail says how many.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime
from typing import Any

from stockade.audit.verify import open_snapshot
from stockade.config.learned import LearnedRule, load_learned
from stockade.home import Home
from stockade.verify.report import CheckResult, Drift

NAME = "rules.recorded"
TITLE = "every learned rule in rules.json was recorded by an answer"
LEARNED_KIND = "permission.resolved"
REVOKED_KIND = "rule.revoked"
REDACTED = "[REDACTED:"


def check_rules_recorded(home: Home) -> CheckResult:
    rules = load_learned(home.rules_path)
    if not rules:
        return CheckResult(NAME, TITLE, "no learned rules")
    if not home.audit_path.exists():
        return CheckResult(NAME, TITLE, "no audit log", tuple(_unrecorded(r) for r in rules))
    conn = open_snapshot(home.audit_path)
    try:
        learned = _payloads(conn, LEARNED_KIND, "learned_rule")
        revoked = _payloads(conn, REVOKED_KIND, "rule")
        first = conn.execute("SELECT seq, ts FROM events ORDER BY seq LIMIT 1").fetchone()
    finally:
        conn.close()
    purged = first is not None and first[0] > 1
    since = _time(first[1].decode(errors="replace")) if purged else None
    drifts: list[Drift] = []
    older = 0
    for rule in rules:
        created = _time(rule.created_at)
        if rule.id not in learned and since and created and created < since:
            older += 1  # recorded before the log's first event: purged since
            continue
        drift = _drift(rule, learned.get(rule.id), rule.id in revoked)
        if drift is not None:
            drifts.append(drift)
    detail = f"{len(rules)} rule(s)" + (f", {older} older than the log (purged)" if older else "")
    return CheckResult(NAME, TITLE, detail, tuple(drifts))


def _drift(rule: LearnedRule, recorded: dict[str, Any] | None, revoked: bool) -> Drift | None:
    if recorded is None:
        return _unrecorded(rule)
    if revoked:
        problem = f"rule {rule.id} was revoked, yet it is back in rules.json"
        return Drift(rule.id, problem, f"remove it again: `stockade rules revoke {rule.id}`")
    if recorded != rule.to_json() and REDACTED not in json.dumps(recorded):
        problem = f"rule {rule.id} in rules.json differs from the one the audit log recorded"
        return Drift(rule.id, problem, f"revoke it (`stockade rules revoke {rule.id}`) and re-ask")
    return None


def _unrecorded(rule: LearnedRule) -> Drift:
    problem = f"allow rule {rule.id} in rules.json was never recorded by an 'always' answer"
    return Drift(rule.id, problem, f"if you did not add it, `stockade rules revoke {rule.id}`")


def _payloads(conn: sqlite3.Connection, kind: str, key: str) -> dict[str, dict[str, Any]]:
    """The rules named by ``key`` in the payloads of ``kind`` events, by id (newest wins)."""
    found: dict[str, dict[str, Any]] = {}
    rows = conn.execute("SELECT payload FROM events WHERE kind = ? ORDER BY seq", (kind,))
    for (payload,) in rows:
        try:
            rule = json.loads(payload).get(key)
        except (ValueError, AttributeError):
            continue  # a damaged row: audit.chain reports it
        if isinstance(rule, dict) and isinstance(rule.get("id"), str):
            found[rule["id"]] = rule
    return found


def _time(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None
