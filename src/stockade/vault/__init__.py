"""The secret vault: values sealed at rest, named by ``secret://NAME``, opened by the daemon.

Read in this order (ADR 0008):

- :mod:`~stockade.vault.format` — one sealed record (AES-256-GCM, the name bound as
  associated data) and the names and values it accepts;
- :mod:`~stockade.vault.master_key` — where the key comes from: keychain, then
  ``STOCKADE_MASTER_KEY``, then a key file;
- :mod:`~stockade.vault.store` — ``secrets.json``, unlocking, and the crash-safe rotation;
- :mod:`~stockade.vault.service` — the daemon's copy in memory, its subscribers (the
  redactor) and :meth:`~stockade.vault.service.VaultService.resolve_env` for handles
  (:mod:`~stockade.vault.handles`);
- :mod:`~stockade.vault.routes` and :mod:`~stockade.vault.runner` — the socket-only API
  and ``POST /secrets/exec``; :mod:`~stockade.vault.offline` — the CLI with no daemon;
  :mod:`~stockade.vault.doctor` — the ``vault.key`` check.

Only what has no daemon dependencies is re-exported here, so that the API's schema
module can import the format without importing the daemon.
"""

from stockade.vault.format import InvalidSecret, VaultError, VaultFormatError
from stockade.vault.handles import handle, handle_name
from stockade.vault.store import Vault, VaultFiles, unlock

__all__ = [
    "InvalidSecret",
    "Vault",
    "VaultError",
    "VaultFiles",
    "VaultFormatError",
    "handle",
    "handle_name",
    "unlock",
]
