"""The kernel-assisted resolver must give exactly ``os.path.realpath``'s answer."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stockade.policy.paths import _realpath

PARTS = ["a", "b", "c", "..", ".", "lnk", "up", "nope", "file", "dangling", "loop", ""]


def _world(root: Path) -> Path:
    base = root / "w"
    if not base.exists():
        (base / "a" / "b" / "c").mkdir(parents=True)
        (base / "lnk").symlink_to(base / "a" / "b")
        (base / "a" / "up").symlink_to("..")
        (base / "dangling").symlink_to(base / "nowhere" / "x")
        (base / "loop").symlink_to(base / "loop")
        (base / "a" / "file").write_text("")
    return base


@settings(max_examples=400, deadline=None)
@given(parts=st.lists(st.sampled_from(PARTS), min_size=1, max_size=7))
def test_matches_os_realpath(tmp_path_factory: pytest.TempPathFactory, parts: list[str]) -> None:
    base = _world(tmp_path_factory.getbasetemp())
    path = str(base) + "/" + "/".join(parts)
    assert _realpath(path) == os.path.realpath(path)
