"""An upper bound on the best total score a batch could reach (for benchmarks and tests).

Not used by the server at run time. The bound adds three parts, each at least
what any batch under the open queue's rules can score:

- meet-again pairs, which the rules give to each other first: their rooms' scores;
- pairs: the linear-programming relaxation of maximum-weight matching over a
  graph of the pool's pairs, each edge weighed by the score of the room the
  pair would get: maximise sum(w_e x_e) subject to, for every ticket, the x_e
  of its edges summing to at most 1, and 0 <= x_e <= 1. Every matching is a
  feasible 0/1 point of it, so its optimum (solved with SciPy's HiGHS) is at
  least the best matching's score on that graph. With `full=True` the graph
  holds every eligible pair of the pool (quadratic: for small pools); by
  default it is the batch's own candidate graph plus the pairs the batch
  formed outside it, which bounds the best matching within that graph;
- groups of three and four, per (mode, size): with n such tickets, at most
  G = n // size rooms, counting only tickets compatible with at least size - 1
  others; a room crosses a dimension only where two of its
  members answered it, so at most min(G, answered // 2) rooms cross it; a room
  holds opposed stances only with an `agree` and a `disagree`; each member adds
  their waiting bonus once (the G * size largest count); in `generations` mode
  each room adds at most `generations_weight`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linprog  # type: ignore[import-untyped]
from scipy.sparse import csc_array  # type: ignore[import-untyped]

from bridgechat.core.deck import Dimension
from bridgechat.matching.batch import Batch, BatchRound, batch_policy, full_policy
from bridgechat.matching.tickets import (
    DEFAULT_POLICY,
    NO_CONSTRAINTS,
    Constraints,
    Policy,
    Ticket,
)

__all__ = ["Bound", "bound_parts", "upper_bound"]


@dataclass(frozen=True, slots=True)
class Bound:
    """The parts of an upper bound on a batch's total score."""

    again: float
    pairs: float
    groups: float
    edges: int

    @property
    def total(self) -> float:
        """The bound itself."""
        return self.again + self.pairs + self.groups


def upper_bound(tickets: Sequence[Ticket], dimensions: Sequence[Dimension],
                constraints: Constraints = NO_CONSTRAINTS, policy: Policy = DEFAULT_POLICY,
                now: float = 0.0, seed: int = 0, full: bool = False,
                batch: Batch | None = None) -> float:
    """An upper bound on the total score of a batch of these tickets (see the module)."""
    return bound_parts(tickets, dimensions, constraints, policy, now, seed, full, batch).total


def bound_parts(tickets: Sequence[Ticket], dimensions: Sequence[Dimension],
                constraints: Constraints = NO_CONSTRAINTS, policy: Policy = DEFAULT_POLICY,
                now: float = 0.0, seed: int = 0, full: bool = False,
                batch: Batch | None = None) -> Bound:
    """The bound by part; `batch`'s own pairs are added to the candidate graph."""
    run = BatchRound(tickets, now, dimensions, constraints,
                     full_policy(policy) if full else batch_policy(policy), seed)
    reachable = run._waiting()
    run._meet_again()
    again = sum(g.score for g in run.groups)
    graph = run.pair_graph()
    u, v, w = list(graph.edges.u), list(graph.edges.v), list(graph.edges.w)
    if batch is not None:
        index = {t.id: i for i, t in enumerate(run.t)}
        for g in batch.groups:
            if len(g.tickets) == 2 and not g.again:
                u.append(index[g.tickets[0].id])
                v.append(index[g.tickets[1].id])
                w.append(g.score)
    return Bound(again, _lp(u, v, w, run.n), _groups_bound(run, reachable), len(u))


def _lp(u: list[int], v: list[int], w: list[float], n: int) -> float:
    """The optimum of the fractional matching LP over these edges (HiGHS)."""
    if not u:
        return 0.0
    m = len(u)
    cols = np.arange(m)
    incidence = csc_array((np.ones(2 * m), (np.concatenate([u, v]), np.concatenate([cols, cols]))),
                          shape=(n, m))
    res = linprog(-np.asarray(w), A_ub=incidence, b_ub=np.ones(n), bounds=(0, 1),
                  method="highs")
    if res.status != 0:
        raise ArithmeticError(f"the bound's LP did not solve: {res.message}")
    # HiGHS stops within its tolerances of the optimum; the dual objective would be
    # a certificate, but the primal is within 1e-7 relative here: pad by that much.
    return float(-res.fun) * (1 + 1e-7)


def _groups_bound(run: BatchRound, reachable: Mapping[str, int]) -> float:
    """At most what the rooms of three and four could score, per (mode, size)."""
    # Only tickets compatible with at least size - 1 others can be in a room at all.
    policy, profiles = run.policy, run.profiles
    classes: dict[tuple[str, int], list[int]] = {}
    for i in range(run.n):
        t = run.t[i]
        if (not run.taken[i] and run.valid[i] and t.group > 2
                and reachable[t.id] >= t.group - 1):
            classes.setdefault((t.mode, t.group), []).append(i)
    total = 0.0
    for (mode, size), members in classes.items():
        rooms = len(members) // size
        if rooms == 0:
            continue
        for k, weight in enumerate(profiles.weights):
            answered = sum(profiles.vectors[run.klass[i]][k] is not None for i in members)
            total += weight * min(rooms, answered // 2)
        stances = [run.stance_of[i] or {} for i in members]
        agree = sum(1 in s.values() for s in stances)
        disagree = sum(2 in s.values() for s in stances)
        total += policy.stance_weight * min(rooms, agree, disagree)
        if mode == "generations":
            total += policy.generations_weight * rooms
        total += sum(sorted((run.bonus[i] for i in members), reverse=True)[:rooms * size])
    return total
