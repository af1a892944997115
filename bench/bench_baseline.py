"""Durable decisions/s of this tree against an earlier commit's, in turns on one host.

An absolute figure says little across days here: the same code has run four to five
times slower on some days than on others. Two daemons measured in turns, in the same
minutes, with the same load generator, give a ratio that does carry over: a
commit's figure measured on a good day, times the ratio, estimates this tree's on
such a day.

The earlier commit's ``src/`` comes out of ``git archive``; both daemons are started
the same way (``stockade serve`` through the CLI, which every commit has), each on its
own throwaway home and on this virtual environment. Each round runs the load
generator against one daemon, then the other (their order alternates), and records
decisions/s and the daemon's CPU time per decision; the medians and their ratios are
printed as a table and one JSON line (``bench/results/baseline.json``). Not part of
``python -m bench``: it needs the repository's history.

    .venv/bin/python -m bench.bench_baseline d5bae62 [--rounds 5] [--per-connection 500]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from tests.daemon_support import DaemonProcess, daemon_env

from bench import loadgen
from bench.common import median, temporary_world, write_result
from stockade.home import Home

REPO = Path(__file__).resolve().parent.parent
# `stockade serve` as the console script runs it; its arguments and options have not changed.
_CLI_SERVE = "from stockade.cli.main import app; app(['serve'], prog_name='stockade')"


class TreeDaemon(DaemonProcess):
    """A daemon whose ``stockade`` package is imported from ``src`` (first on the path)."""

    def __init__(self, home: Home, log_path: Path, src: Path, user_home: Path) -> None:
        super().__init__(home, log_path, env={"PYTHONPATH": str(src), "HOME": str(user_home)})
        self.src = src

    def start(self, *, ready_timeout: float = 20.0) -> TreeDaemon:
        env = daemon_env(self.home, self.env)
        imported = subprocess.run(
            [sys.executable, "-c", "import stockade; print(stockade.__file__)"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        if not Path(imported).is_relative_to(self.src):
            raise SystemExit(f"{self.src} is not what `import stockade` finds ({imported})")
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-c", _CLI_SERVE], stdout=log, stderr=subprocess.STDOUT, env=env
            )
        self.wait_ready(ready_timeout)
        return self


@contextmanager
def source_of(revision: str) -> Iterator[Path]:
    """``src/`` of ``revision``, unpacked into a temporary directory."""
    try:
        archive = subprocess.run(
            ["git", "-C", str(REPO), "archive", "--format=tar", revision, "src"],
            capture_output=True,
            check=True,
        ).stdout
    except subprocess.CalledProcessError as exc:
        raise SystemExit(f"git archive {revision}: {exc.stderr.decode().strip()}") from None
    with tempfile.TemporaryDirectory(prefix="stockade-baseline-") as tmp:
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(tmp, filter="data")
        yield Path(tmp) / "src"


def main() -> dict[str, object]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("revision", help="the earlier commit (anything `git archive` takes)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--per-connection", type=int, default=500)
    args = parser.parse_args()

    trees = {"baseline": args.revision, "this tree": "working tree"}
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in trees}
    with ExitStack() as stack:
        sources = {
            "baseline": stack.enter_context(source_of(args.revision)),
            "this tree": REPO / "src",
        }
        daemons: dict[str, TreeDaemon] = {}
        bodies: dict[str, dict[str, object]] = {}
        for name, src in sources.items():
            world = stack.enter_context(temporary_world())
            home = Home(world.stockade_home)
            daemon = TreeDaemon(home, world.root / "daemon.log", src, world.user_home)
            daemons[name] = daemon.start()
            stack.callback(daemon.stop)
            bodies[name] = world.read_call()
        for name, daemon in daemons.items():  # warm-up: imports, caches, the log's first pages
            loadgen.measure(str(daemon.home.socket_path), bodies[name], args.connections, 100)
        for round_ in range(args.rounds):
            order = list(daemons) if round_ % 2 == 0 else list(reversed(daemons))
            for name in order:
                daemon = daemons[name]
                runs[name].append(
                    loadgen.measure(
                        str(daemon.home.socket_path),
                        bodies[name],
                        args.connections,
                        args.per_connection,
                        daemon_pid=daemon.pid,
                    )
                )
            print(
                f"round {round_ + 1}/{args.rounds}: "
                + ", ".join(f"{name} {runs[name][-1]['rps']:,.0f}/s" for name in order),
                file=sys.stderr,
            )

    summary = {
        name: {
            "revision": trees[name],
            "rps_median": median([run["rps"] for run in rows]),
            "cpu_us_median": median([run["cpu_us"] for run in rows]),
            "p99_us_median": median([run["p99_us"] for run in rows]),
            "rps": [run["rps"] for run in rows],
        }
        for name, rows in runs.items()
    }
    base, head = summary["baseline"], summary["this tree"]
    per_round = [new / old for new, old in zip(head["rps"], base["rps"], strict=True)]
    ratios = {
        "rps": head["rps_median"] / base["rps_median"],
        "rps_per_round_median": median(per_round),
        "cpu_us": head["cpu_us_median"] / base["cpu_us_median"],
    }
    print(f"{'tree':<24}{'decisions/s':>13}{'CPU us/decision':>17}{'p99 us':>10}")
    for name, row in summary.items():
        label = f"{name} ({row['revision']})"
        print(
            f"{label[:24]:<24}{row['rps_median']:>13,.0f}{row['cpu_us_median']:>17,.0f}"
            f"{row['p99_us_median']:>10,.0f}"
        )
    print(
        f"this tree / baseline: {ratios['rps']:.2f}x decisions/s (per-round median "
        f"{ratios['rps_per_round_median']:.2f}x), {ratios['cpu_us']:.2f}x CPU per decision"
    )
    result: dict[str, object] = {
        "bench": "baseline",
        "cpus": os.cpu_count(),
        "python": sys.version.split()[0],
        "connections": args.connections,
        "results": summary,
        "ratios": ratios,
    }
    print(json.dumps(result))
    write_result("baseline", result)
    return result


if __name__ == "__main__":
    main()
