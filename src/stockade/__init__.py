"""Stockade: a local-first security daemon for AI agents. Agents ask, the daemon decides."""

from stockade.decision import Decision, Verdict, Zone
from stockade.errors import StockadeError
from stockade.request import PromptSubmission, ToolCall

__version__ = "0.1.0"

__all__ = [
    "Decision",
    "PromptSubmission",
    "StockadeError",
    "ToolCall",
    "Verdict",
    "Zone",
    "__version__",
]
