"""The solvers that turn a round's candidate pairs into a matching.

A round first collects candidate pairs (bridgechat.matching.candidates),
each with a weight: the divides it crosses plus both members' waiting bonus.
This module holds the edge list those pairs live in and the algorithms over
it: an
assignment auction whose cycles are split exactly by dynamic programming, a
greedy matching for rounds too large for the auction, and local augmenting
repairs around whoever is left unmatched. Each works on the edge list and the
pool size alone, so it can be read and tested apart from the rules that
weighed the edges. `mate[i]` is ticket i's partner (or -1) and `via[i]` the
index of the edge that paired them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import cast

__all__ = ["Edges", "auction", "augment", "greedy"]


@dataclass(slots=True)
class Edges:
    """Candidate pairs as parallel lists; the same pair may appear more than once."""

    u: list[int] = field(default_factory=list)
    v: list[int] = field(default_factory=list)
    w: list[float] = field(default_factory=list)
    key: list[int] = field(default_factory=list)  # index of the bucket it was found in
    p: list[float] = field(default_factory=list)  # the greedy's order: divides before waiting
    # While candidates are collected: u, v, w, p and key of each pair in turn,
    # flat. A flat list of numbers is one object to the garbage collector,
    # where a tuple per pair would be tens of thousands that survive the
    # collection and make the collector run (and rescan them) over and over.
    found: list[float] = field(default_factory=list)

    def settle(self) -> None:
        """Move the collected pairs into the parallel lists (slices, at C speed)."""
        flat = self.found
        if flat:
            # Every fifth item from 0, 1 and 4 is an int (the tickets, the bucket).
            self.u = cast("list[int]", flat[0::5])
            self.v = cast("list[int]", flat[1::5])
            self.w, self.p = flat[2::5], flat[3::5]
            self.key = cast("list[int]", flat[4::5])
        self.found = []

    def add(self, i: int, j: int, w: float, key: int) -> int:
        self.u.append(i)
        self.v.append(j)
        self.w.append(w)
        self.key.append(key)
        self.p.append(w)
        return len(self.u) - 1


def auction(edges: Edges, n: int, final: float) -> tuple[list[int], list[int]]:
    """Near-optimal pairs from an assignment auction on the bipartite double cover.

    `n` is the number of tickets in the round, `final` the last epsilon
    (Policy.auction_eps).
    """
    # Every ticket bids for one partner, or for itself (staying single). The
    # best assignment is the LP relaxation of max-weight matching; its
    # 2-cycles are pairs, and each longer cycle is split optimally by DP.
    # Bertsekas's auction with epsilon-scaling solves it to within n * eps.
    best: dict[int, int] = {}
    for e, (i, j, w) in enumerate(zip(edges.u, edges.v, edges.w, strict=True)):
        pair_key = i * n + j if i < j else j * n + i
        old = best.get(pair_key)
        if old is None or w > edges.w[old]:
            best[pair_key] = e
    arcs: dict[int, tuple[list[int], list[float]]] = {}
    for pair_key, e in best.items():
        i, j = divmod(pair_key, n)
        w = edges.w[e]
        for x, y in ((i, j), (j, i)):
            arc = arcs.get(x)
            if arc is None:
                arc = arcs[x] = ([x], [0.0])
            arc[0].append(y)
            arc[1].append(w)
    price = [0.0] * n
    eps = max(final, max(edges.w, default=1.0) / 4)
    assign: dict[int, int] = {}
    # Ties can start price wars; past this many bids the last finished
    # phase stands (it is a complete assignment, just a coarser one).
    bids, cap = 0, 30 * len(arcs)
    while True:
        owner: dict[int, int] = {}
        assign = {}
        todo = sorted(arcs, reverse=True)
        while todo:
            i = todo.pop()
            targets, values = arcs[i]
            net = [w - price[j] for j, w in zip(targets, values, strict=True)]
            top = max(net)
            k = net.index(top)
            net[k] = -1e18
            second = max(net) if len(net) > 1 else top
            target = targets[k]
            price[target] += top - second + eps
            bids += 1
            old = owner.get(target)
            owner[target] = i
            assign[i] = target
            if old is not None:
                del assign[old]
                todo.append(old)
        if eps <= final or bids > cap:
            break
        eps = max(final, eps / 5)
    mate, via = [-1] * n, [-1] * n
    seen: set[int] = set()
    for start in sorted(assign):
        if start in seen:
            continue
        run = [start]
        seen.add(start)
        x = assign[start]
        while x != start:
            run.append(x)
            seen.add(x)
            x = assign[x]
        if len(run) > 1:
            _split_cycle(run, best, edges, mate, via, n)
    return mate, via

def _split_cycle(run: list[int], best: Mapping[int, int], edges: Edges,
                 mate: list[int], via: list[int], n: int) -> None:
    """Exact max-weight matching of a cycle (a pair is a cycle of two) by DP."""
    ring = [best[a * n + b if a < b else b * n + a]
            for a, b in zip(run, [*run[1:], run[0]], strict=True)]
    if len(run) == 2:
        chosen = [0]
    else:
        w = [edges.w[e] for e in ring]
        # Either the closing edge is out (a path), or it is in and its ends are taken.
        plain, plain_total = _path_dp(w[:-1])
        inner, inner_total = _path_dp(w[1:-2])
        chosen = [len(run) - 1, *(e + 1 for e in inner)] if (
            inner_total + w[-1] > plain_total) else plain
    for k in chosen:
        e = ring[k]
        i, j = edges.u[e], edges.v[e]
        mate[i], mate[j], via[i], via[j] = j, i, e, e

def greedy(edges: Edges, n: int) -> tuple[list[int], list[int]]:
    """Heaviest pairs first, for rounds too large for the auction's budget."""
    u, v, order = edges.u, edges.v, edges.p
    mate, via = [-1] * n, [-1] * n
    for e in sorted(range(len(order)), key=order.__getitem__, reverse=True):
        i, j = u[e], v[e]
        if mate[i] < 0 and mate[j] < 0:
            mate[i], mate[j], via[i], via[j] = j, i, e, e
    return mate, via

def augment(mate: list[int], via: list[int], edges: Edges) -> None:
    """Local repairs around unmatched tickets: u takes a, a's partner b takes v."""
    # Every edge these repairs use touches a ticket that is still unmatched.
    w, u, v = edges.w, edges.u, edges.v
    loose = [e for e, (i, j) in enumerate(zip(u, v, strict=True))
             if mate[i] < 0 or mate[j] < 0]
    near: dict[int, list[int]] = {}
    free: set[int] = set()
    for e in loose:
        i, j = u[e], v[e]
        near.setdefault(i, []).append(e)
        near.setdefault(j, []).append(e)
        free.update(x for x in (i, j) if mate[x] < 0)
    for f in sorted(free, reverse=True):
        if mate[f] >= 0:
            continue
        gain, plan = 0.0, (-1, -1, -1)
        for e in near.get(f, ()):
            a = v[e] if u[e] == f else u[e]
            b = mate[a]
            if b < 0:
                if a != f and w[e] > gain:
                    gain, plan = w[e], (e, -1, -1)
                continue
            lost = w[via[a]]
            if w[e] - lost > gain:  # f takes a; b waits
                gain, plan = w[e] - lost, (e, -1, -1)
            for e2 in near.get(b, ()):
                c = v[e2] if u[e2] == b else u[e2]
                if mate[c] < 0 and c != f and w[e] + w[e2] - lost > gain:
                    gain, plan = w[e] + w[e2] - lost, (e, e2, c)
        e, e2, c = plan
        if e < 0:
            continue
        a = v[e] if u[e] == f else u[e]
        b = mate[a]
        mate[f], mate[a], via[f], via[a] = a, f, e, e
        if b >= 0:
            mate[b], via[b] = -1, -1
            if e2 >= 0:
                mate[b], mate[c], via[b], via[c] = c, b, e2, e2


def _path_dp(w: Sequence[float]) -> tuple[list[int], float]:
    """The heaviest set of non-adjacent edges of a path with edge weights w."""
    take = [0.0] * (len(w) + 1)  # best total of the first e edges
    for e, x in enumerate(w):
        take[e + 1] = max(take[e], (take[e - 1] if e else 0.0) + x)
    chosen, e = [], len(w)
    while e > 0:
        if take[e] == take[e - 1]:
            e -= 1
        else:
            chosen.append(e - 1)
            e -= 2
    return chosen, take[-1]
