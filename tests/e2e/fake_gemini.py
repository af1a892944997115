"""A fake Gemini API (``streamGenerateContent`` over SSE) for driving the real Gemini CLI.

The CLI reaches it through ``GOOGLE_GEMINI_BASE_URL``. Run the CLI with a fixed model
(``-m gemini-2.5-flash``): without one it first asks a "router" model through the
non-streaming ``generateContent``, which this server does not script.

Each scripted turn is a list of response *parts*; :func:`call` builds the usual one, a
single ``functionCall``. The CLI runs the tool (or a hook blocks it) and sends the
result back as a ``functionResponse`` part in its next request, which
:meth:`FakeGeminiServer.function_responses` collects.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from tests.e2e.fake_model import FakeModelServer, sse

Turn = list[dict[str, Any]]


def call(tool: str, **args: Any) -> Turn:
    """A model turn that calls ``tool`` with ``args``."""
    return [{"functionCall": {"name": tool, "args": args}}]


class FakeGeminiServer(FakeModelServer):
    """Scripted Gemini turns; every streaming request consumes the next one.

    ``before_reply`` runs before each streamed reply: something that must happen after
    the prompt reached the model and before its tool call reaches the hooks.
    """

    def __init__(
        self,
        turns: Iterable[Turn] = (),
        final_text: str = "done",
        before_reply: Callable[[], None] | None = None,
    ) -> None:
        super().__init__(turns, final_text)
        self.before_reply = before_reply

    def wants_turn(self, path: str, body: dict[str, Any]) -> bool:
        return ":streamGenerateContent" in path

    def content_type(self, path: str) -> str:
        return "text/event-stream" if ":streamGenerateContent" in path else "application/json"

    def respond(self, path: str, body: dict[str, Any], turn: Turn | None) -> Iterator[bytes]:
        parts = turn if turn is not None else [{"text": self.final_text}]
        chunk = {
            "candidates": [
                {"content": {"role": "model", "parts": parts}, "finishReason": "STOP", "index": 0}
            ],
            "usageMetadata": {
                "promptTokenCount": 1,
                "candidatesTokenCount": 1,
                "totalTokenCount": 2,
            },
        }
        if ":streamGenerateContent" in path:
            if self.before_reply is not None:
                self.before_reply()
            yield sse(None, chunk)
        else:
            yield json.dumps(chunk).encode()

    def function_responses(self, tool: str | None = None) -> list[dict[str, Any]]:
        """The ``response`` objects the CLI sent back for tool calls (of ``tool``), in order."""
        found: list[dict[str, Any]] = []
        seen: set[str] = set()
        # Every request repeats the whole conversation: keep each call id once.
        for body in self.received():
            for content in body.get("contents", []):
                for part in content.get("parts", []):
                    answer = part.get("functionResponse")
                    if not answer or answer.get("id") in seen:
                        continue
                    seen.add(answer.get("id"))
                    if tool is None or answer.get("name") == tool:
                        found.append(answer["response"])
        return found
