"""The normalized requests every harness adapter produces.

Adapters translate a harness's wire format into these; nothing past the adapter
knows which harness spoke. They are frozen so that the engine can treat them as
values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class ToolCall:
    """One tool call an agent wants to make, before it runs.

    ``cwd`` and ``project_root`` are absolute paths as the harness reported them;
    the engine resolves them itself and never trusts them to be canonical.
    ``project_root`` of ``None`` means "the cwd is the project".
    """

    harness: str
    session_id: str
    tool_name: str
    tool_input: Mapping[str, Any]
    cwd: str
    project_root: str | None = None
    agent: str | None = None

    @property
    def root(self) -> str:
        """The project root the call is judged against."""
        return self.project_root or self.cwd


@dataclass(frozen=True, slots=True)
class PromptSubmission:
    """A prompt the user submitted to an agent, screened for credential references.

    Its text is never stored: only its hash and the pattern that matched.
    """

    harness: str
    session_id: str
    prompt: str
    cwd: str
    project_root: str | None = None
    agent: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)
