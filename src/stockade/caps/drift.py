"""``caps.tokens``: the drift check of ``stockade verify`` for capability tokens and agents.

The audit log is the record: a token file counts only as the exact token a
``cap.granted`` (or ``cap.reissued``) event names by its sha256, with no
``cap.revoked`` after it, signed by a key of this daemon (current or retired). So
this check reports, each with a repair:

- a token file that is malformed, whose signature does not verify, that no event
  granted (written by hand, or granted and then edited), or that was revoked and is
  back (restored from a backup);
- a grant event whose token file is missing though it was never revoked;
- an agent in ``agents.json`` that no ``agent.added`` event registered, or one
  registered and not removed that is missing from it (its calls would no longer be
  restricted).

It reads the home only (never the daemon): the log read-only, the public keys, the files.
"""

from __future__ import annotations

from stockade.caps.agents import load_agents
from stockade.caps.files import read_token, token_files
from stockade.caps.ledger import (
    AGENT_ADDED,
    AGENT_REMOVED,
    GRANTED,
    REISSUED,
    REVOKED,
    LedgerEvent,
    read_ledger,
)
from stockade.caps.token import TokenError
from stockade.errors import StockadeError
from stockade.home import Home
from stockade.identity import IdentityFiles
from stockade.verify.report import CheckResult, Drift

NAME = "caps.tokens"
TITLE = "every capability token and agent matches the audit log"
_REGRANT = "delete the file (it grants nothing) and grant again with `stockade caps grant`"


def check_capabilities(home: Home) -> CheckResult:
    """Compare the token files and ``agents.json`` with the audit log (module docstring)."""
    try:
        ledger = read_ledger(home.audit_path)
        ring = IdentityFiles(home).keyring()
    except (StockadeError, OSError, ValueError) as exc:
        problem = exc.message if isinstance(exc, StockadeError) else str(exc)
        drift = Drift("audit log and keys", f"cannot be read: {problem}", "run `stockade doctor`")
        return CheckResult(NAME, TITLE, "nothing checked", (drift,))
    granted: dict[str, dict[str, int]] = {}  # token id -> {sha256: seq}
    revoked: dict[str, int] = {}
    for event in ledger:
        if event.kind in (GRANTED, REISSUED):
            granted.setdefault(event.token_id, {})[str(event.payload.get("sha256"))] = event.seq
        elif event.kind == REVOKED:
            revoked.setdefault(event.token_id, event.seq)
    drifts: list[Drift] = []
    files = token_files(home)
    present: set[str] = set()
    for path in files:
        token_id = path.name.removesuffix(".json")
        present.add(token_id)
        subject = f"token {token_id}"
        try:
            token = read_token(path)
        except (TokenError, OSError) as exc:
            drifts.append(Drift(subject, f"{path} is unusable: {exc}", _REGRANT))
            continue
        flaw = token.signature_problem(ring, allow_retired=True)
        if flaw is not None:
            drifts.append(Drift(subject, f"{path}: {flaw}", _REGRANT))
        elif token_id in revoked:
            drifts.append(
                Drift(
                    subject,
                    f"was revoked (event #{revoked[token_id]}) but {path} is back",
                    f"delete {path}; it grants nothing",
                )
            )
        elif token.sha256 not in granted.get(token_id, {}):
            problem = (
                "differs from the token the audit log granted (edited after the grant)"
                if token_id in granted
                else "has no cap.granted event: it was not granted through the daemon"
            )
            drifts.append(Drift(subject, problem, _REGRANT))
    for token_id, events in sorted(granted.items()):
        if token_id not in present and token_id not in revoked:
            drifts.append(
                Drift(
                    f"token {token_id}",
                    f"granted (event #{max(events.values())}) but its file is missing",
                    f"revoke it (`stockade caps revoke {token_id}`) or grant again",
                )
            )
    agents = _agent_drifts(home, ledger, drifts)
    detail = f"{len(files)} token file(s), {len(granted)} grant(s), {agents} agent(s)"
    return CheckResult(NAME, TITLE, detail, tuple(drifts))


def _agent_drifts(home: Home, ledger: list[LedgerEvent], drifts: list[Drift]) -> int:
    """Add the agents whose registration differs from the log; returns how many are on file."""
    logged: dict[str, int] = {}
    for event in ledger:
        name = str(event.payload.get("agent"))
        if event.kind == AGENT_ADDED:
            logged[name] = event.seq
        elif event.kind == AGENT_REMOVED:
            logged.pop(name, None)
    try:
        on_file = load_agents(home)
    except StockadeError as exc:
        drifts.append(Drift("agents.json", exc.message, exc.hint or "restore it from a backup"))
        return 0
    for name in sorted(set(on_file) - set(logged)):
        drifts.append(
            Drift(
                f"agent {name}",
                "is in agents.json but no agent.added event registered it",
                f"remove it from agents.json, then `stockade agents add {name}` if it is wanted",
            )
        )
    for name in sorted(set(logged) - set(on_file)):
        drifts.append(
            Drift(
                f"agent {name}",
                f"was registered (event #{logged[name]}) but is missing from agents.json, "
                "so its calls are no longer restricted",
                f"restore agents.json from a backup, or `stockade agents add {name}` again",
            )
        )
    return len(on_file)
