"""The harnesses' own trust gates, which drop a correct Stockade hook without a word.

**Codex** (0.169.0, seen here) runs a non-managed hook only once the user trusted that
exact handler: ``$CODEX_HOME/config.toml`` (the *user* file, also for project hooks)
holds ``[hooks.state."<real path of hooks.json>:<event_label>:<group>:<handler>"]``
with ``trusted_hash = "sha256:<hex>"``, the SHA-256 of the compact, key-sorted JSON of
the handler's normalized identity (see :func:`codex_hook_hash`; checked byte for byte
against ``codex app-server``'s ``hooks/list``). An untrusted or edited handler is
skipped silently, ``enabled = false`` in that table disables it, ``[features] hooks =
false`` disables all hooks, and a project's ``.codex/`` is read only when
``[projects."<dir or its git root>"] trust_level = "trusted"``. ``stockade install
codex`` writes those tables for exactly the handlers it wrote (:func:`plan_codex_trust`),
never a project's trust; ``stockade doctor`` checks them (:func:`check_codex_trust`).

**Gemini CLI** (0.61.0, from its source) loads a project's ``.gemini/settings.json``
only in a trusted folder, and runs no configured hook at all (user ones included) in a
folder that is not trusted. Trust comes from ``GEMINI_CLI_TRUST_WORKSPACE`` /
``GEMINI_RESTRICTED_MODE``, ``security.folderTrust.enabled: false`` in user settings,
or the longest matching rule of ``trustedFolders.json``.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import tomllib
from collections.abc import Callable, Iterable, Mapping, MutableMapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import tomlkit
from tomlkit.items import InlineTable

from stockade.diagnostics import Check
from stockade.errors import ConfigError
from stockade.install.checks import Placed, our_entries, read_settings, snake_case
from stockade.install.settings import (
    REFUSED_HINT,
    Scope,
    SettingsChange,
    TrustResult,
    replace_user_file,
)

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
) -> Check:
    """Whether Codex will run our handlers in ``hooks_path`` or skip them silently."""
    check_id = f"hooks.codex.{scope}.trust"
    config_path = codex_home(env, user_home) / "config.toml"
    try:
        config = _load_toml(config_path)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        return Check(
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
        return Check(check_id, "ok", f"Codex trusts the Stockade hooks in {hooks_path}")
    return Check(check_id, "fail", "; ".join(problems), "; ".join(fixes))


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


# --- recording Codex's trust at install ------------------------------------------------------
# ``stockade install codex`` is the user's explicit choice to run exactly these hooks, so
# it records the trust the TUI would, for exactly the handlers it wrote; uninstall removes
# exactly those records. A project itself is never trusted here: that would let Codex load
# everything in the project's ``.codex/``, not just our hooks.


@dataclass(frozen=True, slots=True)
class CodexTrustEdit:
    """Codex's trust records for our entries, checked and ready to write to ``config.toml``."""

    path: Path
    records: dict[str, str]
    removed: tuple[str, ...]
    text: str | None  # the new file; None: nothing to change
    existed: bool
    notes: tuple[str, ...]

    def apply(self, now: datetime | None = None) -> TrustResult:
        backup = None
        if self.text is not None:
            backup = replace_user_file(self.path, self.text.encode(), self.existed, now)
        return TrustResult(self.path, self.records, self.removed, self.text is not None, backup)


def codex_trust_records(hooks_path: Path, document: Mapping[str, Any]) -> dict[str, str]:
    """The trust key and ``trusted_hash`` of every handler of ours in ``document``."""
    return {
        codex_hook_key(hooks_path, placed): codex_hook_hash(placed)
        for placed in our_entries(document, "codex")
    }


def plan_codex_trust(
    change: SettingsChange, *, env: Mapping[str, str], user_home: Path, project: Path | None
) -> CodexTrustEdit:
    """The ``config.toml`` that trusts our handlers after ``change`` and no stale one of ours.

    Raises :class:`ConfigError` (nothing written) when the file is not valid TOML, has a
    shape Codex would reject, or cannot be edited without changing anything else.
    """
    path = codex_home(env, user_home) / "config.toml"
    text, existed = _read_config_text(path)
    try:
        plain = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"{path} is not valid TOML ({exc}); nothing was changed", REFUSED_HINT
        ) from None
    records = codex_trust_records(change.path, change.after)
    removed = tuple(k for k in codex_trust_records(change.path, change.before) if k not in records)
    expected = copy.deepcopy(plain)
    deleted = _edit_trust(expected, records, removed, _plain_table, path)
    document = tomlkit.parse(text)
    _edit_trust(document, records, removed, _toml_table, path)
    new_text = tomlkit.dumps(document)
    if tomllib.loads(new_text) != expected:  # a layout tomlkit cannot extend faithfully
        raise ConfigError(
            f"cannot add Codex's trust records to {path} without changing its other "
            "settings; nothing was changed",
            f"add these tables to it by hand:\n{_trust_tables(records)}",
        )
    notes: tuple[str, ...] = ()
    if project is not None and not _codex_project_trusted(plain, project):
        notes = (
            f"Codex reads {project}/.codex only in a trusted project: trust it when `codex` "
            f'asks, or add [projects."{project}"] trust_level = "trusted" to {path}',
        )
    unchanged = new_text == text
    return CodexTrustEdit(path, records, deleted, None if unchanged else new_text, existed, notes)


_Table = MutableMapping[str, Any]
_NewTable = Callable[[_Table, bool], _Table]


def _edit_trust(
    config: _Table,
    records: Mapping[str, str],
    removed: tuple[str, ...],
    new_table: _NewTable,
    path: Path,
) -> tuple[str, ...]:
    """Set ``trusted_hash`` of ``records``, delete ``removed``; the keys really deleted.

    Works on tomllib's plain dicts and on tomlkit's document alike; ``new_table`` makes
    a child table of the right kind (``True``: a leaf ``[hooks.state."<key>"]``).
    """
    if not records and not removed:
        return ()
    hooks = _child(config, "hooks", "[hooks]", new_table, path, create=bool(records))
    state = _child(hooks, "state", "[hooks.state]", new_table, path, create=bool(records))
    if state is None or hooks is None:
        return ()
    for key, digest in records.items():
        entry = _child(state, key, f'[hooks.state."{key}"]', new_table, path, leaf=True)
        if entry is not None and entry.get("trusted_hash") != digest:
            entry["trusted_hash"] = digest
    deleted = tuple(key for key in removed if key in state)
    for key in deleted:
        del state[key]
    if deleted and not state:
        del hooks["state"]
        if not hooks:
            del config["hooks"]
    return deleted


def _child(
    parent: _Table | None,
    key: str,
    name: str,
    new_table: _NewTable,
    path: Path,
    *,
    create: bool = True,
    leaf: bool = False,
) -> _Table | None:
    if parent is None:
        return None
    child = parent.get(key)
    if child is None and create:
        child = parent[key] = new_table(parent, leaf)
    if child is not None and not isinstance(child, MutableMapping):
        raise ConfigError(f"{path}: {name} is not a table; nothing was changed", REFUSED_HINT)
    return child


def _plain_table(parent: _Table, leaf: bool) -> _Table:
    return {}


def _toml_table(parent: _Table, leaf: bool) -> _Table:
    """A table of the kind ``parent`` can hold, written the way Codex's TUI writes it."""
    if isinstance(parent, InlineTable):
        return tomlkit.inline_table()
    return tomlkit.table(is_super_table=not leaf)


def _trust_tables(records: Mapping[str, str]) -> str:
    return "".join(
        f"[hooks.state.{json.dumps(key)}]\ntrusted_hash = {json.dumps(digest)}\n"
        for key, digest in records.items()
    )


def _read_config_text(path: Path) -> tuple[str, bool]:
    try:
        return path.read_text(encoding="utf-8"), True
    except FileNotFoundError:
        return "", False
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}", REFUSED_HINT) from None


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
) -> Check:
    """Whether Gemini CLI runs the Stockade hooks in ``folder`` at all."""
    check_id = "hooks.gemini.folder-trust"
    user_settings = read_settings(user_settings_path, "gemini").document
    try:
        trusted, why = gemini_folder_trust(
            folder, env=env, user_home=user_home, user_settings=user_settings
        )
    except ValueError as exc:
        return Check(check_id, "warn", f"{exc}: Gemini CLI refuses to start", "fix that file")
    if trusted:
        return Check(check_id, "ok", f"Gemini CLI trusts {folder} ({why})")
    rule = trusted_folders_path(env, user_home)
    fix = f'trust it when `gemini` asks, or add "{folder}": "TRUST_FOLDER" to {rule}'
    if project_hooked:
        if not user_hooked:  # `--skip-trust` runs user hooks, never project ones
            fix += "; or hook the user settings instead: `stockade install gemini`"
        return Check(
            check_id,
            "warn",
            f"Gemini CLI does not trust {folder} ({why}): it ignores "
            f"{folder}/.gemini/settings.json and the Stockade hooks in it",
            fix,
        )
    if trusted is False:
        return Check(
            check_id,
            "warn",
            f"Gemini CLI distrusts {folder} ({why}) and runs no hooks there, Stockade's included",
            fix,
        )
    return Check(check_id, "ok", f"Gemini CLI will ask whether to trust {folder} ({why})")
