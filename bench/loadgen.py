"""A lean load generator: N keep-alive connections on the Unix socket, pre-encoded requests.

The Python ``http.client`` in threads costs more CPU per request than the daemon
does, and on a 2-core machine the client then starves the server. This one runs
in its own process on asyncio, sends bytes prepared once, and reads responses by
``Content-Length``, so the figure measures the daemon.

    python -m bench.loadgen SOCKET --connections 16 --requests 8000 BODY_JSON
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time

try:
    import uvloop
except ImportError:  # pragma: no cover - uvloop is a dependency on Linux
    uvloop = None  # type: ignore[assignment]


def encode_request(path: str, body: bytes) -> bytes:
    head = (
        f"POST /api/v1{path} HTTP/1.1\r\nHost: stockade\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def _connection(socket_path: str, requests: list[bytes], latencies: list[float]) -> None:
    reader, writer = await asyncio.open_unix_connection(socket_path)
    try:
        for request in requests:
            started = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            if not head.startswith(b"HTTP/1.1 200"):
                raise RuntimeError(head.split(b"\r\n", 1)[0].decode())
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            await reader.readexactly(length)
            latencies.append((time.perf_counter() - started) * 1e6)
    finally:
        writer.close()


async def run(
    socket_path: str, path: str, bodies: list[dict[str, object]], per_conn: int
) -> dict[str, float]:
    latencies: list[float] = []
    tasks = []
    started = time.perf_counter()
    async with asyncio.TaskGroup() as group:
        for body in bodies:
            request = encode_request(path, json.dumps(body).encode())
            tasks.append(
                group.create_task(_connection(socket_path, [request] * per_conn, latencies))
            )
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "n": len(latencies),
        "p50_us": round(latencies[len(latencies) // 2], 1),
        "p99_us": round(latencies[int(len(latencies) * 0.99)], 1),
        "rps": round(len(latencies) / elapsed, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("socket")
    parser.add_argument("body", help="JSON body; session_id gets a per-connection suffix")
    parser.add_argument("--path", default="/decide")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--per-connection", type=int, default=500)
    args = parser.parse_args()
    template = json.loads(args.body)
    bodies = [{**template, "session_id": f"load-{i}"} for i in range(args.connections)]
    runner = uvloop.run if uvloop is not None else asyncio.run
    print(json.dumps(runner(run(args.socket, args.path, bodies, args.per_connection))))


if __name__ == "__main__":
    main()
