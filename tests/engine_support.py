"""A real DecisionService on a temporary HOME, project and $STOCKADE_HOME, for engine tests."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from itertools import count
from pathlib import Path
from typing import Any

from stockade.decision import Decision
from stockade.home import Home
from stockade.policy.state import PromptScreening
from stockade.request import PromptSubmission, ToolCall
from stockade.service import POLICY_RECHECK_S, DecisionService

_sessions = count()


@dataclass
class Sandbox:
    """A user home with a project in it and a private Stockade home."""

    user_home: Path
    project: Path
    home: Home
    session: str = field(default_factory=lambda: f"s{next(_sessions)}")
    _service: DecisionService | None = None

    @property
    def service(self) -> DecisionService:
        """Its clock moves past the policy-file re-check at each reading, so that a
        file written between two decisions always counts (tests of the re-check itself
        build their own service)."""
        if self._service is None:
            ticks = count(step=POLICY_RECHECK_S)
            self._service = DecisionService.load(self.home, clock=lambda: float(next(ticks)))
        return self._service

    def configure(self, toml: str, *, writable_dirs: str = "[]") -> None:
        # pytest's tmp_path lives under /tmp, the default scratch dir: clear it so that
        # "outside the project" means outside.
        self.home.config_path.write_text(f"writable_dirs = {writable_dirs}\n{toml}")
        os.chmod(self.home.config_path, 0o600)
        self._service = None

    def decide(
        self,
        tool: str,
        tool_input: dict[str, Any],
        *,
        harness: str = "claude-code",
        session: str | None = None,
        cwd: Path | None = None,
        agent: str | None = None,
    ) -> Decision:
        call = ToolCall(
            harness=harness,
            session_id=session or self.session,
            tool_name=tool,
            tool_input=tool_input,
            cwd=str(cwd or self.project),
            project_root=str(self.project),
            agent=agent,
        )
        return self.service.decide(call).decision

    def bash(self, command: str, **kwargs: Any) -> Decision:
        return self.decide("Bash", {"command": command}, **kwargs)

    def screen(self, prompt: str) -> PromptScreening:
        return self.service.screen_prompt(
            PromptSubmission("claude-code", self.session, prompt, str(self.project))
        )


def make_sandbox(tmp_path: Path, monkeypatch: Any) -> Sandbox:
    user_home = tmp_path / "home" / "user"
    project = user_home / "proj"
    (project / "src").mkdir(parents=True)
    (project / "src" / "app.py").write_text("print('hi')\n")
    monkeypatch.setenv("HOME", str(user_home))
    stockade_home = user_home / ".stockade"
    stockade_home.mkdir(mode=0o700)
    box = Sandbox(user_home=user_home, project=project, home=Home(stockade_home))
    box.configure("")
    return box
