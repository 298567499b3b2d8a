"""`bridgechat bench matching`: how fast and how good the matching engine is.

For each pool kind and size it prints the time per tick on a pool of that
many waiting members, the total score of pairs against the exact optimum
(networkx's max_weight_matching on every eligible pair), and the share of
rooms crossing at least two divides against first-come-first-served, both
fed the same stream of arrivals. Pools are synthetic but shaped like a real
programme: popular and rare prompts, a majority language, partial profiles.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass

from bridgechat.core.deck import Dimension
from bridgechat.deck_file import load_deck
from bridgechat.matching import (
    Constraints,
    Group,
    Policy,
    Ticket,
    compatible,
    fits,
    languages_for,
    match_round,
    score_group,
)

KINDS = ("balanced", "lopsided", "languages", "blocks")
TICK = 0.25
SPAN = 12.0  # arrivals spread over this many seconds: fresh to overdue
NOW = 1000.0
COMMON = ("es", "ar", "pl", "uk", "fr")
MANY = ("en", "es", "ar", "pl", "uk", "fr", "de", "tr", "fa", "so", "ti", "zh")
# Lopsided 3:1: a young urban newcomer majority and an older rural long-settled minority.
CLUSTERS = (
    {"age_band": ("18-29", "30-44"), "origin": ("newcomer", "settled"), "area": ("urban",),
     "politics": ("left", "centre")},
    {"age_band": ("45-59", "60+"), "origin": ("born_here",), "area": ("rural", "suburban"),
     "politics": ("right", "centre")},
)


@dataclass(frozen=True, slots=True)
class Pool:
    """A generated pool: its tickets and the member pairs that may not meet."""

    tickets: list[Ticket]
    constraints: Constraints


def _profile(rng: random.Random, dims: Sequence[Dimension], kind: str
             ) -> tuple[tuple[str, str], ...]:
    cluster = None
    if kind == "lopsided":
        cluster = CLUSTERS[0] if rng.random() < 0.75 else CLUSTERS[1]
    out = []
    for d in dims:
        if rng.random() > (0.6 if d.sensitive else 0.85):
            continue  # every question is optional, and sensitive ones are skipped more
        if cluster and d.id in cluster and rng.random() < 0.85:
            out.append((d.id, rng.choice(cluster[d.id])))
        else:
            out.append((d.id, rng.choice(d.buckets)))
    return tuple(sorted(out))


def _languages(rng: random.Random, kind: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    if kind == "languages":
        first = rng.choice(MANY)
        more = (rng.choice(MANY),) if rng.random() < 0.4 else ()
        spoken = tuple(dict.fromkeys((first, *more)))
    elif rng.random() < 0.1:
        spoken = (rng.choice(COMMON),)
    else:
        spoken = ("en", rng.choice(COMMON)) if rng.random() < 0.3 else ("en",)
    learning = ("en",) if "en" not in spoken else (rng.choice(COMMON),)
    return spoken, tuple(x for x in learning if x not in spoken)


def make_pool(kind: str, n: int, seed: int, prompts: Sequence[str],
              dims: Sequence[Dimension]) -> Pool:
    """A pool of n tickets of one kind, arrived over the last SPAN seconds."""
    rng = random.Random(f"{kind}-{n}-{seed}")
    popularity = [1 / (r + 1) ** 0.7 for r in range(len(prompts))]
    tickets = []
    for i in range(n):
        chosen = tuple(dict.fromkeys(rng.choices(prompts, popularity, k=rng.choice((1, 2, 3)))))
        spoken, learning = _languages(rng, kind)
        stances = tuple(sorted((p, rng.choices(("agree", "disagree", "unsure"), (8, 7, 5))[0])
                               for p in chosen if rng.random() < 0.6))
        mode = rng.choices(("bridge", "language_buddy", "generations"), (90, 5, 5))[0]
        size = rng.choices((2, 3, 4), (90, 6, 4))[0]
        tickets.append(Ticket(
            id=f"t{i}", member=f"m{i}", prompts=chosen, languages=spoken,
            since=NOW - rng.uniform(0, SPAN), learning=learning if mode == "language_buddy" else (),
            profile=_profile(rng, dims, kind), stances=stances, mode=mode, group=size,
        ))
    blocked: set[frozenset[str]] = set()
    if kind == "blocks":
        # One member in ten has blocked five others who are waiting too.
        for i in rng.sample(range(n), n // 10):
            for j in rng.sample(range(n), min(5, n - 1)):
                if j != i:
                    blocked.add(frozenset((f"m{i}", f"m{j}")))
    return Pool(tickets, Constraints(blocked=frozenset(blocked)))


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


def crosses(group: Group) -> bool:
    """Whether a room crosses at least two divides (opposite stances count as one)."""
    return len(group.divides) + group.stances_crossed >= 2


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


def stream_fcfs(pool: Pool, dims: Sequence[Dimension], policy: Policy) -> list[Group]:
    """First come, first served: each arrival joins the longest waiting compatible members."""
    waiting: dict[tuple[str, int, str], list[Ticket]] = {}
    done: set[str] = set()
    groups = []
    for t in sorted(pool.tickets, key=lambda t: t.since):
        seen: dict[str, Ticket] = {}
        for p in t.prompts:
            queue = waiting.get((t.mode, t.group, p), [])
            queue[:] = [o for o in queue if o.id not in done]
            for other in queue:
                if compatible(t, other, pool.constraints):
                    seen[other.id] = other
        chosen = [t]
        for other in sorted(seen.values(), key=lambda o: o.since):
            trial = [*chosen, other]
            if all(compatible(other, c, pool.constraints) for c in chosen) and _may_share(
                    trial, pool.constraints, full=len(trial) == t.group):
                chosen = trial
                if len(chosen) == t.group:
                    break
        if len(chosen) == t.group:
            # Scored as if everyone had waited long enough: FCFS has no relaxation.
            group = score_group(chosen, t.since + 2 * policy.max_wait, dims, pool.constraints,
                                policy)
            if group is not None:
                groups.append(group)
                done.update(c.id for c in chosen)
                continue
        for p in t.prompts:
            waiting.setdefault((t.mode, t.group, p), []).append(t)
    return groups


def _may_share(tickets: Sequence[Ticket], constraints: Constraints, full: bool) -> bool:
    """Whether a (possibly still partial) group shares a prompt and a language."""
    prompts = [p for p in tickets[0].prompts if all(p in t.prompts for t in tickets)]
    if not prompts:
        return False
    if not full:
        return bool(languages_for(tickets)) or tickets[0].mode == "language_buddy"
    return any(fits(tickets, prompts[0], lang, constraints) for lang in languages_for(tickets))


def share(groups: Sequence[Group]) -> float:
    """The share of rooms crossing at least two divides."""
    return sum(crosses(g) for g in groups) / len(groups) if groups else 0.0


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
    args = parser.parse_args(argv)
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
