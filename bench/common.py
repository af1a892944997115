"""Shared benchmark plumbing: percentiles, a temporary world, and result output."""

from __future__ import annotations

import json
import os
import statistics
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.daemon_support import tool_call

RESULTS = Path(__file__).parent / "results"


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def median(samples: list[float]) -> float:
    return statistics.median(samples)


@dataclass
class World:
    """A user home with a project and a private $STOCKADE_HOME, all in a temp dir."""

    root: Path
    user_home: Path
    project: Path
    stockade_home: Path

    def read_call(self) -> dict[str, Any]:
        """The call the throughput benchmarks decide: a read of the project's own file
        (allowed, and audited like any decision)."""
        project = str(self.project)
        target = str(self.project / "src" / "app.py")
        return tool_call(
            "bench", tool_input={"file_path": target}, cwd=project, project_root=project
        )


@contextmanager
def temporary_world() -> Iterator[World]:
    with tempfile.TemporaryDirectory(prefix="stockade-bench-") as tmp:
        root = Path(tmp)
        user_home = root / "home"
        project = user_home / "proj"
        (project / "src").mkdir(parents=True)
        (project / "src" / "app.py").write_text("print('hi')\n")
        stockade_home = user_home / ".stockade"
        stockade_home.mkdir(mode=0o700)
        old_home = os.environ.get("HOME")
        os.environ["HOME"] = str(user_home)
        try:
            yield World(root, user_home, project, stockade_home)
        finally:
            if old_home is not None:
                os.environ["HOME"] = old_home


def write_result(name: str, data: dict[str, object]) -> Path:
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(data, indent=2) + "\n")
    return path
