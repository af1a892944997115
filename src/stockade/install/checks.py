"""Is each harness really hooked? The install checks of ``stockade doctor``.

Every harness fails open *silently*: a settings file it cannot parse, a hook it has not
trusted, a folder it does not trust or a hook that outlives the harness's timeout all
end the same way, with tool calls running unchecked and nothing on the screen. So these
checks read the very files the harness reads, the way it reads them, and say for each
problem what the harness will do and how to fix it.

The checks are pure functions over paths and an environment mapping (no harness is
run), so tests build fake settings trees. Harness trust (Codex hook trust, Gemini folder
trust) lives in :mod:`stockade.install.harness_trust`.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stockade.adapters.base import load_adapter
from stockade.diagnostics import Check, Status
from stockade.install.settings import HARNESS_HOOKS, HookSpec, Scope, is_ours, settings_path


@dataclass(frozen=True, slots=True)
class Placed:
    """One of our hook entries where a harness finds it (indices count like Codex's keys)."""

    event: str
    group_index: int
    handler_index: int
    matcher: str | None
    entry: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Settings:
    """A settings file as the harness sees it: absent, unreadable (``error``) or a document."""

    path: Path
    document: Mapping[str, Any] | None = None
    error: str | None = None

    @property
    def exists(self) -> bool:
        return self.document is not None or self.error is not None


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong in a file; no ``fix`` means: install again, which rewrites our entries."""

    level: Status
    message: str
    fix: str | None = None


HARNESS_NAMES = {"claude-code": "Claude Code", "codex": "Codex", "gemini": "Gemini CLI"}
# What the harness does without a ``timeout`` key, and the unit of the key.
_DEFAULT_TIMEOUT = {"claude-code": 600.0, "codex": 600.0, "gemini": 60_000.0}
_TIMEOUT_UNIT = {"claude-code": 1.0, "codex": 1.0, "gemini": 1000.0}
# Gemini matches these events' matcher against a trigger string exactly, not as a regex.
_GEMINI_TRIGGER_EVENTS = frozenset({"SessionStart", "SessionEnd", "PreCompress"})
# The variable that moves each harness's user configuration directory.
_CONFIG_DIR_ENV = {
    "claude-code": "CLAUDE_CONFIG_DIR",
    "codex": "CODEX_HOME",
    "gemini": "GEMINI_CLI_HOME",
}


def user_settings_path(harness: str, env: Mapping[str, str], user_home: Path) -> Path:
    """The user settings file ``harness`` reads, honouring its config-directory variable."""
    moved = env.get(_CONFIG_DIR_ENV[harness])
    if moved and harness == "claude-code":
        return Path(moved) / "settings.json"
    if moved and harness == "gemini":
        return settings_path(harness, user_home=Path(moved))
    return settings_path(harness, env=env, user_home=user_home)


def install_command(harness: str, scope: Scope, project: Path | None) -> str:
    flag = f" --project {shlex.quote(str(project))}" if scope == "project" and project else ""
    return f"stockade install {harness}{flag}"


# --- reading -----------------------------------------------------------------------------


def read_settings(path: Path, harness: str) -> Settings:
    """Parse ``path`` as ``harness`` does (Gemini allows comments); never raises."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Settings(path)
    except (OSError, UnicodeDecodeError) as exc:
        return Settings(path, error=f"cannot be read ({exc.__class__.__name__}: {exc})")
    if not text.strip():
        return Settings(path, document={})
    if harness == "gemini":
        text = strip_json_comments(text)
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        return Settings(
            path, error=f"is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        )
    if not isinstance(document, dict):
        return Settings(path, error="does not hold a JSON object")
    return Settings(path, document=document)


def strip_json_comments(text: str) -> str:
    """``text`` without ``//`` and ``/* */`` comments outside strings (Gemini's JSONC)."""
    out: list[str] = []
    index, length, in_string = 0, len(text), False
    while index < length:
        char = text[index]
        if in_string:
            out.append(char)
            if char == "\\" and index + 1 < length:
                out.append(text[index + 1])
                index += 1
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
            out.append(char)
        elif text.startswith("//", index):
            end = text.find("\n", index)
            index = length if end == -1 else end
            continue
        elif text.startswith("/*", index):
            end = text.find("*/", index + 2)
            index = length if end == -1 else end + 2
            continue
        else:
            out.append(char)
        index += 1
    return "".join(out)


def our_entries(document: Mapping[str, Any], harness: str) -> Iterator[Placed]:
    """Every hook entry of ours in ``document``, under any event, with its position."""
    hooks = document.get("hooks")
    if not isinstance(hooks, dict):
        return
    for event, groups in hooks.items():
        if not isinstance(groups, list):
            continue
        for group_index, group in enumerate(groups):
            entries = group.get("hooks") if isinstance(group, dict) else None
            if not isinstance(entries, list):
                continue
            matcher = group.get("matcher")
            for handler_index, entry in enumerate(entries):
                if is_ours(entry, harness):
                    yield Placed(
                        event,
                        group_index,
                        handler_index,
                        matcher if isinstance(matcher, str) else None,
                        entry,
                    )


# --- judging our entries -----------------------------------------------------------------


def entry_problems(
    harness: str, placed: list[Placed], env: Mapping[str, str], deadline_s: float
) -> list[Problem]:
    """What is wrong with our entries: missing events, matchers, commands, timeouts."""
    problems: list[Problem] = []
    by_event = {spec.event: spec for spec in HARNESS_HOOKS[harness]}
    missing = [event for event in by_event if not any(p.event == event for p in placed)]
    if missing:
        problems.append(
            Problem(
                "fail",
                f"no Stockade hook for {', '.join(missing)}",
            )
        )
    for entry in placed:
        spec = by_event.get(entry.event)
        if spec is not None and not _matcher_covers(harness, spec, entry.matcher):
            problems.append(
                Problem(
                    "fail",
                    f"{entry.event} matcher {entry.matcher!r} does not match every "
                    f"{'tool' if spec.matcher else 'event'}; the rest bypass Stockade",
                )
            )
        problems.extend(_command_problems(entry, env))
        problems.extend(_timeout_problems(harness, entry, deadline_s))
    return _unique(problems)


def _matcher_covers(harness: str, spec: HookSpec, matcher: str | None) -> bool:
    """Whether ``matcher`` selects everything ``spec.matcher`` selects (all, for ours)."""
    if matcher == spec.matcher:
        return True
    if matcher is None or matcher.strip() in ("", "*"):
        return True
    if matcher.strip() == ".*":  # a regex matching every name, except where Gemini compares
        return not (harness == "gemini" and spec.event in _GEMINI_TRIGGER_EVENTS)
    return False


def _command_problems(placed: Placed, env: Mapping[str, str]) -> Iterator[Problem]:
    command = placed.entry.get("command")
    assert isinstance(command, str)  # is_ours only accepts string commands
    try:
        executable = shlex.split(command)[0]
    except (ValueError, IndexError):
        yield Problem("fail", f"{placed.event} hook command cannot be parsed")
        return
    if os.sep in executable:
        found = Path(executable).is_file() and os.access(executable, os.X_OK)
    else:
        found = shutil.which(executable, path=env.get("PATH", os.defpath)) is not None
    if not found:
        yield Problem(
            "fail",
            f"the hook runs {executable}, which does not exist or is not executable "
            "(the harness treats a failing hook as allow)",
        )


def _timeout_problems(harness: str, placed: Placed, deadline_s: float) -> Iterator[Problem]:
    """A gating hook must outlive the shim's deadline; session records may fail open."""
    if load_adapter(harness).event_kind({"hook_event_name": placed.event}) == "session":
        return
    raw = placed.entry.get("timeout", _DEFAULT_TIMEOUT[harness])
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        yield Problem("fail", f"{placed.event} hook timeout {raw!r} is not a number")
        return
    seconds = raw / _TIMEOUT_UNIT[harness]
    if seconds <= deadline_s:
        yield Problem(
            "fail",
            f"{placed.event} hook timeout is {seconds:g} s, not above the hook's own "
            f"{deadline_s:g} s deadline: the harness may give up first and run the call",
        )


def _unique(problems: list[Problem]) -> list[Problem]:
    return list(dict.fromkeys(problems))


# --- one settings file -------------------------------------------------------------------


def check_settings(
    harness: str,
    scope: Scope,
    settings: Settings,
    *,
    env: Mapping[str, str],
    deadline_s: float,
    project: Path | None = None,
    in_use: bool = True,
) -> Check:
    """The finding for one settings file: hooked and sound, not hooked, or broken."""
    check_id = f"hooks.{harness}.{scope}"
    name = HARNESS_NAMES[harness]
    install = install_command(harness, scope, project)
    path = settings.path
    if settings.error is not None:
        return Check(
            check_id,
            "fail",
            f"{path} {settings.error}: {name} ignores the whole file, so no hook in it runs",
            f"fix the file (or move it away), then `{install}`",
        )
    document = settings.document
    placed = list(our_entries(document, harness)) if document is not None else []
    if not placed:
        if scope == "project":
            return Check(check_id, "ok", f"no Stockade hooks in {path}; the user settings apply")
        if not in_use:
            return Check(check_id, "ok", f"{name} not set up here ({path.parent} absent)")
        return Check(check_id, "warn", f"{name} is not hooked ({path})", install)
    assert document is not None
    problems = entry_problems(harness, placed, env, deadline_s)
    problems.extend(_switch_problems(harness, document, placed))
    if not problems:
        events = ", ".join(spec.event for spec in HARNESS_HOOKS[harness])
        return Check(check_id, "ok", f"hooked in {path} ({events})")
    status: Status = "fail" if any(p.level == "fail" for p in problems) else "warn"
    reinstall = f"`{install}` (it rewrites Stockade's entries)"
    fixes = dict.fromkeys(p.fix or reinstall for p in problems)
    return Check(
        check_id,
        status,
        f"{path}: " + "; ".join(p.message for p in problems),
        "; ".join(fixes),
    )


def _switch_problems(
    harness: str, document: Mapping[str, Any], placed: list[Placed]
) -> Iterator[Problem]:
    """Settings in the same file that turn hooks off although our entries are there."""
    if harness == "claude-code" and document.get("disableAllHooks") is True:
        yield Problem(
            "fail", '"disableAllHooks": true turns every hook off', 'remove "disableAllHooks"'
        )
    if harness != "gemini":
        return
    config = document.get("hooksConfig")
    if not isinstance(config, dict):
        return
    if config.get("enabled") is False:
        yield Problem(
            "fail", '"hooksConfig.enabled": false turns every hook off', 'remove "enabled": false'
        )
    disabled = config.get("disabled")
    names = {p.entry.get("name") or p.entry.get("command") for p in placed}
    if isinstance(disabled, list) and names & set(disabled):
        yield Problem(
            "fail",
            '"hooksConfig.disabled" lists the Stockade hook',
            'remove it from "hooksConfig.disabled"',
        )


def check_location(harness: str, env: Mapping[str, str], user_home: Path) -> Check | None:
    """A hook in the default file while an environment variable sends the harness elsewhere."""
    variable = _CONFIG_DIR_ENV[harness]
    read = user_settings_path(harness, env, user_home)
    default = user_settings_path(harness, {}, user_home)
    if not env.get(variable) or _same_file(read, default):
        return None
    stale = read_settings(default, harness)
    if stale.document is None or not any(our_entries(stale.document, harness)):
        return None
    return Check(
        f"hooks.{harness}.location",
        "warn",
        f"{default} has Stockade hooks, but {HARNESS_NAMES[harness]} reads {read} "
        f"because ${variable} is set",
        f"put the hooks in {read} (or unset ${variable})",
    )


def _same_file(first: Path, second: Path) -> bool:
    return os.path.realpath(first) == os.path.realpath(second)


_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


def snake_case(event: str) -> str:
    """``PreToolUse`` -> ``pre_tool_use`` (Codex's event labels)."""
    return _CAMEL.sub("_", event).lower()
