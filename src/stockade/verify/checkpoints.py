"""``audit.checkpoints`` and ``audit.anchor``: the signed heads still match the log.

A hash chain cannot show a cut tail or a chain rebuilt with fresh hashes; the
checkpoints the daemon signs can (:mod:`stockade.audit.signed`), checked against the
identity's current key and every retired one, so history signed before a rotation
still verifies. A kept anchor (``--anchor FILE``) goes one further: not even whoever
holds the key can rewrite what it covers.

Neither check scans the events: a few indexed reads and one signature per checkpoint
on one read-only snapshot, beside a running daemon or without one.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from stockade.audit.checkpoints import Checkpoint
from stockade.audit.signed import Chain, Finding, check_anchor, check_checkpoints
from stockade.audit.verify import open_snapshot, read_bounds
from stockade.home import Home
from stockade.identity import IdentityFiles, PublicKey
from stockade.verify.chain import tampered
from stockade.verify.report import Check, CheckResult, Drift

NAME = "audit.checkpoints"
TITLE = "the signed checkpoints match the log"
ANCHOR_NAME = "audit.anchor"
ANCHOR_TITLE = "nothing before the kept anchor changed"
SHOWN = 10  # a chain rebuilt from early on fails every later checkpoint: show the first few


def check_audit_checkpoints(home: Home) -> CheckResult:
    if not home.audit_path.exists():
        return CheckResult(NAME, TITLE, "no audit log: nothing is signed yet")
    keys = IdentityFiles(home).keyring()
    conn = open_snapshot(home.audit_path)
    try:
        coverage, found = check_checkpoints(conn, _chain(conn, home), keys)
    finally:
        conn.close()
    retired = f", {len(keys.retired)} retired key(s)" if keys.retired else ""
    if coverage.newest_seq is None:
        detail = "no checkpoint yet"
    else:
        detail = (
            f"{coverage.checked:,} checkpoints{retired}; the newest covers "
            f"#{coverage.newest_seq}, {coverage.unsigned_tail:,} events after it not yet signed"
        )
    return CheckResult(NAME, TITLE, detail, _drifts(home, found))


def anchor_check(anchor: tuple[Checkpoint, PublicKey]) -> Check:
    """The check of one kept anchor (``stockade verify --anchor FILE``)."""
    checkpoint = anchor[0]
    detail = f"anchor #{checkpoint.seq} signed {checkpoint.ts} by {checkpoint.fingerprint}"

    def check_audit_anchor(home: Home) -> CheckResult:
        keys = IdentityFiles(home).keyring()
        conn = open_snapshot(home.audit_path)
        try:
            found = check_anchor(conn, _chain(conn, home), keys, anchor)
        finally:
            conn.close()
        return CheckResult(ANCHOR_NAME, ANCHOR_TITLE, detail, _drifts(home, found))

    return check_audit_anchor


def _chain(conn: sqlite3.Connection, home: Home) -> Chain:
    base_seq, base_hash, head = read_bounds(conn, home.audit_path)
    return Chain(base_seq, base_hash.decode(errors="backslashreplace"), head)


def _drifts(home: Home, found: Sequence[Finding]) -> tuple[Drift, ...]:
    ordered = sorted(found, key=lambda finding: finding.seq)
    drifts = [
        Drift(f"seq {finding.seq} ({finding.check})", finding.problem, tampered(home, finding.seq))
        for finding in ordered[:SHOWN]
    ]
    if len(ordered) > SHOWN:
        more = len(ordered) - SHOWN
        drifts.append(
            Drift(
                f"{more} more",
                f"{more} more findings after seq {ordered[SHOWN - 1].seq}",
                "run `stockade audit verify --json` for the first of them",
            )
        )
    return tuple(drifts)
