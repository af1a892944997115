"""One JSON request to the daemon over its Unix socket, with nothing but ``_socket``.

The shim runs once per agent tool call, and ``http.client`` costs ~40 ms to import
(it loads ``ssl`` and the ``email`` package), which is longer than the decision. The
only peer here is Stockade's own daemon, so the exchange is narrow: one HTTP/1.1
request with ``Connection: close``, a reply read to EOF and framed by
``Content-Length``. Anything else is a malformed reply, which the shim turns into a
blocking answer. The CLI keeps using :mod:`stockade.client`.

It uses the C module ``_socket`` that :mod:`socket` wraps: the wrapper adds only
conveniences this exchange does not need, and importing it (with ``selectors``)
costs a few milliseconds more on every tool call.
"""

from __future__ import annotations

import _socket
import json

from stockade.errors import DaemonUnavailable, StockadeError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

MAX_REPLY_BYTES = 4 * 1024 * 1024
MAX_BODY_BYTES = 1024 * 1024
"""The daemon's request limit (``docs/api.md``): a bigger body is refused before it is sent."""


def post_json(socket_path: str, path: str, body: Mapping[str, Any], timeout: float) -> Any:
    """POST ``body`` to ``/api/v1{path}``; the decoded JSON of a 2xx reply, else raise."""
    payload = json.dumps(body, separators=(",", ":")).encode()
    if len(payload) > MAX_BODY_BYTES:
        raise StockadeError(
            f"the request is larger than the {MAX_BODY_BYTES // (1024 * 1024)} MiB "
            "the daemon inspects",
            "the harness sent more than Stockade can inspect at once",
        )
    head = (
        f"POST /api/v1{path} HTTP/1.1\r\nHost: stockade\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n"
        "Connection: close\r\n\r\n"
    )
    sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    try:
        sock.settimeout(timeout)
        try:
            sock.connect(socket_path)
        except OSError as exc:  # missing, refused, not a socket, permission
            raise DaemonUnavailable(
                f"no daemon answers on {socket_path} ({exc.strerror or type(exc).__name__})"
            ) from None
        sock.sendall(head.encode() + payload)
        reply = _read_all(sock)
    finally:
        sock.close()
    return _decode(reply)


def _read_all(sock: _socket.socket) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > MAX_REPLY_BYTES:
            raise StockadeError("the daemon's reply is too large")
        chunks.append(chunk)


def _decode(reply: bytes) -> Any:
    head, separator, rest = reply.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status_line = lines[0].split(b" ", 2)
    if not separator or len(status_line) < 2 or not status_line[0].startswith(b"HTTP/1."):
        raise StockadeError("the daemon's reply is not HTTP")
    try:
        status = int(status_line[1])
    except ValueError:
        raise StockadeError("the daemon's reply has no status code") from None
    length: int | None = None
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"transfer-encoding":
            raise StockadeError("the daemon's reply uses an unexpected transfer encoding")
        if name == b"content-length":
            try:
                length = int(value.strip())
            except ValueError:
                raise StockadeError("the daemon's reply has a bad Content-Length") from None
    if length is None or len(rest) < length:
        raise StockadeError("the daemon's reply is truncated")
    try:
        document = json.loads(rest[:length])
    except ValueError:
        raise StockadeError("the daemon's reply is not JSON") from None
    if not 200 <= status < 300:
        error = document.get("error") if isinstance(document, dict) else None
        message = error.get("message") if isinstance(error, dict) else None
        raise StockadeError(f"the daemon refused the request ({status}: {message or 'no detail'})")
    return document
