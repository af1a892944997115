"""A scripted fake model server on 127.0.0.1, the base of every harness's fake API.

The real harness CLIs run offline against it: each protocol module (Anthropic
Messages, OpenAI Responses, Gemini) subclasses :class:`FakeModelServer` and turns the
next scripted *turn* into that API's streaming reply. Every request body is kept in
``requests`` so a test can assert what the model was told (for example, the reason
Stockade gave for a deny, which the harness hands back as the tool result).

This stands in for a hosted model, which cannot be reached from here; everything else
in these tests (the CLI, its hooks, the shim, the daemon, the socket) is real.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self


class FakeModelServer:
    """Serve scripted turns; after the script runs out, answer with ``final_text``."""

    def __init__(self, turns: Iterable[Any] = (), final_text: str = "done") -> None:
        self.turns: list[Any] = list(turns)
        self.final_text = final_text
        self.requests: list[dict[str, Any]] = []
        self.paths: list[str] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    # --- what a protocol module implements --------------------------------------------

    def respond(self, path: str, body: dict[str, Any], turn: Any | None) -> Iterator[bytes]:
        """The streamed reply to one request; ``turn`` is ``None`` when the script is done."""
        raise NotImplementedError

    def content_type(self, path: str) -> str:
        return "text/event-stream"

    def wants_turn(self, path: str, body: dict[str, Any]) -> bool:
        """Whether this request consumes a scripted turn (side requests, like titles, don't)."""
        return True

    # --- lifecycle ----------------------------------------------------------------------

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def next_turn(self, path: str, body: dict[str, Any]) -> Any | None:
        with self._lock:
            self.requests.append(body)
            self.paths.append(path)
            if not self.wants_turn(path, body) or not self.turns:
                return None
            return self.turns.pop(0)

    def received(self) -> list[dict[str, Any]]:
        """The request bodies so far, oldest first (a copy: handler threads may still add)."""
        with self._lock:
            return list(self.requests)

    def transcript(self) -> str:
        """Every request body as one JSON text, to search for what the model was told."""
        return json.dumps(self.received())

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                self._send(404, b'{"error":"not found"}', "application/json")

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw) if raw else {}
                except ValueError:
                    body = {"_raw": raw.decode(errors="replace")}
                turn = server.next_turn(self.path, body)
                chunks = b"".join(server.respond(self.path, body, turn))
                self._send(200, chunks, server.content_type(self.path))

            def _send(self, status: int, data: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(data)
                self.close_connection = True

        return Handler


def sse(event: str | None, data: Any) -> bytes:
    """One Server-Sent Event; ``event`` ``None`` sends a data-only event."""
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {json.dumps(data)}\n\n".encode()
