"""In-process decision latency, p50/p99, against policies of 10 to 10 000 rules.

Targets (issue 2): p99 ≤ 50 µs at 1 000 rules; p50 at 10 000 rules within 2× of
the p50 at 10 rules. Rules are a mix of command prefixes, path globs, domains and
tool globs, so every index is exercised.

The four policies are measured in interleaved rounds, so that a burst of noise from
the (shared, 2-core) host lands on one round of one policy rather than on a whole
policy. p50 is over every sample; p99 is the median of the rounds' p99s, and the
worst round's p99 is reported beside it.
"""

from __future__ import annotations

import argparse
import json
import time
from contextlib import ExitStack

from bench.common import median, percentile, temporary_world, write_result
from stockade.home import Home
from stockade.request import ToolCall
from stockade.service import DecisionService

RULE_COUNTS = (10, 100, 1_000, 10_000)


def rules_toml(count: int) -> str:
    lines: list[str] = []
    for i in range(count):
        verdict = ("deny", "ask", "allow")[i % 3]
        kind = i % 4
        if kind == 0:
            condition = f'command = "tool{i} sub{i}"'
        elif kind == 1:
            condition = f'path = "/opt/data{i}/**/*.bin"'
        elif kind == 2:
            condition = f'domain = "*.host{i}.example.com"'
        else:
            condition = f'tool = "mcp__srv{i}__*"'
        lines.append(f'[[rules]]\nverdict = "{verdict}"\n{condition}\n')
    return "".join(lines)


def workload(project: str) -> list[ToolCall]:
    def call(tool: str, tool_input: dict[str, object]) -> ToolCall:
        return ToolCall("claude-code", "bench", tool, tool_input, project, project)

    return [
        call("Bash", {"command": "git status"}),
        call("Bash", {"command": "pytest -q tests/unit"}),
        call("Bash", {"command": "ls -la src && grep -rn TODO src | head"}),
        call("Read", {"file_path": f"{project}/src/app.py"}),
        call("Write", {"file_path": f"{project}/src/new.py", "content": "x = 1\n"}),
        call("Edit", {"file_path": f"{project}/src/app.py", "old_string": "a", "new_string": "b"}),
        call("WebFetch", {"url": "https://docs.python.org/3/library/", "prompt": "read"}),
        call("Grep", {"pattern": "TODO", "path": f"{project}/src"}),
    ]


def measure(counts: tuple[int, ...], iterations: int, rounds: int) -> list[dict[str, float]]:
    with ExitStack() as stack:
        subjects = []
        for count in counts:
            world = stack.enter_context(temporary_world())
            home = Home(world.stockade_home)
            home.config_path.write_text(rules_toml(count))
            service = DecisionService.load(home)
            engine = service.engine_for(str(world.project), None)
            calls = workload(str(world.project))
            state = service.session_state("claude-code", "bench")
            for call in calls * 50:  # warm caches
                engine.decide(call, state)
            subjects.append((count, engine, calls, state))
        samples: dict[int, list[float]] = {count: [] for count in counts}
        round_p99: dict[int, list[float]] = {count: [] for count in counts}
        clock = time.perf_counter_ns
        for _ in range(rounds):
            for count, engine, calls, state in subjects:
                chunk: list[float] = []
                for _ in range(iterations // rounds):
                    for call in calls:
                        start = clock()
                        engine.decide(call, state)
                        chunk.append((clock() - start) / 1000)
                samples[count].extend(chunk)
                round_p99[count].append(percentile(chunk, 99))
    return [
        {
            "rules": count,
            "p50_us": median(samples[count]),
            "p99_us": median(round_p99[count]),
            "p99_worst_round_us": max(round_p99[count]),
        }
        for count in counts
    ]


def main() -> dict[str, object]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--iterations", type=int, default=2_000)
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args([]) if __name__ != "__main__" else parser.parse_args()
    rows = measure(RULE_COUNTS, args.iterations, args.rounds)
    base = rows[0]["p50_us"]
    print(f"{'rules':>7} {'p50 µs':>8} {'p99 µs':>8} {'worst':>8} {'p50 ratio':>10}")
    for row in rows:
        ratio = row["p50_us"] / base
        print(
            f"{row['rules']:>7} {row['p50_us']:>8.1f} {row['p99_us']:>8.1f} "
            f"{row['p99_worst_round_us']:>8.1f} {ratio:>10.2f}"
        )
    result = {
        "benchmark": "engine",
        "rows": rows,
        "p50_ratio_10k_vs_10": rows[-1]["p50_us"] / base,
        "p99_us_at_1000": rows[2]["p99_us"],
        "p99_worst_round_us_at_1000": rows[2]["p99_worst_round_us"],
    }
    print(json.dumps(result))
    write_result("engine", result)
    return result


if __name__ == "__main__":
    main()
