"""Capability checks: what a restricted agent's grants add to a decision.

    python -m bench.bench_caps [--rounds N]

An agent with 20 grants (20 token files: shell prefixes, path globs, domains, tool
globs, an MCP argument glob) against the same call by no agent, in one run, rounds
interleaved so that drift of the host hits both alike. Also: verifying all 20 tokens
from scratch (a start, a rotation) and one re-scan of the files (every 0.25 s at most).

Prints a table, then one JSON line. Never asserts timings.
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import UTC, datetime

from bench.common import median, temporary_world, write_result
from stockade.audit import AuditEvent, SqliteAuditStore
from stockade.caps.agents import Agent, save_agents
from stockade.caps.files import write_token
from stockade.caps.grant import Constraints, Grant, make_grant
from stockade.caps.ledger import GRANTED
from stockade.caps.token import issue, new_token_id
from stockade.home import Home
from stockade.identity import IdentityFiles
from stockade.request import ToolCall
from stockade.service import DecisionService

AGENT = "ci-bot"
CALLS_PER_ROUND = 2000


def grants(project: str) -> list[Grant]:
    """20 grants of every family; the measured call (`git status`) needs the shell ones."""
    spec: list[tuple[str, Constraints]] = [
        ("shell.exec", Constraints(commands=(word,)))
        for word in (
            "make",
            "npm",
            "ls",
            "cat",
            "grep",
            "pytest",
            "ruff",
            "mypy",
            "uv",
            "git status",
        )
    ]
    spec += [
        ("fs.read", Constraints(paths=(f"{project}/**",))),
        ("fs.write", Constraints(paths=(f"{project}/src/**",))),
        ("fs.write", Constraints(paths=(f"{project}/tests/**",))),
        ("net.fetch", Constraints(domains=("*.python.org",))),
        ("net.fetch", Constraints(domains=("github.com",))),
        ("tool.call.Todo*", Constraints()),
        ("tool.call.Task", Constraints()),
        ("mcp.call.files.read_*", Constraints(args=(("path", "/srv/**"),))),
        ("mcp.call.github.*", Constraints()),
        ("tool.call.WebSearch", Constraints()),
    ]
    return [make_grant(capability, c, user_home="/") for capability, c in spec]


def per_call_us(service: DecisionService, call: ToolCall, calls: int) -> float:
    evaluate = service.evaluate
    start = time.perf_counter()
    for _ in range(calls):
        evaluate(call)
    return (time.perf_counter() - start) / calls * 1e6


def bench(rounds: int) -> dict[str, object]:
    with temporary_world() as world:
        home = Home(world.stockade_home)
        key = IdentityFiles(home).load_or_create("2026-12-04T23:00:00.000000Z")
        save_agents(home, {AGENT: Agent(AGENT, "2026-12-04T23:00:00+00:00", "cli")})
        store = SqliteAuditStore(home.audit_path)
        store.open()
        try:
            for grant in grants(str(world.project)):
                token = issue(
                    key,
                    token_id=new_token_id(),
                    agent=AGENT,
                    grant=grant,
                    issued_at=datetime.now(UTC),
                    expires_at=None,
                )
                # A token counts only with its grant event: the one field the book reads.
                granted = {"cap_id": token.id, "sha256": token.sha256}
                store.append_blocking(AuditEvent(GRANTED, "cli", None, granted))
                write_token(home, token)
        finally:
            store.close()
        service = DecisionService.load(home)
        book = service.capabilities
        base = {
            "harness": "claude-code",
            "session_id": "bench",
            "tool_name": "Bash",
            "tool_input": {"command": "git status"},
            "cwd": str(world.project),
            "project_root": str(world.project),
        }
        restricted = ToolCall(**base, agent=AGENT)  # type: ignore[arg-type]
        plain = ToolCall(**base)  # type: ignore[arg-type]
        assert service.evaluate(restricted).decision.verdict.value == "allow"
        assert book.grants_for(AGENT) is not None and len(book.grants_for(AGENT).grants) == 20  # type: ignore[union-attr]
        for call in (restricted, plain):  # warm the shell-parse cache and the sets
            per_call_us(service, call, 200)
        with_caps, without = [], []
        for _ in range(rounds):
            with_caps.append(per_call_us(service, restricted, CALLS_PER_ROUND))
            without.append(per_call_us(service, plain, CALLS_PER_ROUND))
        start = time.perf_counter()
        for _ in range(20):
            book.refresh()  # the record again, and 20 parses + ed25519 checks
        verify_all_us = (time.perf_counter() - start) / 20 * 1e6
        start = time.perf_counter()
        for _ in range(200):
            book.states()  # the 20 files stat-ed again, as every recheck window does
        rescan_us = (time.perf_counter() - start) / 200 * 1e6
    restricted_us, plain_us = median(with_caps), median(without)
    return {
        "grants": 20,
        "rounds": rounds,
        "calls_per_round": CALLS_PER_ROUND,
        "restricted_us_p50_of_rounds": round(restricted_us, 2),
        "unrestricted_us_p50_of_rounds": round(plain_us, 2),
        "ratio": round(restricted_us / plain_us, 3),
        "added_us": round(restricted_us - plain_us, 2),
        "verify_20_tokens_us": round(verify_all_us, 1),
        "rescan_20_files_us": round(rescan_us, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=15)
    result = bench(parser.parse_args().rounds)
    print("| measure | value |")
    print("|---|---|")
    print(
        f"| decision, restricted agent (20 grants) vs no agent, median of rounds | "
        f"{result['restricted_us_p50_of_rounds']} vs {result['unrestricted_us_p50_of_rounds']} µs "
        f"({result['ratio']}×, +{result['added_us']} µs) |"
    )
    print(
        f"| verify 20 tokens from scratch (start, rotation) | {result['verify_20_tokens_us']} µs |"
    )
    print(f"| re-scan 20 token files (at most every 0.25 s) | {result['rescan_20_files_us']} µs |")
    write_result("caps", result)
    print(json.dumps({"bench": "caps", **result}))


if __name__ == "__main__":
    main()
