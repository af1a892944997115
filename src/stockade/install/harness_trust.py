"""The harnesses' own trust gates, which drop a correct Stockade hook without a word.

**Codex** (0.169.0, seen here) runs a non-managed hook only once the user trusted that
exact handler: ``$CODEX_HOME/config.toml`` (the *user* file, also for project hooks)
holds ``[hooks.state."<real path of hooks.json>:<event_label>:<group>:<handler>"]``
with ``trusted_hash = "sha256:<hex>"``, the SHA-256 of the compact, key-sorted JSON of
the handler's normalized identity (see :func:`codex_hook_hash`; checked byte for byte
against ``codex app-server``'s ``hooks/list``). An untrusted or edited handler is
skipped silently, ``enabled = false`` in that table disables it, ``[features] hooks =
false`` disables all hooks, and a project's ``.codex/`` is read only when
``[projects."<dir or its git root>"] trust_level = "trusted"``.

**Gemini CLI** (0.61.0, from its source) loads a project's ``.gemini/settings.json``
only in a trusted folder, and runs no configured hook at all (user ones included) in a
folder that is not trusted. Trust comes from ``GEMINI_CLI_TRUST_WORKSPACE`` /
``GEMINI_RESTRICTED_MODE``, ``security.folderTrust.enabled: false`` in user settings,
or the longest matching rule of ``trustedFolders.json``.
"""

from __future__ import annotations

import hashlib
import json
import os
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from stockade.install.checks import Finding, Placed, read_settings, snake_case
from stockade.install.settings import Scope

# Codex leaves the matcher out of the identity of events that ignore it.
_CODEX_MATCHERLESS = frozenset({"user_prompt_submit", "stop"})
_CODEX_DEFAULT_TIMEOUT = 600
_CODEX_TRUST_FIX = (
    "start `codex` in a terminal and answer its hooks review with “Trust all and continue” "
    "(or trust them under /hooks); `codex exec` never asks and skips them"
)


def codex_home(env: Mapping[str, str], user_home: Path) -> Path:
    configured = env.get("CODEX_HOME")
    return Path(configured) if configured else user_home / ".codex"


def codex_hook_key(hooks_path: Path, placed: Placed) -> str:
    label = snake_case(placed.event)
    return f"{os.path.realpath(hooks_path)}:{label}:{placed.group_index}:{placed.handler_index}"


def codex_hook_hash(placed: Placed) -> str:
    """The ``trusted_hash`` Codex expects for this handler as it stands."""
    label = snake_case(placed.event)
    timeout = placed.entry.get("timeout", _CODEX_DEFAULT_TIMEOUT)
    timeout = max(int(timeout), 1) if isinstance(timeout, int | float) else _CODEX_DEFAULT_TIMEOUT
    if label == "session_end":
        timeout = min(timeout, 3)
    handler: dict[str, Any] = {
        "type": "command",
        "command": placed.entry.get("command"),
        "timeout": timeout,
        "async": False,
    }
    status = placed.entry.get("statusMessage")
    if isinstance(status, str):
        handler["statusMessage"] = status
    identity: dict[str, Any] = {"event_name": label, "hooks": [handler]}
    if placed.matcher is not None and label not in _CODEX_MATCHERLESS:
        identity["matcher"] = placed.matcher
    canonical = json.dumps(identity, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


def check_codex_trust(
    scope: Scope,
    hooks_path: Path,
    placed: Iterable[Placed],
    *,
    env: Mapping[str, str],
    user_home: Path,
    project: Path | None = None,
) -> Finding:
    """Whether Codex will run our handlers in ``hooks_path`` or skip them silently."""
    check_id = f"hooks.codex.{scope}.trust"
    config_path = codex_home(env, user_home) / "config.toml"
    try:
        config = _load_toml(config_path)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        return Finding(
            check_id,
            "fail",
            f"{config_path} cannot be read ({exc}); Codex will not start with it",
            f"fix {config_path}",
        )
    problems: list[str] = []
    fixes: list[str] = []
    features = config.get("features")
    if isinstance(features, dict) and features.get("hooks") is False:
        problems.append(f"{config_path} turns hooks off ([features] hooks = false)")
        fixes.append("remove `hooks = false` from [features]")
    if project is not None and not _codex_project_trusted(config, project):
        problems.append(f"Codex does not read {project}/.codex until the project is trusted")
        fixes.append(
            f'trust the project when `codex` asks, or add [projects."{project}"] '
            f'trust_level = "trusted" to {config_path}'
        )
    untrusted, disabled = _codex_handler_states(config, hooks_path, placed)
    if disabled:
        problems.append(f"{config_path} disables the Stockade hook for {', '.join(disabled)}")
        fixes.append("enable it under /hooks in `codex` (or delete `enabled = false`)")
    if untrusted:
        problems.append(
            f"Codex has not trusted the Stockade hook for {', '.join(untrusted)} "
            "(new or changed since it was trusted), so it skips it without a word"
        )
        fixes.append(_CODEX_TRUST_FIX)
    if not problems:
        return Finding(check_id, "ok", f"Codex trusts the Stockade hooks in {hooks_path}")
    return Finding(check_id, "fail", "; ".join(problems), "; ".join(fixes))


def _codex_handler_states(
    config: Mapping[str, Any], hooks_path: Path, placed: Iterable[Placed]
) -> tuple[list[str], list[str]]:
    hooks = config.get("hooks")
    states = hooks.get("state") if isinstance(hooks, dict) else None
    states = states if isinstance(states, dict) else {}
    untrusted: list[str] = []
    disabled: list[str] = []
    for handler in placed:
        state = states.get(codex_hook_key(hooks_path, handler))
        state = state if isinstance(state, dict) else {}
        if state.get("enabled") is False:
            disabled.append(handler.event)
        if state.get("trusted_hash") != codex_hook_hash(handler):
            untrusted.append(handler.event)
    return untrusted, disabled


def _codex_project_trusted(config: Mapping[str, Any], project: Path) -> bool:
    projects = config.get("projects")
    if not isinstance(projects, dict):
        return False
    real = Path(os.path.realpath(project))
    candidates = {str(real), str(project)}
    root = _git_root(real)
    if root is not None:
        candidates.add(str(root))
    for candidate in candidates:
        entry = projects.get(candidate)
        if isinstance(entry, dict) and entry.get("trust_level") == "trusted":
            return True
    return False


def _git_root(path: Path) -> Path | None:
    for candidate in (path, *path.parents):
        if (candidate / ".git").exists():
            return candidate
    return None


def _load_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        return {}


# --- Gemini CLI folder trust -------------------------------------------------------------

_TRUSTING = frozenset({"TRUST_FOLDER", "TRUST_PARENT"})
_LEVELS = frozenset({*_TRUSTING, "DO_NOT_TRUST"})


def trusted_folders_path(env: Mapping[str, str], user_home: Path) -> Path:
    configured = env.get("GEMINI_CLI_TRUSTED_FOLDERS_PATH")
    if configured:
        return Path(configured)
    base = env.get("GEMINI_CLI_HOME") or str(user_home)
    return Path(base) / ".gemini" / "trustedFolders.json"


def gemini_folder_trust(
    folder: Path,
    *,
    env: Mapping[str, str],
    user_home: Path,
    user_settings: Mapping[str, Any] | None,
) -> tuple[bool | None, str]:
    """Gemini's verdict on ``folder`` (``None``: no rule, it will ask) and where it comes from.

    Raises ``ValueError`` when ``trustedFolders.json`` is unusable (Gemini refuses to start).
    """
    if env.get("GEMINI_RESTRICTED_MODE") == "true":
        return False, "GEMINI_RESTRICTED_MODE=true"
    workspace = env.get("GEMINI_CLI_TRUST_WORKSPACE")
    if workspace in ("true", "false"):
        return workspace == "true", f"GEMINI_CLI_TRUST_WORKSPACE={workspace}"
    security = (user_settings or {}).get("security")
    folder_trust = security.get("folderTrust") if isinstance(security, dict) else None
    if isinstance(folder_trust, dict) and folder_trust.get("enabled") is False:
        return True, "folder trust is turned off in the user settings"
    path = trusted_folders_path(env, user_home)
    rules = _trust_rules(path)
    real = os.path.realpath(folder)
    best: tuple[int, str, str] | None = None
    for rule_path, level in rules.items():
        effective = os.path.dirname(rule_path) if level == "TRUST_PARENT" else rule_path
        if _is_within(real, os.path.realpath(effective)) and (
            best is None or len(rule_path) > best[0]
        ):
            best = (len(rule_path), rule_path, level)
    if best is None:
        return None, f"no rule for it in {path}"
    return best[2] in _TRUSTING, f"{best[1]}: {best[2]} in {path}"


def _trust_rules(path: Path) -> dict[str, str]:
    settings = read_settings(path, "gemini")  # the same JSON-with-comments reader
    if settings.error is not None:
        raise ValueError(f"{path} {settings.error}")
    rules = settings.document or {}
    bad = [key for key, level in rules.items() if level not in _LEVELS]
    if bad:
        raise ValueError(f"{path} has an invalid trust level for {bad[0]}")
    return {key: str(level) for key, level in rules.items()}


def _is_within(path: str, parent: str) -> bool:
    return path == parent or path.startswith(parent.rstrip(os.sep) + os.sep)


def check_gemini_folder(
    folder: Path,
    *,
    project_hooked: bool,
    user_hooked: bool,
    env: Mapping[str, str],
    user_home: Path,
    user_settings_path: Path,
) -> Finding:
    """Whether Gemini CLI runs the Stockade hooks in ``folder`` at all."""
    check_id = "hooks.gemini.folder-trust"
    user_settings = read_settings(user_settings_path, "gemini").document
    try:
        trusted, why = gemini_folder_trust(
            folder, env=env, user_home=user_home, user_settings=user_settings
        )
    except ValueError as exc:
        return Finding(check_id, "warn", f"{exc}: Gemini CLI refuses to start", "fix that file")
    if trusted:
        return Finding(check_id, "ok", f"Gemini CLI trusts {folder} ({why})")
    rule = trusted_folders_path(env, user_home)
    fix = f'trust it when `gemini` asks, or add "{folder}": "TRUST_FOLDER" to {rule}'
    if project_hooked:
        if not user_hooked:  # `--skip-trust` runs user hooks, never project ones
            fix += "; or hook the user settings instead: `stockade install gemini`"
        return Finding(
            check_id,
            "warn",
            f"Gemini CLI does not trust {folder} ({why}): it ignores "
            f"{folder}/.gemini/settings.json and the Stockade hooks in it",
            fix,
        )
    if trusted is False:
        return Finding(
            check_id,
            "warn",
            f"Gemini CLI distrusts {folder} ({why}) and runs no hooks there, Stockade's included",
            fix,
        )
    return Finding(check_id, "ok", f"Gemini CLI will ask whether to trust {folder} ({why})")
