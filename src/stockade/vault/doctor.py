"""``stockade doctor``'s ``vault.key`` check: the key's source, said plainly, and a trial open.

The key file is a legitimate source, but it sits beside the vault: whoever can read
your home reads both, so the protection is only the files' permissions. That is a
``warn`` once secrets are kept, never hidden behind an ``ok``. The check only reads:
it neither creates a key nor finishes an interrupted rotation (the daemon does that).
"""

from __future__ import annotations

from collections.abc import Mapping

from stockade.diagnostics import Check
from stockade.errors import StockadeError
from stockade.home import Home
from stockade.vault.master_key import ENV_VAR
from stockade.vault.store import VaultFiles, unlock

CHECK_ID = "vault.key"
_KEYCHAIN_HINT = (
    f"use the OS keychain where there is one, or set {ENV_VAR} from a secrets manager "
    "(before the first secret is added)"
)


def diagnose(home: Home, env: Mapping[str, str]) -> Check:
    try:
        vault = unlock(VaultFiles(home), env, recover=False)
    except StockadeError as exc:
        return Check(CHECK_ID, "fail", exc.message, exc.hint)
    count = len(vault.values)
    where = vault.source.describe()
    if not count:
        return Check(CHECK_ID, "ok", f"no secrets kept; the master key would come from {where}")
    kept = f"{count} secret(s) open with the master key from {where}"
    if vault.source.name == "file":
        return Check(
            CHECK_ID,
            "warn",
            f"{kept}: it sits beside the vault, so the protection is reduced to file "
            "permissions (anyone who can read your home can read the secrets)",
            _KEYCHAIN_HINT,
        )
    return Check(CHECK_ID, "ok", kept)
