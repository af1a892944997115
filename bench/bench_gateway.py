"""The TCP gateway: durable decisions/s over HTTP beside the socket, and held call → open UI.

One daemon serves both its Unix socket and its gateway on 127.0.0.1. The load
generator (16 keep-alive connections, every decision durable before it is answered)
runs against the two in turn, ``--runs`` times each, interleaved so that host noise
falls on both alike; the medians and their ratio are reported.

Then the control UI is opened in Debian's Chromium (headless, driven by Playwright)
and logged in; ``--holds`` times a call is held over the socket and the time until it
shows in the open inbox is taken (the event stream, the UI's refresh of the inbox and
its rendering, as a person would see it). Skipped, and said so, without Chromium.

    .venv/bin/python -m bench.bench_gateway [--runs 3] [--holds 10]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from tests.browser.support import CHROMIUM, CHROMIUM_ARGS, LAPTOP, HeldCall, UiPage
from tests.daemon_support import DaemonProcess, free_port

from bench import loadgen
from bench.common import median, percentile, temporary_world, write_result
from stockade.home import Home

CONNECTIONS = 16
PER_CONNECTION = 500


def _throughput(
    process: DaemonProcess, port: int, body: dict[str, Any], runs: int
) -> dict[str, Any]:
    targets = {
        "socket": (str(process.home.socket_path), None),
        "gateway": (f"127.0.0.1:{port}", process.home.root / "gateway.token"),
    }
    measured: dict[str, list[float]] = {name: [] for name in targets}
    for _ in range(runs):
        for name, (target, token_file) in targets.items():
            row = loadgen.measure(target, body, CONNECTIONS, PER_CONNECTION, token_file)
            measured[name].append(row["rps"])
    socket_rps, gateway_rps = median(measured["socket"]), median(measured["gateway"])
    return {
        "socket_rps": round(socket_rps),
        "gateway_rps": round(gateway_rps),
        "gateway_vs_socket": round(gateway_rps / socket_rps, 2),
        "runs": measured,
    }


def _held_to_ui(process: DaemonProcess, port: int, project: Path, holds: int) -> dict[str, Any]:
    """Milliseconds from sending a held call to its row in the open inbox."""
    from playwright.sync_api import sync_playwright

    base_url = f"http://127.0.0.1:{port}"
    token = (process.home.root / "gateway.token").read_text().strip()
    latencies_ms: list[float] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            ui = UiPage.open(browser, base_url, LAPTOP)
            ui.goto_home()
            ui.login(token)
            for index in range(holds):
                command = f"curl -s https://api.example.com/item/{index}"
                started = time.perf_counter()
                held = HeldCall(process, f"bench-ui-{index}", command, str(project))
                ui.held(command)
                latencies_ms.append((time.perf_counter() - started) * 1000)
                with process.client() as client:
                    for pending in client.request("GET", "/approvals")["approvals"]:
                        client.request("POST", f"/approvals/{pending['id']}/deny", {})
                held.result()
        finally:
            browser.close()
    return {
        "holds": holds,
        "p50_ms": round(median(latencies_ms), 1),
        "p90_ms": round(percentile(latencies_ms, 90), 1),
        "max_ms": round(max(latencies_ms), 1),
    }


def main() -> dict[str, object]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3, help="load-generator runs per listener")
    parser.add_argument("--holds", type=int, default=10, help="held calls timed into the UI")
    args = parser.parse_args([]) if __name__ != "__main__" else parser.parse_args()

    with temporary_world() as world:
        home = Home(world.stockade_home)
        port = free_port()
        process = DaemonProcess(home, world.root / "daemon.log", http=f"127.0.0.1:{port}")
        process.start()
        body = world.read_call()
        try:
            throughput = _throughput(process, port, body, args.runs)
            ui: dict[str, Any] | str
            if Path(CHROMIUM).exists():
                ui = _held_to_ui(process, port, world.project, args.holds)
            else:
                ui = f"skipped: {CHROMIUM} is not installed"
        finally:
            process.stop()

    result: dict[str, object] = {
        "bench": "gateway",
        "cpus": os.cpu_count(),
        "python": sys.version.split()[0],
        "connections": CONNECTIONS,
        "throughput": throughput,
        "held_to_ui": ui,
    }
    print(json.dumps(result))
    write_result("gateway", result)
    return result


if __name__ == "__main__":
    main()
