"""Walk every harness at user and project scope and collect the install findings.

``stockade doctor`` calls :func:`diagnose`; the single checks live in
:mod:`stockade.install.checks` (settings files and our entries) and
:mod:`stockade.install.harness_trust` (the harnesses' own trust gates).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from pathlib import Path

from stockade.diagnostics import Check
from stockade.install.checks import (
    check_location,
    check_settings,
    our_entries,
    read_settings,
    user_settings_path,
)
from stockade.install.harness_trust import check_codex_trust, check_gemini_folder
from stockade.install.settings import HARNESS_HOOKS, settings_path
from stockade.shim.hook import DEFAULT_TIMEOUT_S


def diagnose(
    project: Path | None,
    *,
    env: Mapping[str, str] | None = None,
    user_home: Path | None = None,
    deadline_s: float = DEFAULT_TIMEOUT_S,
) -> list[Check]:
    """Findings for every harness, for the user and for ``project`` (``None``: user only)."""
    env = os.environ if env is None else env
    user_home = Path.home() if user_home is None else user_home
    return [
        finding
        for harness in HARNESS_HOOKS
        for finding in _harness(harness, project, env, user_home, deadline_s)
    ]


def _harness(
    harness: str, project: Path | None, env: Mapping[str, str], user_home: Path, deadline_s: float
) -> Iterator[Check]:
    user_path = user_settings_path(harness, env, user_home)
    user = read_settings(user_path, harness)
    in_use = user_path.parent.is_dir()
    yield check_settings(harness, "user", user, env=env, deadline_s=deadline_s, in_use=in_use)
    user_placed = list(our_entries(user.document, harness)) if user.document else []
    if harness == "codex" and user_placed:
        yield check_codex_trust("user", user_path, user_placed, env=env, user_home=user_home)
    location = check_location(harness, env, user_home)
    if location is not None:
        yield location
    if project is None:
        return
    project_path = settings_path(harness, project)
    project_placed = []
    if os.path.realpath(project_path) != os.path.realpath(user_path):
        settings = read_settings(project_path, harness)
        if settings.exists:
            yield check_settings(
                harness, "project", settings, env=env, deadline_s=deadline_s, project=project
            )
        project_placed = list(our_entries(settings.document, harness)) if settings.document else []
    if harness == "codex" and project_placed:
        yield check_codex_trust(
            "project", project_path, project_placed, env=env, user_home=user_home, project=project
        )
    if harness == "gemini" and (user_placed or project_placed):
        yield check_gemini_folder(
            project,
            project_hooked=bool(project_placed),
            user_hooked=bool(user_placed),
            env=env,
            user_home=user_home,
            user_settings_path=user_path,
        )
