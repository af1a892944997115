"""A fake OpenAI Responses API (``POST /v1/responses`` over SSE) for driving the real Codex CLI.

Codex reaches it through a custom model provider in ``$CODEX_HOME/config.toml``
(:func:`provider_config`). Each scripted turn is a list of output items; :func:`shell`
builds the usual one, a single ``exec_command`` function call (Codex 0.169's shell
tool: ``{"cmd": "…"}``, run through ``bash -lc``). Codex runs the call (or a hook blocks
it) and sends the result back as a ``function_call_output`` input item in its next
request, which :meth:`FakeOpenAIServer.call_outputs` collects.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterator
from typing import Any

from tests.e2e.fake_model import FakeModelServer, sse

Turn = list[dict[str, Any]]
LazyTurn = Callable[[], Turn]
"""A turn built only when its request arrives, to change the world between two turns."""
_ids = itertools.count(1)


def function_call(name: str, arguments: dict[str, Any], call_id: str | None = None) -> Turn:
    """A model turn that calls the function tool ``name`` with ``arguments``."""
    return _tool_call("function_call", "fc", name, call_id, arguments=json.dumps(arguments))


def custom_call(name: str, text: str, call_id: str | None = None) -> Turn:
    """A model turn that calls the freeform (custom) tool ``name``, e.g. ``apply_patch``."""
    return _tool_call("custom_tool_call", "ctc", name, call_id, input=text)


def _tool_call(
    item_type: str, id_prefix: str, name: str, call_id: str | None, **payload: str
) -> Turn:
    """One completed output item calling ``name``; ``call_id`` is made up when not given."""
    call_id = call_id or f"call_{next(_ids)}"
    item = {"type": item_type, "id": f"{id_prefix}_{call_id}", "call_id": call_id, "name": name}
    return [{**item, **payload, "status": "completed"}]


def shell(command: str, call_id: str | None = None) -> Turn:
    """A model turn that runs ``command`` with Codex's shell tool."""
    return function_call("exec_command", {"cmd": command}, call_id)


def provider_config(base_url: str) -> str:
    """The ``config.toml`` that points Codex at the fake server and turns its telemetry off."""
    return (
        'model = "fake-model"\n'
        'model_provider = "fake"\n'
        "check_for_update_on_startup = false\n"
        "\n"
        "[model_providers.fake]\n"
        'name = "fake"\n'
        f'base_url = "{base_url}/v1"\n'
        'wire_api = "responses"\n'
        'env_key = "FAKE_API_KEY"\n'
        "request_max_retries = 0\n"
        "stream_max_retries = 0\n"
        "\n"
        "[analytics]\n"
        "enabled = false\n"
    )


class FakeOpenAIServer(FakeModelServer):
    """Scripted Responses turns; every ``/responses`` request consumes the next one."""

    def wants_turn(self, path: str, body: dict[str, Any]) -> bool:
        return path.split("?")[0].endswith("/responses")

    def respond(
        self, path: str, body: dict[str, Any], turn: Turn | LazyTurn | None
    ) -> Iterator[bytes]:
        response_id = f"resp_{next(_ids)}"
        if callable(turn):
            turn = turn()
        items = turn if turn is not None else [_message(self.final_text)]
        response = {"id": response_id, "object": "response", "status": "in_progress", "output": []}
        yield sse("response.created", {"type": "response.created", "response": response})
        for index, item in enumerate(items):
            yield sse(
                "response.output_item.done",
                {"type": "response.output_item.done", "output_index": index, "item": item},
            )
        completed = {
            **response,
            "status": "completed",
            "output": items,
            "usage": {
                "input_tokens": 1,
                "input_tokens_details": {"cached_tokens": 0},
                "output_tokens": 1,
                "output_tokens_details": {"reasoning_tokens": 0},
                "total_tokens": 2,
            },
        }
        yield sse("response.completed", {"type": "response.completed", "response": completed})

    def call_outputs(self) -> dict[str, str]:
        """What Codex told the model each call returned, by ``call_id`` (first report kept)."""
        outputs: dict[str, str] = {}
        # Every request repeats the whole conversation: keep each call id once.
        for body in self.received():
            for item in body.get("input", []):
                if isinstance(item, dict) and item.get("type") in _OUTPUT_TYPES:
                    outputs.setdefault(str(item.get("call_id")), _text_of(item.get("output")))
        return outputs


_OUTPUT_TYPES = ("function_call_output", "custom_tool_call_output")


def _message(text: str) -> dict[str, Any]:
    return {
        "type": "message",
        "id": f"msg_{next(_ids)}",
        "role": "assistant",
        "status": "completed",
        "content": [{"type": "output_text", "text": text, "annotations": []}],
    }


def _text_of(output: Any) -> str:
    """A ``function_call_output``'s text: a plain string or a list of content items."""
    if isinstance(output, str):
        return output
    if isinstance(output, list):
        return "".join(str(part.get("text", "")) for part in output if isinstance(part, dict))
    return json.dumps(output)
