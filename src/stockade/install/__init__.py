"""``stockade install`` / ``uninstall``: merge Stockade's hook entries into a harness's settings.

See :mod:`stockade.install.settings` for the rules (never clobber, back up, idempotent).
For Codex, which silently skips a hook the user has not trusted, the same command also
records (or removes) Codex's trust in exactly our entries, in its ``config.toml``
(:mod:`stockade.install.harness_trust`). Both files are checked before either is written.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from stockade.install.harness_trust import plan_codex_trust
from stockade.install.settings import (
    HARNESS_HOOKS,
    HookSpec,
    InstallResult,
    SettingsChange,
    TrustResult,
    commit,
    plan_install,
    plan_uninstall,
    settings_path,
)

__all__ = [
    "HARNESS_HOOKS",
    "HookSpec",
    "InstallResult",
    "TrustResult",
    "install",
    "settings_path",
    "uninstall",
]


def install(
    harness: str,
    project: Path | None = None,
    *,
    executable: str | None = None,
    env: Mapping[str, str] | None = None,
    user_home: Path | None = None,
    now: datetime | None = None,
    agent: str | None = None,
) -> InstallResult:
    """Merge the hook entries for ``harness`` into its user (or ``project``) settings.

    With ``agent`` (a registered agent; the caller checks) the hook sends that name.
    """
    env = os.environ if env is None else env
    user_home = Path.home() if user_home is None else user_home
    change = plan_install(
        harness, project, executable=executable, env=env, user_home=user_home, agent=agent
    )
    return _apply(change, project, env, user_home, now)


def uninstall(
    harness: str,
    project: Path | None = None,
    *,
    env: Mapping[str, str] | None = None,
    user_home: Path | None = None,
    now: datetime | None = None,
) -> InstallResult:
    """Remove exactly Stockade's hook entries for ``harness`` (and Codex's trust in them)."""
    env = os.environ if env is None else env
    user_home = Path.home() if user_home is None else user_home
    change = plan_uninstall(harness, project, env=env, user_home=user_home)
    return _apply(change, project, env, user_home, now)


def _apply(
    change: SettingsChange,
    project: Path | None,
    env: Mapping[str, str],
    user_home: Path,
    now: datetime | None,
) -> InstallResult:
    if change.harness != "codex":
        return commit(change, now)
    trust = plan_codex_trust(change, env=env, user_home=user_home, project=project)
    result = commit(change, now)
    return replace(result, trust=trust.apply(now), notes=result.notes + trust.notes)
