"""``config.recorded``: the configuration on disk is the one the audit log says is in force.

The daemon records the sha256 of ``stockade.toml``'s bytes (of nothing, without the
file) in ``daemon.started`` and in every ``config.reloaded``. A file whose hash differs
from the last one recorded was edited after the daemon last loaded it: what the log
says the policy is, and what the next start will enforce, have drifted apart.

Trusted project files need no record here: ``trusted.json`` pins each by its hash, so
an edited one is simply no longer trusted (:mod:`stockade.config.trust`).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3

from stockade.audit.verify import open_snapshot
from stockade.home import Home
from stockade.verify.report import CheckResult, Drift

NAME = "config.recorded"
TITLE = "stockade.toml is the one the daemon last loaded and recorded"
RECORDED = ("daemon.started", "config.reloaded")  # their payloads carry "config_hash"
FAILED = "config.reload_failed"


def check_config_recorded(home: Home) -> CheckResult:
    path = home.config_path
    try:
        current = hashlib.sha256(path.read_bytes()).hexdigest()
    except FileNotFoundError:
        current = hashlib.sha256(b"").hexdigest()  # what the daemon records without a file
    if not home.audit_path.exists():
        return CheckResult(NAME, TITLE, "no audit log yet: nothing recorded to compare with")
    conn = open_snapshot(home.audit_path)
    try:
        recorded = _newest(conn, *RECORDED)
        failed = _newest(conn, FAILED)
    finally:
        conn.close()
    if recorded is None:
        return CheckResult(NAME, TITLE, "no start or reload recorded (the log was purged past it)")
    seq, kind, payload = recorded
    detail = f"sha256 {current[:12]}…, recorded by {kind} at seq {seq}"
    if payload.get("config_hash") == current:
        return CheckResult(NAME, TITLE, detail)
    why = ""
    if failed is not None and failed[0] > seq:
        why = f" (the reload at seq {failed[0]} failed: {failed[2].get('error', '?')})"
    drift = Drift(
        str(path),
        f"stockade.toml changed since the daemon last loaded it (at seq {seq}){why}",
        "run `stockade reload` (or start the daemon), which loads it and records its hash; "
        "if you did not make the change, review the file first",
    )
    return CheckResult(NAME, TITLE, detail, (drift,))


def _newest(conn: sqlite3.Connection, *kinds: str) -> tuple[int, str, dict[str, object]] | None:
    """The newest event of one of ``kinds`` (one indexed read per kind)."""
    newest: tuple[int, str, dict[str, object]] | None = None
    for kind in kinds:
        row = conn.execute(
            "SELECT seq, payload FROM events WHERE kind = ? ORDER BY seq DESC LIMIT 1", (kind,)
        ).fetchone()
        if row is not None and (newest is None or row[0] > newest[0]):
            try:
                payload = json.loads(row[1])
            except ValueError:
                payload = None  # a damaged row: audit.chain reports it
            newest = (row[0], kind, payload if isinstance(payload, dict) else {})
    return newest
