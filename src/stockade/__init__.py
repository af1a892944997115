"""Stockade: a local-first security daemon for AI agents. Agents ask, the daemon decides.

Public names are loaded on first use: the hook shim imports ``stockade.*`` once per
agent tool call and must not pay for modules it does not need, not even ``typing``
(a local ``TYPE_CHECKING`` constant, which mypy honours, stands in for it).
"""

from __future__ import annotations

TYPE_CHECKING = False

__version__ = "0.1.0"

_EXPORTS = {
    "Decision": "stockade.decision",
    "Verdict": "stockade.decision",
    "Zone": "stockade.decision",
    "StockadeError": "stockade.errors",
    "PromptSubmission": "stockade.request",
    "ToolCall": "stockade.request",
}

__all__ = [
    "Decision",
    "PromptSubmission",
    "StockadeError",
    "ToolCall",
    "Verdict",
    "Zone",
    "__version__",
]

if TYPE_CHECKING:
    from typing import Any

    from stockade.decision import Decision, Verdict, Zone
    from stockade.errors import StockadeError
    from stockade.request import PromptSubmission, ToolCall


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'stockade' has no attribute {name!r}")
    return getattr(__import__(module, fromlist=[name]), name)
