"""`bridgechat bench matching`: how fast and how good the matching engine is.

For each pool kind and size it prints the time per tick on a pool of that
many waiting members, the total score of pairs against the exact optimum
(networkx's max_weight_matching on every eligible pair), and the share of
rooms crossing at least two divides against first-come-first-served, both
fed the same stream of arrivals. Pools are synthetic but shaped like a real
programme: popular and rare prompts, a majority language, partial profiles
(bridgechat.bench.matching_pool). With `--batch N` it runs the conversation
day's batch instead (bridgechat.bench.matching_batch).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from collections.abc import Sequence

from bridgechat.bench.matching_pool import (
    KINDS,
    NOW,
    SPAN,
    TICK,
    Pool,
    make_pool,
    share,
    stream_fcfs,
)
from bridgechat.core.deck import Dimension
from bridgechat.deck_file import load_deck
from bridgechat.matching import Group, Policy, Ticket, compatible, match_round, score_group

__all__ = ["main", "optimum_share", "stream_engine", "thorough_share", "time_tick"]

def time_tick(pool: Pool, dims: Sequence[Dimension], policy: Policy, repeat: int
              ) -> tuple[float, float]:
    """Median milliseconds for one round over the whole pool: CPU time and wall time."""
    cpu, wall = [], []
    for r in range(repeat):
        start, clock = time.process_time(), time.perf_counter()
        match_round(pool.tickets, NOW, dims, pool.constraints, policy, seed=r)
        cpu.append((time.process_time() - start) * 1000)
        wall.append((time.perf_counter() - clock) * 1000)
    return statistics.median(cpu), statistics.median(wall)


def optimum_share(pool: Pool, dims: Sequence[Dimension], policy: Policy) -> float:
    """The engine's total pair score as a share of the exact optimum (networkx)."""
    import networkx as nx  # type: ignore[import-untyped]  # only the benchmark needs it

    pairs = [t for t in pool.tickets if t.group == 2]
    graph = nx.Graph()
    for x, a in enumerate(pairs):
        for b in pairs[x + 1:]:
            if compatible(a, b, pool.constraints):
                g = score_group((a, b), NOW, dims, pool.constraints, policy)
                if g is not None:
                    graph.add_edge(a.id, b.id, weight=g.score)
    best = nx.max_weight_matching(graph)
    optimum = sum(graph[a][b]["weight"] for a, b in best)
    result = match_round(pool.tickets, NOW, dims, pool.constraints, policy, seed=0)
    got = sum(g.score for g in result.groups if len(g.tickets) == 2)
    return got / optimum if optimum else 1.0


# No sampling, no walks, the auction whatever the size: slow, but a high bar.
THOROUGH = Policy(scan_limit=1_000_000, scan_budget=10**12, candidates=10, edge_budget=10**9,
                  auction_edges=10**9)


def thorough_share(pool: Pool, dims: Sequence[Dimension], policy: Policy) -> float:
    """The engine's total pair score as a share of a high-effort run of the same engine."""
    def pairs_score(p: Policy) -> float:
        result = match_round(pool.tickets, NOW, dims, pool.constraints, p, seed=0)
        return sum(g.score for g in result.groups if len(g.tickets) == 2)

    best = pairs_score(THOROUGH)
    return pairs_score(policy) / best if best else 1.0


def stream_engine(pool: Pool, dims: Sequence[Dimension], policy: Policy
                  ) -> tuple[list[Group], float]:
    """Feed the pool's arrivals to the engine tick by tick: its rooms and the median wait."""
    arrivals = sorted(pool.tickets, key=lambda t: t.since)
    waiting: dict[str, Ticket] = {}
    groups: list[Group] = []
    waits: list[float] = []
    now = arrivals[0].since if arrivals else NOW
    k = tick = 0
    while now <= NOW + policy.max_wait + 4 * TICK:
        while k < len(arrivals) and arrivals[k].since <= now:
            waiting[arrivals[k].id] = arrivals[k]
            k += 1
        result = match_round(list(waiting.values()), now, dims, pool.constraints, policy, tick)
        for g in result.groups:
            groups.append(g)
            for t in g.tickets:
                waits.append(now - t.since)
                del waiting[t.id]
        now += TICK
        tick += 1
    return groups, statistics.median(waits) if waits else 0.0


HEADER = ("| pool | n | ms/tick (CPU) | ms/tick (wall) | score / optimum | "
          "score / thorough run | rooms crossing ≥ 2 divides: engine | FCFS | "
          "engine median wait (s) |")


def main(argv: list[str] | None = None) -> int:
    """Print the benchmark table."""
    parser = argparse.ArgumentParser(prog="bridgechat bench matching",
                                     description="Time and quality of the matching engine.")
    parser.add_argument("--sizes", default="100,1000,10000",
                        help="pool sizes, comma-separated (default: 100,1000,10000)")
    parser.add_argument("--kinds", default=",".join(KINDS),
                        help=f"pool kinds, comma-separated (default: {','.join(KINDS)})")
    parser.add_argument("--optimum-up-to", type=int, default=1000, metavar="N",
                        help="compute networkx's exact optimum for pools up to N (default 1000)")
    parser.add_argument("--thorough-from", type=int, default=10_000, metavar="N",
                        help="compare with a high-effort run for pools of N and more "
                             "(default 10000)")
    parser.add_argument("--repeat", type=int, default=5, help="timed rounds per pool (median)")
    parser.add_argument("--no-stream", action="store_true", help="skip the FCFS comparison")
    parser.add_argument("--batch", type=int, metavar="N",
                        help="instead: one batch run over N members present at once (a "
                             "conversation day's start), against an upper bound and FCFS")
    parser.add_argument("--full-bound-up-to", type=int, default=3000, metavar="N",
                        help="with --batch: also bound over every eligible pair up to N "
                             "(default 3000)")
    args = parser.parse_args(argv)
    if args.batch is not None:
        from bridgechat.bench.matching_batch import run_batch

        kinds = args.kinds if args.kinds != ",".join(KINDS) else "day"
        return run_batch(args.batch, kinds.split(","), args.full_bound_up_to)
    deck = load_deck()
    dims = deck.dimensions
    prompts = [p.id for p in deck.prompts]
    policy = Policy()
    sizes = [int(s) for s in args.sizes.split(",") if s]
    print(f"python {platform.python_version()} on {platform.machine()}, {_cores()} cores; "
          f"arrivals over {SPAN:.0f} s, a tick every {TICK} s")
    print(HEADER)
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for kind in args.kinds.split(","):
        for n in sizes:
            pool = make_pool(kind, n, 0, prompts, dims)
            cpu, wall = time_tick(pool, dims, policy, args.repeat)
            ratio = thorough = "-"
            if n <= args.optimum_up_to:
                ratio = f"{optimum_share(pool, dims, policy):.1%}"
            if n >= args.thorough_from:
                thorough = f"{thorough_share(pool, dims, policy):.1%}"
            engine = fcfs = wait = "-"
            if not args.no_stream:
                groups, median_wait = stream_engine(pool, dims, policy)
                engine, wait = f"{share(groups):.1%}", f"{median_wait:.2f}"
                fcfs = f"{share(stream_fcfs(pool, dims, policy)):.1%}"
            print(f"| {kind} | {n:,} | {cpu:.0f} | {wall:.0f} | {ratio} | {thorough} | {engine} "
                  f"| {fcfs} | {wait} |", flush=True)
    return 0


def _cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (
        os.cpu_count() or 1)


if __name__ == "__main__":
    raise SystemExit(main())
