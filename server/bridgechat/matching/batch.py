"""One matching run over a whole pool present at once: the start of a conversation day.

The open queue (bridgechat.matching.round) matches a trickle of arrivals
every 0.25 s and lets each member's bar fall while they wait. At an event,
everyone present in the lobby is matched in one run instead, so there is
nobody to wait for: the bar is 0 for everyone (any compatible partner is
acceptable), and the run spends its time on the quality of the whole
matching. Everything else is the open queue's: the tickets, the hard
constraints and the score (bridgechat.matching.rules), the buckets and
candidate pairs (bridgechat.matching.candidates), the assignment auction and
repairs (bridgechat.matching.solve), meet-again pairs first and groups of
three and four grown around each member (bridgechat.matching.round), and the
advice for members nobody can meet (bridgechat.matching.stuck).

The pairs are chosen by the auction over a sparse candidate graph (about
eight of the most bridging partners per ticket and bucket, with each pair
weighed by the score its room would get). The auction solves the linear
relaxation of maximum-weight matching; its odd cycles are split exactly. Who
is still free after that is matched exactly among themselves with
rustworkx's blossom algorithm on their (small) graph of compatible pairs.
rustworkx on the whole graph would be exact too, but takes about 14 s of CPU
at 5,000 tickets and grows faster than the pool (docs/matching.md, "Batch
matching for a conversation day").

Pure: no I/O, no clock, no global randomness. The same tickets, time and seed
give the same rooms.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import rustworkx as rx

from bridgechat.core.deck import Dimension
from bridgechat.matching.candidates import candidates
from bridgechat.matching.pool import Key
from bridgechat.matching.results import Group, Suggestion
from bridgechat.matching.round import Round
from bridgechat.matching.rules import score_group
from bridgechat.matching.solve import Edges, auction, augment
from bridgechat.matching.stuck import Diagnosis
from bridgechat.matching.tickets import (
    DEFAULT_POLICY,
    NO_CONSTRAINTS,
    Constraints,
    Policy,
    Ticket,
)

__all__ = [
    "LEFT_REASONS",
    "Batch",
    "BatchRound",
    "PairGraph",
    "batch_policy",
    "crosses_two",
    "solve_batch",
]

# Why a ticket was left without a room. The first four are the open queue's
# stuck codes (bridgechat.matching.stuck), used when nobody in the whole pool
# present could be matched with the ticket; Batch.advice holds the suggestion.
LEFT_REASONS = {
    "no_prompt": "nobody present shares a prompt and a language with you",
    "no_language": "nobody present who chose your prompt speaks a language you chose",
    "no_mode": "others chose your prompt and language, but another mode or group size",
    "quiet": "nobody present could be matched with you",
    "all_taken": "everyone who could be matched with you was matched with someone else",
    "no_group": "not enough members who could all share a room for your group size",
    "invalid": "the ticket asks for an unknown mode or group size, or no prompt",
}
# Scale of the integer weights rustworkx's matching takes (it sums exact integers).
WEIGHT_SCALE = 1_000_000
# Free tickets a free ticket is weighed against per bucket in the last, exact step.
RESIDUAL_WINDOW = 64
GROUP_WINDOW = 64
# Free pair tickets the last step tries to seat by splitting rooms (a handful is usual:
# more means the pool itself is short of partners, and splitting cannot help much).
SEAT_MAX = 32
SEAT_ROUNDS = 16


def batch_policy(policy: Policy = DEFAULT_POLICY) -> Policy:
    """The policy of a batch: the same weights, no waiting schedule, budgets for one big run."""
    # settle_margin = max_wait puts the settle point at 0 s: every bar is 0 and
    # no pair is held back, since nobody will arrive to make a better one.
    # Candidates: up to 32 per ticket and bucket, down to 8 in the largest
    # pools (about 800,000 pairs in all, which the auction weighs in about 20 s;
    # the open queue shrinks them further, to fit 250 ms); a larger scan
    # budget screens more small buckets in full; groups weigh more members per seat.
    return replace(policy, bridge_wait=0.0, settle_margin=policy.max_wait, candidates=32,
                   min_candidates=8, edge_budget=800_000, scan_budget=2_000_000,
                   group_window=GROUP_WINDOW)


# No pruning at all: every eligible pair of every bucket (for the bound over the full graph).
def full_policy(policy: Policy = DEFAULT_POLICY) -> Policy:
    """batch_policy without candidate pruning: slow, for upper bounds on small pools."""
    return replace(batch_policy(policy), candidates=10**9, scan_limit=10**9, scan_budget=10**15,
                   profile_limit=10**6)


def crosses_two(group: Group) -> bool:
    """Whether a room crosses two divides or more (opposite stances count as one)."""
    return len(group.divides) + group.stances_crossed >= 2


@dataclass(frozen=True, slots=True)
class Batch:
    """What one batch run decided."""

    groups: tuple[Group, ...]
    # Ticket id -> why it has no room (a LEFT_REASONS code).
    left: Mapping[str, str]
    score: float
    crossing2: int
    # For tickets left with one of the stuck codes: what might help next time.
    advice: Mapping[str, Suggestion] = field(default_factory=dict)

    @property
    def rooms(self) -> list[tuple[Ticket, ...]]:
        """The tickets of each room."""
        return [g.tickets for g in self.groups]


@dataclass(slots=True)
class PairGraph:
    """Unique candidate pairs, each weighed by the score its room would get."""

    edges: Edges
    keys: list[Key]


def solve_batch(tickets: Sequence[Ticket], dimensions: Sequence[Dimension],
                constraints: Constraints = NO_CONSTRAINTS, policy: Policy = DEFAULT_POLICY,
                now: float = 0.0, seed: int = 0) -> Batch:
    """Match everyone present at once, as close to the highest total score as the budget allows."""
    return BatchRound(tickets, now, dimensions, constraints, batch_policy(policy), seed).solve()


class BatchRound(Round):
    """A Round whose pairs are solved for quality over one large pool."""

    def __init__(self, tickets: Sequence[Ticket], now: float, dimensions: Sequence[Dimension],
                 constraints: Constraints, policy: Policy, seed: int) -> None:
        super().__init__(tickets, now, dimensions, constraints, policy, seed)
        # Filled by pair_graph(): what the auction saw, for the bound.
        self.graph: PairGraph | None = None

    def solve(self) -> Batch:
        """Meet-again pairs, then pairs, then groups of three and four; a reason for the rest."""
        # Counted before anyone is matched: who could meet whom in the whole pool.
        reachable = self._waiting()
        self._meet_again()
        self.pairs_exact()
        for size in (3, 4):
            self._groups(size)
        left, advice = self.reasons(reachable)
        score = sum(g.score for g in self.groups)
        crossing = sum(crosses_two(g) for g in self.groups)
        return Batch(tuple(self.groups), left, score, crossing, advice)

    # -- pairs -------------------------------------------------------------------

    def pair_graph(self) -> PairGraph:
        """The candidate pairs of the open queue's search, one edge per pair at its best."""
        buckets = self._pair_buckets()
        keys = list(buckets)
        found = candidates(self, keys, buckets) if keys else Edges()
        graph = PairGraph(_unique(found, self.n), keys)
        self._rescore(graph)
        self.graph = graph
        return graph

    def _rescore(self, graph: PairGraph) -> None:
        """Weigh each pair by its room's score: it may take another prompt with opposed stances."""
        e = graph.edges
        stance = self.stance_of
        for x, (i, j) in enumerate(zip(e.u, e.v, strict=True)):
            if stance[i] is not None and stance[j] is not None:
                e.w[x] = self._pair_group(i, j, graph.keys[e.key[x]], e.w[x]).score
        e.p = list(e.w)

    def pairs_exact(self) -> None:
        """The auction on the candidate graph, local repairs, then an exact finish."""
        graph = self.pair_graph()
        edges = graph.edges
        if edges.u:
            mate, via = auction(edges, self.n, self.policy.auction_eps)
            augment(mate, via, edges)
            for i in range(self.n):
                j = mate[i]
                if i < j:
                    e = via[i]
                    self._add(self._pair_group(i, j, graph.keys[edges.key[e]], edges.w[e]),
                              (i, j))
        self._finish_pairs()
        self._seat_the_free()

    def _seat_the_free(self) -> None:
        """Seat two free pair tickets by splitting one room in two: l1 with u and v with l2,
        where u and v had a room. The auction maximises the total score, not how many are
        seated; at an event, one more member with a room outweighs a slightly stronger
        room elsewhere. The best such swap first, again while one is found."""
        for _ in range(SEAT_ROUNDS):
            free = [i for i in range(self.n) if not self.taken[i] and self.valid[i]
                    and self.t[i].group == 2]
            if not 2 <= len(free) <= SEAT_MAX:
                return
            index = {t.id: i for i, t in enumerate(self.t)}
            # For each free ticket, the rooms it could take a seat in, and with whom.
            could: dict[int, dict[int, Group]] = {i: {} for i in free}
            for g in self.groups:
                if len(g.tickets) == 2 and not g.again:
                    for u in (index[t.id] for t in g.tickets):
                        for f in free:
                            if self.allowed(f, u) and (room := self._score(f, u)) is not None:
                                could[f][u] = room
            best: tuple[float, int, Group, Group, tuple[int, int], tuple[int, int]] | None = None
            for x, g in enumerate(self.groups):
                if len(g.tickets) != 2 or g.again:
                    continue
                a, b = (index[t.id] for t in g.tickets)
                for u, v in ((a, b), (b, a)):
                    for l1 in (f for f in free if u in could[f]):
                        for l2 in (f for f in free if f != l1 and v in could[f]):
                            gain = could[l1][u].score + could[l2][v].score - g.score
                            if best is None or gain > best[0]:
                                best = (gain, x, could[l1][u], could[l2][v], (l1, u), (v, l2))
            if best is None:
                return
            _, x, first, second, seats1, seats2 = best
            del self.groups[x]  # its two members stay taken: each is in one of the new rooms
            self._add(first, seats1)
            self._add(second, seats2)

    def _score(self, i: int, j: int) -> Group | None:
        return score_group((self.t[i], self.t[j]), self.now, self.dimensions, self.constraints,
                           self.policy, self.profiles)

    def _finish_pairs(self) -> None:
        """Exact max-weight matching (rustworkx) among the pair tickets still free."""
        free = [i for i in range(self.n) if not self.taken[i] and self.valid[i]
                and self.t[i].group == 2]
        if len(free) < 2:
            return
        by_key: dict[Key, tuple[list[int], list[int]]] = {}
        for i in free:
            for key, side in self._pair_keys(i):
                sides = by_key.setdefault(key, ([], []))
                sides[side].append(i)
        rooms: dict[tuple[int, int], Group] = {}
        for key, (fluent, learning) in by_key.items():
            pairs = ((fluent, learning),) if key[0] == "language_buddy" else ((fluent, fluent),)
            for a, b in pairs:
                for x, i in enumerate(a):
                    for j in b[x + 1:x + 1 + RESIDUAL_WINDOW] if a is b else b[:RESIDUAL_WINDOW]:
                        pair = (i, j) if i < j else (j, i)
                        if i != j and pair not in rooms and self.allowed(i, j):
                            g = score_group((self.t[pair[0]], self.t[pair[1]]), self.now,
                                            self.dimensions, self.constraints, self.policy,
                                            self.profiles)
                            if g is not None:
                                rooms[pair] = g
        if not rooms:
            return
        graph = rx.PyGraph()
        graph.add_nodes_from(range(self.n))
        graph.add_edges_from([(i, j, round(g.score * WEIGHT_SCALE))
                              for (i, j), g in rooms.items()])
        for i, j in sorted(tuple(sorted(m)) for m in rx.max_weight_matching(
                graph, weight_fn=int)):
            self._add(rooms[(i, j)], (i, j))

    # -- reasons -------------------------------------------------------------------

    def reasons(self, reachable: Mapping[str, int]) -> tuple[dict[str, str],
                                                          dict[str, Suggestion]]:
        """A reason code for every ticket left without a room."""
        left = [i for i in range(self.n) if not self.grouped[i]]
        alone = [i for i in left if self.valid[i] and reachable[self.t[i].id] == 0]
        advice = Diagnosis(self, range(self.n)).explain(alone) if alone else {}
        out: dict[str, str] = {}
        for i in left:
            t = self.t[i]
            if not self.valid[i]:
                out[t.id] = "invalid"
            elif t.id in advice:
                out[t.id] = advice[t.id].code
            else:
                out[t.id] = "all_taken" if t.group == 2 else "no_group"
        return out, advice


def _unique(found: Edges, n: int) -> Edges:
    """One edge per pair: the heaviest of those found (a pair may be found in several buckets)."""
    if not found.u:
        return Edges()
    u, v = np.asarray(found.u, dtype=np.int64), np.asarray(found.v, dtype=np.int64)
    w = np.asarray(found.w, dtype=np.float64)
    lo, hi = np.minimum(u, v), np.maximum(u, v)
    pair = lo * n + hi
    # By pair, heaviest first; ties by the order found, so the result is deterministic.
    order = np.lexsort((np.arange(len(w)), -w, pair))
    first = np.ones(len(order), dtype=bool)
    first[1:] = pair[order][1:] != pair[order][:-1]
    keep = order[first]
    out = Edges()
    out.u, out.v = lo[keep].tolist(), hi[keep].tolist()
    out.w = w[keep].tolist()
    out.key = np.asarray(found.key, dtype=np.int64)[keep].tolist()
    out.p = list(out.w)
    return out
