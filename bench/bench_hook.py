"""Per-tool-call overhead of the hook as a whole process, against a do-nothing Python hook.

Both read the same Claude Code PreToolUse JSON on stdin and print an answer; the shim
also asks a running daemon, which decides and makes the decision durable. Issue 3's
target: the shim's median within 1.5× of the do-nothing hook's, measured in one run.

The two commands alternate, so that load from elsewhere on the machine falls on both
alike. The package's bytecode is compiled first, as an installed package's is: with
``PYTHONDONTWRITEBYTECODE`` set, an editable install would otherwise recompile the
shim's modules on every call and measure the compiler instead.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from tests.daemon_support import DaemonProcess

import stockade
from bench.common import median, percentile, temporary_world, write_result
from stockade.home import Home

DO_NOTHING = "import json, sys; json.load(sys.stdin); print('{}')"


def _time_alternating(
    commands: list[list[str]], stdin: bytes, env: dict[str, str], runs: int
) -> list[list[float]]:
    samples: list[list[float]] = [[] for _ in commands]
    for _ in range(runs):
        for command, times in zip(commands, samples, strict=True):
            started = time.perf_counter()
            subprocess.run(command, input=stdin, env=env, capture_output=True, check=True)
            times.append((time.perf_counter() - started) * 1000)
    return samples


def main() -> dict[str, object]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=40)
    args = parser.parse_args([] if __name__ != "__main__" else None)
    stockade_exe = str(Path(sys.executable).with_name("stockade"))
    compileall.compile_dir(Path(stockade.__file__).parent, quiet=1)
    with temporary_world() as world:
        home = Home(world.stockade_home)
        process = DaemonProcess(home, world.root / "daemon.log").start()
        event = {
            "session_id": "bench-hook",
            "transcript_path": "/dev/null",
            "cwd": str(world.project),
            "hook_event_name": "PreToolUse",
            "tool_name": "Bash",
            "tool_input": {"command": "pytest -q"},
            "tool_use_id": "toolu_bench",
        }
        stdin = json.dumps(event).encode()
        env = {**os.environ, "STOCKADE_HOME": str(home.root)}
        try:
            answer = subprocess.run(
                [stockade_exe, "hook", "claude-code"], input=stdin, env=env, capture_output=True
            )
            decision = json.loads(answer.stdout)["hookSpecificOutput"]["permissionDecision"]
            commands = [[sys.executable, "-c", DO_NOTHING], [stockade_exe, "hook", "claude-code"]]
            _time_alternating(commands, stdin, env, 5)  # warm the page cache
            baseline, shim = _time_alternating(commands, stdin, env, args.runs)
        finally:
            process.stop()
    result: dict[str, object] = {
        "bench": "hook",
        "decision": decision,
        "do_nothing_ms": {
            "p50": round(median(baseline), 1),
            "p99": round(percentile(baseline, 99), 1),
        },
        "shim_ms": {"p50": round(median(shim), 1), "p99": round(percentile(shim, 99), 1)},
        "ratio_p50": round(median(shim) / median(baseline), 2),
    }
    print(f"do-nothing python hook  p50 {median(baseline):6.1f} ms")
    print(f"stockade hook (decide)  p50 {median(shim):6.1f} ms   ratio {result['ratio_p50']}×")
    print(json.dumps(result))
    write_result("hook", result)
    return result


if __name__ == "__main__":
    main()
