"""A lean load generator: N keep-alive connections, pre-encoded requests.

The Python ``http.client`` in threads costs more CPU per request than the daemon
does, and on a 2-core machine the client then starves the server. This one runs
in its own process on asyncio, sends bytes prepared once, and reads responses by
``Content-Length``, so the figure measures the daemon.

    python -m bench.loadgen SOCKET BODY_JSON --connections 16 --per-connection 500
    python -m bench.loadgen 127.0.0.1:PORT BODY_JSON --token-file HOME/gateway.token

A target with a colon is the TCP gateway (plain HTTP on loopback; each request
carries the bearer token read from ``--token-file``); anything else is a Unix socket.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

try:
    import uvloop
except ImportError:  # pragma: no cover - uvloop is a dependency on Linux
    uvloop = None  # type: ignore[assignment]


def encode_request(
    path: str, body: bytes, host: str = "stockade", token: str | None = None
) -> bytes:
    auth = "" if token is None else f"Authorization: Bearer {token}\r\n"
    head = (
        f"POST /api/v1{path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
        f"{auth}Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def _open(target: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    if ":" in target:
        host, _, port = target.rpartition(":")
        return await asyncio.open_connection(host.strip("[]"), int(port))
    return await asyncio.open_unix_connection(target)


async def _connection(target: str, requests: list[bytes], latencies: list[float]) -> None:
    reader, writer = await _open(target)
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
    target: str,
    path: str,
    bodies: list[dict[str, object]],
    per_conn: int,
    token: str | None = None,
) -> dict[str, float]:
    latencies: list[float] = []
    host = target if ":" in target else "stockade"
    started = time.perf_counter()
    async with asyncio.TaskGroup() as group:
        for body in bodies:
            request = encode_request(path, json.dumps(body).encode(), host, token)
            group.create_task(_connection(target, [request] * per_conn, latencies))
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "n": len(latencies),
        "p50_us": round(latencies[len(latencies) // 2], 1),
        "p99_us": round(latencies[int(len(latencies) * 0.99)], 1),
        "rps": round(len(latencies) / elapsed, 1),
    }


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(
    target: str,
    body: dict[str, object],
    connections: int,
    per_conn: int,
    token_file: Path | None = None,
    daemon_pid: int | None = None,
) -> dict[str, float]:
    """One load-generator run in its own process (a client that does not starve the daemon
    of the second core); its figures. With ``daemon_pid``, also the daemon's CPU time per
    request (``cpu_us``): the daemon is bound by one core (its GIL), so its throughput is
    about a million over that figure, whatever the host's speed."""
    extra = [] if token_file is None else ["--token-file", str(token_file)]
    cpu_before = None if daemon_pid is None else cpu_seconds(daemon_pid)
    output = subprocess.run(
        [sys.executable, "-m", "bench.loadgen", target, json.dumps(body), *extra]
        + ["--connections", str(connections), "--per-connection", str(per_conn)],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).parent.parent,
    )
    row: dict[str, float] = json.loads(output.stdout)
    if daemon_pid is not None and cpu_before is not None:
        used = cpu_seconds(daemon_pid) - cpu_before
        row["cpu_us"] = round(used * 1e6 / row["n"], 1)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("target", help="a Unix socket path, or HOST:PORT of the gateway")
    parser.add_argument("body", help="JSON body; session_id gets a per-connection suffix")
    parser.add_argument("--token-file", help="the gateway token (for a HOST:PORT target)")
    parser.add_argument("--path", default="/decide")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--per-connection", type=int, default=500)
    args = parser.parse_args()
    template = json.loads(args.body)
    bodies = [{**template, "session_id": f"load-{i}"} for i in range(args.connections)]
    token = None
    if args.token_file:
        with open(args.token_file, encoding="ascii") as handle:
            token = handle.read().strip()
    runner = uvloop.run if uvloop is not None else asyncio.run
    print(json.dumps(runner(run(args.target, args.path, bodies, args.per_connection, token))))


if __name__ == "__main__":
    main()
