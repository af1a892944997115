"""A project's own ``.stockade.toml``: it can tighten policy, never loosen it unasked.

An agent works inside the project, so the project file is partly under the agent's
(or a cloned repository's) control. It may add deny and ask rules, ignore patterns,
a stricter level or a narrower profile. Anything that loosens policy is rejected
with a clear error unless the user ran ``stockade trust DIR`` on that exact content.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from stockade.config.load import parse_toml
from stockade.config.model import Level, Profile, ProjectFile
from stockade.config.trust import PROJECT_FILE, TrustStore
from stockade.decision import Verdict
from stockade.errors import ConfigError


@dataclass(frozen=True, slots=True)
class LoadedProjectFile:
    path: Path
    content: ProjectFile
    sha256: str
    trusted: bool


def loosenings(
    file: ProjectFile, *, level: Level, profile: Profile, workspace_only: bool
) -> list[str]:
    """Every way ``file`` would loosen a policy with the given base settings."""
    found: list[str] = []
    if file.level is not None and file.level.rank < level.rank:
        found.append(f"`level = {file.level.value}` is less strict than {level.value}")
    if file.profile is not None and file.profile.rank > profile.rank:
        found.append(f"`profile = {file.profile.value}` is wider than {profile.value}")
    if file.workspace_only_writes is False and workspace_only:
        found.append("`workspace_only_writes = false` allows writes outside the project")
    if file.tools.allow:
        found.append(f"`tools.allow` adds tools: {', '.join(file.tools.allow)}")
    for index, rule in enumerate(file.rules):
        if rule.verdict is Verdict.ALLOW:
            found.append(f"`rules[{index}]` has verdict allow")
    if file.network.allow_domains:
        found.append("`network.allow_domains` allows hosts")
    if file.network.allow_http:
        found.append("`network.allow_http = true` allows plain http")
    for pattern in file.credentials.patterns:
        if pattern.startswith("!"):
            found.append(f"`credentials.patterns` exempts {pattern[1:]!r} from the credential list")
    return found


def load_project_file(
    root: str, trust: TrustStore, *, level: Level, profile: Profile, workspace_only: bool
) -> LoadedProjectFile | None:
    """Load ``root/.stockade.toml`` if present; raise ConfigError if it loosens untrusted."""
    path = Path(root) / PROJECT_FILE
    if not path.is_file():
        return None
    content, digest = parse_toml(path, ProjectFile)
    trusted = trust.is_trusted(root, digest)
    problems = loosenings(content, level=level, profile=profile, workspace_only=workspace_only)
    if problems and not trusted:
        raise ConfigError(
            f"{path} tries to loosen policy, which a project file may not do:\n  "
            + "\n  ".join(problems),
            f"remove those settings, or if you wrote this file yourself: stockade trust {root}",
        )
    return LoadedProjectFile(path, content, digest, trusted)
