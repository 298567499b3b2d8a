"""`bridgechat bench matching --batch N`: one batch run over N members present at once.

The start of a conversation day: everyone in the lobby is matched in one run
(bridgechat.matching.batch). For each pool kind it prints the run's CPU time
(time.process_time, one process), its total score against an upper bound on
the optimum (bridgechat.matching.batch_bound: the LP relaxation over the
candidate graph, solved with HiGHS; up to --full-bound-up-to members also
over every eligible pair), the share of rooms crossing two divides or more,
and the same for first come, first served on the same pool: each ticket in
arrival order joins the longest waiting compatible member(s).
"""

from __future__ import annotations

import os
import platform
import time
from collections import Counter
from collections.abc import Sequence

from bridgechat.bench.matching_pool import NOW, make_pool, stream_fcfs
from bridgechat.deck_file import load_deck
from bridgechat.matching import Group, Policy, score_group
from bridgechat.matching.batch import Batch, batch_policy, crosses_two, solve_batch
from bridgechat.matching.batch_bound import bound_parts

__all__ = ["fcfs_rooms", "run_batch"]


def fcfs_rooms(pool_kind: str, n: int, seed: int = 0) -> tuple[list[Group], list[Group], Batch]:
    """For tests: the batch's rooms and FCFS's on the same generated pool."""
    deck = load_deck()
    pool = make_pool(pool_kind, n, seed, [p.id for p in deck.prompts], deck.dimensions)
    batch = solve_batch(pool.tickets, deck.dimensions, pool.constraints, now=NOW, seed=seed)
    return list(batch.groups), _fcfs(pool_kind, n, seed), batch


def _fcfs(pool_kind: str, n: int, seed: int) -> list[Group]:
    """FCFS's rooms, each scored as the batch would score it (all present at NOW)."""
    deck = load_deck()
    dims = deck.dimensions
    pool = make_pool(pool_kind, n, seed, [p.id for p in deck.prompts], dims)
    policy = batch_policy(Policy())
    out = []
    for g in stream_fcfs(pool, dims, policy):
        again = score_group(g.tickets, NOW, dims, pool.constraints, policy)
        out.append(again if again is not None else g)
    return out


def _row(name: str, groups: Sequence[Group], n: int, cpu: float | None, wall: float | None,
         bound: float) -> str:
    score = sum(g.score for g in groups)
    matched = sum(len(g.tickets) for g in groups)
    crossing = sum(crosses_two(g) for g in groups)
    timing = f"{cpu:.1f} | {wall:.1f}" if cpu is not None and wall is not None else "- | -"
    return (f"| {name} | {n:,} | {timing} | {len(groups):,} | {matched / n:.1%} | {score:,.0f} "
            f"| {score / bound:.1%} | {crossing / max(1, len(groups)):.1%} |")


def run_batch(n: int, kinds: Sequence[str], full_up_to: int) -> int:
    """Print the batch's figures against the bound and FCFS, one table per pool kind."""
    deck = load_deck()
    dims, prompts = deck.dimensions, [p.id for p in deck.prompts]
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"python {platform.python_version()} on {platform.machine()}, {cores} cores; "
          "one batch over a pool present at once")
    for kind in kinds:
        pool = make_pool(kind, n, 0, prompts, dims)
        start, clock = time.process_time(), time.perf_counter()
        batch = solve_batch(pool.tickets, dims, pool.constraints, now=NOW)
        cpu, wall = time.process_time() - start, time.perf_counter() - clock
        start = time.process_time()
        bound = bound_parts(pool.tickets, dims, pool.constraints, now=NOW, batch=batch)
        bound_cpu = time.process_time() - start
        groups = list(batch.groups)
        print(f"\npool {kind}, n = {n:,}: {len(pool.constraints.blocked):,} blocked pairs, "
              f"{sum(t.group > 2 for t in pool.tickets):,} asking for groups, "
              f"{sum(t.mode == 'language_buddy' for t in pool.tickets):,} language buddies")
        print(f"upper bound {bound.total:,.1f} = meet-again {bound.again:,.1f} + pairs (LP over "
              f"{bound.edges:,} candidate pairs, HiGHS) {bound.pairs:,.1f} + groups "
              f"{bound.groups:,.1f}  [{bound_cpu:.1f} s CPU]")
        pairs = sum(g.score for g in groups if len(g.tickets) == 2 and not g.again)
        print(f"pairs alone: {pairs:,.1f} of their LP bound {bound.pairs:,.1f} "
              f"({pairs / bound.pairs if bound.pairs else 1:.2%})")
        full = None
        if n <= full_up_to:
            start = time.process_time()
            full = bound_parts(pool.tickets, dims, pool.constraints, now=NOW, full=True)
            print(f"bound over every eligible pair ({full.edges:,}): {full.total:,.1f}; "
                  f"the candidate graph's is {bound.total / full.total:.2%} of it  "
                  f"[{time.process_time() - start:.1f} s CPU]")
        left = Counter(batch.left.values())
        print("left without a room: " + (", ".join(f"{c} {k}" for k, c in left.most_common())
                                         or "nobody"))
        print("| run | n | CPU s | wall s | rooms | matched | score | score / bound "
              "| rooms crossing ≥ 2 divides |")
        print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        top = max(bound.total, full.total if full else 0.0)
        print(_row("batch", groups, n, cpu, wall, top), flush=True)
        start, clock = time.process_time(), time.perf_counter()
        fcfs = _fcfs(kind, n, 0)
        print(_row("first come, first served", fcfs, n, time.process_time() - start,
                   time.perf_counter() - clock, top), flush=True)
    return 0
