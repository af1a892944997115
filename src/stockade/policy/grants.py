"""The seam through which a restricted agent's capability grants reach the engine.

The engine stays pure: it does not know where grants come from, how they are signed
or when they expire. The daemon hands it the verified, live grants of the call's agent
(:class:`stockade.caps.match.GrantSet`), or nothing for an agent that is not
capability-restricted. Grants only narrow: a call they do not cover is denied, and a
call they cover is still judged by the policy.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from stockade.policy.rules import CallFacts
from stockade.request import ToolCall

MISSING_RULE = "cap:missing"


class Grants(Protocol):
    """One agent's grants, ready to judge calls."""

    def missing(self, call: ToolCall, action: str, facts: Sequence[CallFacts]) -> str | None:
        """Why the grants do not cover ``call`` (naming the missing grant), else ``None``."""
        ...
