"""The newest checkpoint as an anchor: the signed head to keep outside the machine.

Whoever can read the identity key can re-sign a rewritten log; an anchor kept
elsewhere (a file on another machine, a ticket, a transparency log) cannot be
re-signed, so ``audit verify --anchor`` proves that nothing before it changed.
"""

from __future__ import annotations

from typing import Any

from stockade.audit.checkpoints import read_all
from stockade.audit.verify import open_readonly
from stockade.errors import AuditIntegrityError, StockadeError
from stockade.home import Home
from stockade.identity.store import IdentityFiles


def newest_anchor(home: Home) -> dict[str, Any]:
    """The newest checkpoint of ``home``'s log with its public key, checked before it is given."""
    keys = IdentityFiles(home).keyring()
    conn = open_readonly(home.audit_path)
    try:
        found = read_all(conn)
    finally:
        conn.close()
    if not found:
        raise StockadeError(
            "the audit log has no signed checkpoint yet",
            "the daemon signs one when it starts: run `stockade serve`",
        )
    newest = found[-1]
    public = keys.find(newest.fingerprint)
    if public is None or not newest.verifies_with(public):
        raise AuditIntegrityError(
            f"the newest checkpoint (seq {newest.seq}) does not verify with this home's identity",
            "run `stockade audit verify` to see what changed",
        )
    return newest.anchor(public)
