"""Write Stockade's hook entries into Claude Code, Codex and Gemini CLI settings files.

The files belong to the user, so the rules are strict:

- **never clobber**: the existing JSON is parsed and every other key kept; a file that is
  not valid JSON (or not an object) is refused with the reason and left untouched;
- **back up**: before any change the previous file is copied to
  ``<name>.stockade-backup-<UTC timestamp>``;
- **atomic**: the new file replaces the old in one rename (a symlinked settings file is
  written through to its target, so dotfile setups keep working);
- **idempotent**: our entries are recognised by their command (``… stockade … hook
  <harness>``); installing twice changes nothing, and an entry pointing at another
  ``stockade`` executable is updated in place rather than duplicated, and an older
  install that lacks some of today's events gets them added;
- **uninstall removes exactly ours** under every event, also events an older or newer
  version installed, plus the matcher groups, event lists and ``hooks``
  object that became empty because of it.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from stockade.errors import ConfigError, StockadeError
from stockade.home import atomic_write

Scope = Literal["user", "project"]
NEW_FILE_MODE = 0o600


@dataclass(frozen=True, slots=True)
class HookSpec:
    """One hook entry: the event, its matcher (``None``: no matcher key) and the timeout."""

    event: str
    matcher: str | None
    timeout: int
    name: str | None = None


# Timeouts: Claude Code and Codex count seconds, Gemini CLI milliseconds. They stay above
# the shim's own deadline (100 s by default, long enough to hold a call for an approval),
# so the shim always answers first and the harness never fails open on a timeout.
HARNESS_HOOKS: dict[str, tuple[HookSpec, ...]] = {
    # Claude Code: tool events match every tool ("*"); lifecycle events take no matcher.
    "claude-code": (
        HookSpec("PreToolUse", "*", 120),
        HookSpec("PostToolUse", "*", 120),
        HookSpec("PostToolUseFailure", "*", 120),
        HookSpec("PermissionDenied", "*", 120),
        HookSpec("UserPromptSubmit", None, 120),
        HookSpec("SessionStart", None, 120),
        HookSpec("SessionEnd", None, 120),
    ),
    # Codex matchers are regexes; no matcher means every tool (a bare "*" is not a regex)
    # and, for SessionStart, every source. Codex clamps a SessionEnd timeout to 1..3 s
    # (and warns on every run about a longer one); recording the end takes milliseconds.
    "codex": (
        HookSpec("PreToolUse", None, 120),
        HookSpec("PostToolUse", None, 120),
        HookSpec("UserPromptSubmit", None, 120),
        HookSpec("SessionStart", None, 120),
        HookSpec("SessionEnd", None, 3),
    ),
    # Gemini: tool events match a regex on the tool name, lifecycle events exact strings.
    "gemini": (
        HookSpec("BeforeTool", ".*", 120_000, name="stockade"),
        HookSpec("AfterTool", ".*", 120_000, name="stockade"),
        HookSpec("BeforeAgent", "*", 120_000, name="stockade"),
        HookSpec("SessionStart", "*", 120_000, name="stockade"),
        HookSpec("SessionEnd", "*", 120_000, name="stockade"),
    ),
}


@dataclass(frozen=True, slots=True)
class TrustResult:
    """The harness's own trust records for our entries (Codex: ``[hooks.state]`` tables).

    ``records`` are ours as they stand after the command (key -> ``trusted_hash``; empty
    after an uninstall), ``removed`` the keys of ours the command deleted.
    """

    path: Path
    records: Mapping[str, str]
    removed: tuple[str, ...]
    changed: bool
    backup: Path | None

    def to_json(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "changed": self.changed,
            "backup": None if self.backup is None else str(self.backup),
            "records": [{"key": k, "trusted_hash": h} for k, h in self.records.items()],
            "removed": list(self.removed),
        }


@dataclass(frozen=True, slots=True)
class InstallResult:
    """What ``install``/``uninstall`` did to one settings file (and, for Codex, its trust)."""

    harness: str
    scope: Scope
    path: Path
    command: str
    settings_changed: bool
    backup: Path | None
    events: tuple[str, ...]
    notes: tuple[str, ...] = field(default=())
    trust: TrustResult | None = None

    @property
    def changed(self) -> bool:
        """Whether the command changed any file (settings or trust records)."""
        return self.settings_changed or (self.trust is not None and self.trust.changed)

    def to_json(self) -> dict[str, Any]:
        return {
            "harness": self.harness,
            "scope": self.scope,
            "path": str(self.path),
            "command": self.command,
            "changed": self.changed,
            "backup": None if self.backup is None else str(self.backup),
            "events": list(self.events),
            "notes": list(self.notes),
            "trust": None if self.trust is None else self.trust.to_json(),
        }


@dataclass(frozen=True, slots=True)
class SettingsChange:
    """A planned edit of one settings file; nothing is written until :func:`commit`.

    Planning first lets a second file (Codex's ``config.toml``) be checked before
    either is touched.
    """

    harness: str
    scope: Scope
    path: Path
    command: str
    before: dict[str, Any]
    after: dict[str, Any]
    existed: bool


def settings_path(
    harness: str,
    project: Path | None = None,
    *,
    env: Mapping[str, str] | None = None,
    user_home: Path | None = None,
) -> Path:
    """The settings file ``harness`` reads hooks from, for the user or for ``project``."""
    _check_harness(harness)
    env = os.environ if env is None else env
    user_home = Path.home() if user_home is None else user_home
    if harness == "claude-code":
        base = project / ".claude" if project else user_home / ".claude"
        return base / "settings.json"
    if harness == "codex":
        if project:
            return project / ".codex" / "hooks.json"
        codex_home = env.get("CODEX_HOME")
        return (Path(codex_home) if codex_home else user_home / ".codex") / "hooks.json"
    base = project / ".gemini" if project else user_home / ".gemini"
    return base / "settings.json"


def default_executable() -> str:
    """The absolute path of the ``stockade`` executable hooks should run."""
    beside = Path(sys.executable).parent / "stockade"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which("stockade")
    if found:
        return os.path.abspath(found)
    raise StockadeError(
        "cannot find the `stockade` executable to put in the hook command",
        "install Stockade so that `stockade` is on PATH (e.g. `pipx install stockade`)",
    )


def hook_command(harness: str, executable: str, agent: str | None = None) -> str:
    """The hook's command line; ``agent`` makes the shim send that agent's name."""
    command = f"{shlex.quote(executable)} hook {harness}"
    return command if agent is None else f"{command} --agent {shlex.quote(agent)}"


def plan_install(
    harness: str,
    project: Path | None = None,
    *,
    executable: str | None = None,
    env: Mapping[str, str] | None = None,
    user_home: Path | None = None,
    agent: str | None = None,
) -> SettingsChange:
    """The settings of ``harness`` (user or ``project``) with our hook entries merged in."""
    path = settings_path(harness, project, env=env, user_home=user_home)
    command = hook_command(harness, executable or default_executable(), agent)
    document, existed = _load(path)
    try:
        updated = merge_hooks(document, harness, command)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc.message}", exc.hint) from None
    return SettingsChange(harness, _scope(project), path, command, document, updated, existed)


def plan_uninstall(
    harness: str,
    project: Path | None = None,
    *,
    env: Mapping[str, str] | None = None,
    user_home: Path | None = None,
) -> SettingsChange:
    """The settings of ``harness`` without exactly Stockade's hook entries."""
    path = settings_path(harness, project, env=env, user_home=user_home)
    document, existed = _load(path)
    updated = remove_hooks(document, harness)
    return SettingsChange(harness, _scope(project), path, "", document, updated, existed)


# --- pure merge / removal ----------------------------------------------------------------


def is_ours(entry: Any, harness: str) -> bool:
    """Whether a hook entry is one ``stockade install`` wrote for ``harness``."""
    if not isinstance(entry, dict) or entry.get("type", "command") != "command":
        return False
    command = entry.get("command")
    if not isinstance(command, str) or "stockade" not in command:
        return False
    return re.search(rf"(^|\s)hook\s+{re.escape(harness)}(\s|$)", command) is not None


def merge_hooks(document: Mapping[str, Any], harness: str, command: str) -> dict[str, Any]:
    """A copy of ``document`` with our entries present exactly once, all else unchanged.

    An entry of ours already in a group with our matcher is updated in place (so running
    twice changes nothing); one under another matcher, or a duplicate, is dropped.
    """
    result = _copy(document)
    hooks = result.setdefault("hooks", {})
    if not isinstance(hooks, dict):
        raise _shape_error('"hooks" is not an object')
    for spec in HARNESS_HOOKS[harness]:
        groups = hooks.setdefault(spec.event, [])
        if not isinstance(groups, list):
            raise _shape_error(f'"hooks.{spec.event}" is not a list')
        wanted = _entry(spec, command)
        placed = False
        kept_groups: list[Any] = []
        for group in groups:
            entries = group.get("hooks") if isinstance(group, dict) else None
            if not isinstance(entries, list) or not any(is_ours(e, harness) for e in entries):
                kept_groups.append(group)
                continue
            kept: list[Any] = []
            for entry in entries:
                if not is_ours(entry, harness):
                    kept.append(entry)
                elif not placed and group.get("matcher") == spec.matcher:
                    kept.append(wanted)
                    placed = True
            if kept:
                group["hooks"] = kept
                kept_groups.append(group)
        if not placed:
            group = {"hooks": [wanted]}
            if spec.matcher is not None:
                group = {"matcher": spec.matcher, **group}
            kept_groups.append(group)
        hooks[spec.event] = kept_groups
    return result


def remove_hooks(document: Mapping[str, Any], harness: str) -> dict[str, Any]:
    """A copy of ``document`` without our entries (and containers emptied by their removal)."""
    result = _copy(document)
    hooks = result.get("hooks")
    if not isinstance(hooks, dict):
        return result
    for event in list(hooks):
        groups = hooks[event]
        if not isinstance(groups, list):
            continue
        kept_groups = []
        removed_any = False
        for group in groups:
            entries = group.get("hooks") if isinstance(group, dict) else None
            if not isinstance(entries, list):
                kept_groups.append(group)
                continue
            kept = [entry for entry in entries if not is_ours(entry, harness)]
            if len(kept) != len(entries):
                removed_any = True
                if not kept:
                    continue
                group["hooks"] = kept
            kept_groups.append(group)
        if removed_any:
            if kept_groups:
                hooks[event] = kept_groups
            else:
                del hooks[event]
            if not hooks:
                del result["hooks"]
    return result


def _copy(document: Mapping[str, Any]) -> dict[str, Any]:
    copied: dict[str, Any] = json.loads(json.dumps(document))
    return copied


def _entry(spec: HookSpec, command: str) -> dict[str, Any]:
    entry: dict[str, Any] = {}
    if spec.name is not None:
        entry["name"] = spec.name
    entry.update({"type": "command", "command": command, "timeout": spec.timeout})
    return entry


# --- file handling -----------------------------------------------------------------------


def _load(path: Path) -> tuple[dict[str, Any], bool]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}, False
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}", REFUSED_HINT) from None
    if not text.strip():
        return {}, True
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"{path} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); "
            "nothing was changed",
            REFUSED_HINT,
        ) from None
    if not isinstance(document, dict):
        raise ConfigError(f"{path} does not hold a JSON object; nothing was changed", REFUSED_HINT)
    return document, True


def commit(change: SettingsChange, now: datetime | None = None) -> InstallResult:
    """Write ``change`` (backed up, atomically) unless it changes nothing."""
    harness, scope = change.harness, change.scope
    events = tuple(spec.event for spec in HARNESS_HOOKS[harness])
    notes = _notes(harness, scope)
    changed = change.after != change.before
    backup = None
    if changed:
        data = json.dumps(change.after, indent=2, ensure_ascii=False) + "\n"
        backup = replace_user_file(change.path, data.encode(), change.existed, now)
    return InstallResult(
        harness, scope, change.path, change.command, changed, backup, events, notes
    )


def replace_user_file(
    path: Path, data: bytes, existed: bool, now: datetime | None = None
) -> Path | None:
    """Replace a file of the user's with ``data``: backed up, atomic, mode kept.

    A symlink is written through to its target. Returns the backup (``None``: the file
    is new, created ``0600`` in a ``0700`` directory).
    """
    target = Path(os.path.realpath(path))
    backup = None
    mode = NEW_FILE_MODE
    if existed:
        mode = target.stat().st_mode & 0o777
        backup = _backup(target, now or datetime.now(UTC))
    else:
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    atomic_write(target, data, mode=mode)
    return backup


def _backup(target: Path, now: datetime) -> Path:
    stamp = now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    backup = target.with_name(f"{target.name}.stockade-backup-{stamp}")
    counter = 1
    while backup.exists():
        counter += 1
        backup = target.with_name(f"{target.name}.stockade-backup-{stamp}-{counter}")
    shutil.copy2(target, backup)
    return backup


def _notes(harness: str, scope: Scope) -> tuple[str, ...]:
    notes = ["the hook blocks every call while the daemon is stopped: run `stockade serve`"]
    if harness == "gemini" and scope == "project":
        notes.append(
            "Gemini loads project settings only in a trusted folder; "
            "`--skip-trust` drops project hooks"
        )
    return tuple(notes)


def _scope(project: Path | None) -> Scope:
    return "project" if project else "user"


def _check_harness(harness: str) -> None:
    if harness not in HARNESS_HOOKS:
        raise StockadeError(
            f"unknown harness {harness!r}; valid: {', '.join(HARNESS_HOOKS)}",
            "e.g. `stockade install claude-code`",
        )


def _shape_error(problem: str) -> ConfigError:
    return ConfigError(f"{problem}; nothing was changed", REFUSED_HINT)


REFUSED_HINT = "fix the file by hand (or move it away), then run the command again"
