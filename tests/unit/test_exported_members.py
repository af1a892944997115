"""The public names of the package are pinned, and each one resolves."""

from __future__ import annotations

import stockade


def test_public_names_are_pinned() -> None:
    assert sorted(stockade.__all__) == [
        "Decision",
        "PromptSubmission",
        "StockadeError",
        "ToolCall",
        "Verdict",
        "Zone",
        "__version__",
    ]
    for name in stockade.__all__:
        assert getattr(stockade, name) is not None
