"""``stockade install`` / ``uninstall``: merge Stockade's hook entries into a harness's settings.

See :mod:`stockade.install.settings` for the rules (never clobber, back up, idempotent).
"""

from stockade.install.settings import (
    HARNESS_HOOKS,
    HookSpec,
    InstallResult,
    install,
    settings_path,
    uninstall,
)

__all__ = [
    "HARNESS_HOOKS",
    "HookSpec",
    "InstallResult",
    "install",
    "settings_path",
    "uninstall",
]
