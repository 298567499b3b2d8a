"""The pools the matching benchmarks run on, and the first-come-first-served baseline.

Shared by `bridgechat bench matching` (bridgechat.bench.matching, the open
queue's ticks) and its `--batch` mode (bridgechat.bench.matching_batch, one
run over a whole pool). Pools are synthetic but shaped like a real
programme: popular and rare prompts, a majority language, partial profiles.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

from bridgechat.core.deck import Dimension
from bridgechat.matching import (
    Constraints,
    Group,
    Policy,
    Ticket,
    compatible,
    fits,
    languages_for,
    score_group,
)

KINDS = ("balanced", "lopsided", "languages", "blocks")
# A conversation day's pool (--batch): balanced, with blocks as in "blocks".
DAY = "day"
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
    if kind in ("blocks", DAY):
        # One member in ten has blocked five others who are waiting too.
        for i in rng.sample(range(n), n // 10):
            for j in rng.sample(range(n), min(5, n - 1)):
                if j != i:
                    blocked.add(frozenset((f"m{i}", f"m{j}")))
    return Pool(tickets, Constraints(blocked=frozenset(blocked)))



def crosses(group: Group) -> bool:
    """Whether a room crosses at least two divides (opposite stances count as one)."""
    return len(group.divides) + group.stances_crossed >= 2


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
