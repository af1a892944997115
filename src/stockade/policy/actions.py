"""Canonical actions: one vocabulary so that one policy governs every harness.

Each harness names its tools differently (Claude Code ``Write``, Gemini ``write_file``,
Codex ``apply_patch``); the engine only ever reasons about the canonical action.
A tool that no table knows becomes ``tool.unknown`` and is never silently allowed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

FS_READ = "fs.read"
FS_SEARCH = "fs.search"
FS_WRITE = "fs.write"
SHELL_EXEC = "shell.exec"
NET_FETCH = "net.fetch"
NET_SEARCH = "net.search"
MCP_CALL = "mcp.call"
AGENT_SPAWN = "agent.spawn"
AGENT_META = "agent.meta"
TOOL_UNKNOWN = "tool.unknown"

ALL_ACTIONS: tuple[str, ...] = (
    FS_READ,
    FS_SEARCH,
    FS_WRITE,
    SHELL_EXEC,
    NET_FETCH,
    NET_SEARCH,
    MCP_CALL,
    AGENT_SPAWN,
    AGENT_META,
    TOOL_UNKNOWN,
)

# Named groups usable in tool lists: ``group:fs`` expands to its actions.
GROUPS: dict[str, frozenset[str]] = {
    "group:fs": frozenset({FS_READ, FS_SEARCH, FS_WRITE}),
    "group:read": frozenset({FS_READ, FS_SEARCH}),
    "group:write": frozenset({FS_WRITE}),
    "group:shell": frozenset({SHELL_EXEC}),
    "group:runtime": frozenset({SHELL_EXEC}),
    "group:network": frozenset({NET_FETCH, NET_SEARCH}),
    "group:web": frozenset({NET_FETCH, NET_SEARCH}),
    "group:mcp": frozenset({MCP_CALL}),
    "group:agents": frozenset({AGENT_SPAWN, AGENT_META}),
    "group:unknown": frozenset({TOOL_UNKNOWN}),
}

# Tool name -> canonical action, per harness. Codex's shell arrives as ``Bash`` in
# hooks and as ``exec_command``/``shell`` on the wire; all are listed.
HARNESS_TOOLS: dict[str, dict[str, str]] = {
    "claude-code": {
        "Bash": SHELL_EXEC,
        "BashOutput": AGENT_META,
        "KillShell": AGENT_META,
        "Read": FS_READ,
        "Write": FS_WRITE,
        "Edit": FS_WRITE,
        "MultiEdit": FS_WRITE,
        "NotebookEdit": FS_WRITE,
        "NotebookRead": FS_READ,
        "Glob": FS_SEARCH,
        "Grep": FS_SEARCH,
        "LS": FS_SEARCH,
        "WebFetch": NET_FETCH,
        "WebSearch": NET_SEARCH,
        "Task": AGENT_SPAWN,
        "Agent": AGENT_SPAWN,
        "TodoWrite": AGENT_META,
        "ExitPlanMode": AGENT_META,
    },
    "codex": {
        "Bash": SHELL_EXEC,
        "exec_command": SHELL_EXEC,
        "shell": SHELL_EXEC,
        "local_shell": SHELL_EXEC,
        "apply_patch": FS_WRITE,
        "update_plan": AGENT_META,
        "web_search": NET_SEARCH,
        "view_image": FS_READ,
    },
    "gemini": {
        "run_shell_command": SHELL_EXEC,
        "read_file": FS_READ,
        "read_many_files": FS_READ,
        "write_file": FS_WRITE,
        "replace": FS_WRITE,
        "glob": FS_SEARCH,
        "search_file_content": FS_SEARCH,
        "grep_search": FS_SEARCH,
        "list_directory": FS_SEARCH,
        "web_fetch": NET_FETCH,
        "google_web_search": NET_SEARCH,
        "save_memory": AGENT_META,
        "write_todos": AGENT_META,
        "update_topic": AGENT_META,
        "enter_plan_mode": AGENT_META,
        "exit_plan_mode": AGENT_META,
        "activate_skill": AGENT_META,
        "list_background_processes": AGENT_META,
        "read_background_output": AGENT_META,
        "invoke_agent": AGENT_SPAWN,
    },
}

HARNESSES: tuple[str, ...] = ("claude-code", "codex", "gemini", "generic")

# ``generic`` callers (scripts, tests, later the MCP proxy) may name canonical actions directly.
HARNESS_TOOLS["generic"] = {action: action for action in ALL_ACTIONS if action != TOOL_UNKNOWN}

_CLAUDE_MCP = re.compile(r"^mcp__(?P<server>[^_].*?)__(?P<tool>.+)$")
_GEMINI_MCP = re.compile(r"^mcp_(?P<server>[^_]+)_(?P<tool>.+)$")


@dataclass(frozen=True, slots=True)
class CanonicalTool:
    """A tool name understood: its canonical action and, for MCP, server and tool."""

    action: str
    tool_name: str
    mcp_server: str | None = None
    mcp_tool: str | None = None


def canonicalize(harness: str, tool_name: str) -> CanonicalTool:
    """Map a harness's tool name to its canonical action (``tool.unknown`` if none)."""
    table = HARNESS_TOOLS.get(harness, {})
    action = table.get(tool_name)
    if action is not None:
        return CanonicalTool(action, tool_name)
    pattern = _GEMINI_MCP if harness == "gemini" else _CLAUDE_MCP
    match = pattern.match(tool_name) or _CLAUDE_MCP.match(tool_name)
    if match:
        return CanonicalTool(MCP_CALL, tool_name, match["server"], match["tool"])
    return CanonicalTool(TOOL_UNKNOWN, tool_name)
