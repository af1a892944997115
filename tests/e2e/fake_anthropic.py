"""A fake Anthropic Messages API (``POST /v1/messages``, SSE) that drives the real Claude Code.

Claude Code reaches it through ``ANTHROPIC_BASE_URL`` (:func:`client_env`). Each scripted
turn is a list of tool calls the model makes in one reply; :func:`tool_use` builds one.
Claude Code runs the calls (or a hook blocks them) and sends the results back as
``tool_result`` content blocks of the next request, which
:meth:`FakeAnthropicServer.tool_results` collects by ``tool_use_id``.

Claude Code also sends side requests (a session title, a quota probe) to the same
endpoint; only requests that carry the conversation's tools consume a scripted turn.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterator
from typing import Any

from tests.e2e.fake_model import FakeModelServer, sse

ToolUse = dict[str, Any]
Turn = list[ToolUse]
LazyTurn = Callable[[], Turn]
"""A turn built only when its request arrives, to change the world between two turns."""
_ids = itertools.count(1)


def tool_use(name: str, tool_input: dict[str, Any], tool_use_id: str | None = None) -> ToolUse:
    """One ``tool_use`` block: the model calls Claude Code's tool ``name`` with ``tool_input``."""
    return {
        "type": "tool_use",
        "id": tool_use_id or f"toolu_{next(_ids):04d}",
        "name": name,
        "input": tool_input,
    }


def client_env(base_url: str) -> dict[str, str]:
    """The environment that points Claude Code at the fake server and keeps it offline."""
    return {
        "ANTHROPIC_BASE_URL": base_url,
        "ANTHROPIC_API_KEY": "sk-ant-fake",  # the fake server takes any key
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
        "DISABLE_TELEMETRY": "1",
        "DISABLE_AUTOUPDATER": "1",
        "DISABLE_ERROR_REPORTING": "1",
    }


class FakeAnthropicServer(FakeModelServer):
    """Scripted Messages turns; each conversation request consumes the next one."""

    def wants_turn(self, path: str, body: dict[str, Any]) -> bool:
        return path.split("?")[0].endswith("/messages") and bool(body.get("tools"))

    def respond(
        self, path: str, body: dict[str, Any], turn: Turn | LazyTurn | None
    ) -> Iterator[bytes]:
        if callable(turn):
            turn = turn()
        blocks: list[dict[str, Any]] = turn or [{"type": "text", "text": self.final_text}]
        message = {
            "id": f"msg_{next(_ids):04d}",
            "type": "message",
            "role": "assistant",
            "model": body.get("model", "claude-fake"),
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {"input_tokens": 1, "output_tokens": 1},
        }
        yield sse("message_start", {"type": "message_start", "message": message})
        for index, block in enumerate(blocks):
            yield from _content_block(index, block)
        stop_reason = "tool_use" if turn else "end_turn"
        delta = {"stop_reason": stop_reason, "stop_sequence": None}
        yield sse(
            "message_delta",
            {"type": "message_delta", "delta": delta, "usage": {"output_tokens": 1}},
        )
        yield sse("message_stop", {"type": "message_stop"})

    def tool_results(self) -> dict[str, str]:
        """What Claude Code told the model each call returned, by ``tool_use_id``."""
        results: dict[str, str] = {}
        # Every request repeats the whole conversation: keep each call id once.
        for body in self.received():
            for message in body.get("messages", []):
                content = message.get("content") if isinstance(message, dict) else None
                for block in content if isinstance(content, list) else []:
                    if isinstance(block, dict) and block.get("type") == "tool_result":
                        results.setdefault(str(block.get("tool_use_id")), _text_of(block))
        return results


def _content_block(index: int, block: dict[str, Any]) -> Iterator[bytes]:
    """One content block streamed as start, delta(s), stop — as the real API does."""
    if block["type"] == "tool_use":
        start = {**block, "input": {}}
        delta = {"type": "input_json_delta", "partial_json": json.dumps(block["input"])}
    else:
        start = {"type": "text", "text": ""}
        delta = {"type": "text_delta", "text": block["text"]}
    yield sse(
        "content_block_start",
        {"type": "content_block_start", "index": index, "content_block": start},
    )
    yield sse(
        "content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta}
    )
    yield sse("content_block_stop", {"type": "content_block_stop", "index": index})


def _text_of(block: dict[str, Any]) -> str:
    """A ``tool_result``'s text, prefixed ``[error] `` when Claude Code marked it an error."""
    content = block.get("content")
    if isinstance(content, list):
        text = "".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    else:
        text = str(content or "")
    return f"[error] {text}" if block.get("is_error") else text
