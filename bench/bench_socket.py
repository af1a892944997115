"""Decide round-trips over the real Unix socket: latency for one client, throughput for many.

Starts a daemon on a throwaway home, then measures, with keep-alive clients:
``/health`` (transport floor), ``/check`` (+ validation and the engine) and
``/decide`` (+ a durable audit append) from one client, and ``/decide`` from
``--threads`` concurrent clients, in threads and with the load generator (the median
of ``--loadgen-runs`` runs, with the slowest and fastest beside it, and the daemon's
CPU time per decision in that run). Prints a table and one JSON line; asserts nothing.

    .venv/bin/python -m bench.bench_socket [--requests 2000] [--threads 16]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from typing import Any

from tests.daemon_support import DaemonProcess

from bench import loadgen
from bench.common import median, percentile, temporary_world, write_result
from stockade.client import Client
from stockade.home import Home


def _sequential(client: Client, method: str, path: str, body: Any, count: int) -> dict[str, float]:
    latencies: list[float] = []
    started = time.perf_counter()
    for _ in range(count):
        t0 = time.perf_counter()
        client.request(method, path, body)
        latencies.append((time.perf_counter() - t0) * 1e6)
    elapsed = time.perf_counter() - started
    return _summary(latencies, elapsed)


def _concurrent(
    process: DaemonProcess, body: dict[str, Any], threads: int, per_thread: int
) -> dict[str, float]:
    latencies: list[list[float]] = [[] for _ in range(threads)]
    barrier = threading.Barrier(threads + 1)

    def worker(index: int) -> None:
        with process.client(timeout=60) as client:
            client.request("GET", "/health")
            mine = {**body, "session_id": f"bench-{index}"}
            barrier.wait()
            for _ in range(per_thread):
                t0 = time.perf_counter()
                client.request("POST", "/decide", mine)
                latencies[index].append((time.perf_counter() - t0) * 1e6)

    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for thread in pool:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in pool:
        thread.join()
    elapsed = time.perf_counter() - started
    return _summary([x for per in latencies for x in per], elapsed)


def _summary(latencies_us: list[float], elapsed_s: float) -> dict[str, float]:
    return {
        "n": len(latencies_us),
        "p50_us": round(median(latencies_us), 1),
        "p99_us": round(percentile(latencies_us, 99), 1),
        "max_us": round(max(latencies_us), 1),
        "rps": round(len(latencies_us) / elapsed_s, 1),
    }


def main() -> dict[str, object]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=2000, help="per single-client scenario")
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--per-thread", type=int, default=250)
    parser.add_argument("--loadgen-runs", type=int, default=5, help="the median run is reported")
    args = parser.parse_args([]) if __name__ != "__main__" else parser.parse_args()

    results: dict[str, dict[str, float]] = {}
    with temporary_world() as world:
        home = Home(world.stockade_home)
        process = DaemonProcess(home, world.root / "daemon.log").start()
        body = world.read_call()
        try:
            with process.client() as client:
                verdict = client.request("POST", "/check", body)["verdict"]
                _sequential(client, "POST", "/decide", body, 200)  # warm-up
                results["health"] = _sequential(client, "GET", "/health", None, args.requests)
                results["check"] = _sequential(client, "POST", "/check", body, args.requests)
                results["decide"] = _sequential(client, "POST", "/decide", body, args.requests)
            name = f"decide x{args.threads} threads"
            results[name] = _concurrent(process, body, args.threads, args.per_thread)
            # A burst of host noise can halve one ~2 s run: report the median of several.
            runs = [
                loadgen.measure(
                    str(home.socket_path),
                    body,
                    args.threads,
                    args.per_thread * 2,
                    daemon_pid=process.pid,
                )
                for _ in range(args.loadgen_runs)
            ]
            runs.sort(key=lambda run: run["rps"])
            loaded = {**runs[len(runs) // 2], "max_us": float("nan")}
            loaded["rps_min"], loaded["rps_max"] = runs[0]["rps"], runs[-1]["rps"]
            results[f"decide x{args.threads} conns (loadgen)"] = loaded
        finally:
            process.stop()

    print(f"{'scenario':<22}{'n':>7}{'p50 us':>10}{'p99 us':>10}{'max us':>10}{'req/s':>10}")
    for scenario, row in results.items():
        print(
            f"{scenario:<22}{row['n']:>7}{row['p50_us']:>10}{row['p99_us']:>10}"
            f"{row['max_us']:>10}{row['rps']:>10}"
        )
    loaded = results[f"decide x{args.threads} conns (loadgen)"]
    print(
        f"daemon CPU per durable decision (median run): {loaded['cpu_us']} us"
        f" (one core's worth: {1e6 / loaded['cpu_us']:,.0f} decisions/s)"
    )
    result: dict[str, object] = {
        "bench": "socket",
        "cpus": os.cpu_count(),
        "python": sys.version.split()[0],
        "verdict": verdict,
        "results": results,
    }
    print(json.dumps(result))
    write_result("socket", result)
    return result


if __name__ == "__main__":
    main()
