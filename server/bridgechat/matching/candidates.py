"""Candidate partners for a round's pairs: who is worth weighing against whom.

Weighing every waiting member against every other is too slow for a large
pool, so each ticket keeps only its few most bridging eligible partners in
each bucket (mode, prompt, language) it is in. Small buckets are scanned in
full within a budget; large ones walk, for each profile, the profiles most
divided from it. A pair is kept only if its members may meet and its divides
clear the bar of at least one of them (bridgechat.matching.rules, inlined
here for speed). The solvers in bridgechat.matching.solve then choose among
the pairs found.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from bridgechat.matching.pool import Key, Pool
from bridgechat.matching.solve import Edges
from bridgechat.matching.tickets import OPPOSITE

__all__ = ["candidates"]


@dataclass(slots=True)
class _Side:
    """One side of a bucket, position by position: what the hot loops read."""

    ids: list[int]
    cls: list[int]
    stance: list[int]
    bar: list[float]
    early: list[bool]
    bonus: list[float]


def _side(pool: Pool, key: Key, members: list[int]) -> _Side:
    """Per-bucket copies of what the hot loops read, indexed by position."""
    prompt, st = key[1], pool.stance_of
    bar, early, bonus, klass = pool.bar, pool.early, pool.bonus, pool.klass
    return _Side(members, [klass[i] for i in members],
                 [s.get(prompt, 0) if (s := st[i]) is not None else 0 for i in members],
                 [bar[i] for i in members], [early[i] for i in members],
                 [bonus[i] for i in members])


def candidates(pool: Pool, keys: list[Key],
               buckets: Mapping[Key, tuple[list[int], list[int]]]) -> Edges:
    """Each ticket's most bridging eligible partners, per bucket."""
    edges = Edges()
    plans = []
    for index, key in enumerate(keys):
        left, right = buckets[key]
        lhs = _side(pool, key, left)
        rhs = lhs if left is right else _side(pool, key, right)
        for a, b in ((lhs, rhs),) if left is right else ((lhs, rhs), (rhs, lhs)):
            # A ticket looks for partners under its first language only; it
            # is still found as a partner under every language it speaks.
            lang, firsts = key[2], pool.firsts
            mine = [x for x, i in enumerate(a.ids) if lang in firsts[i]]
            if mine:
                plans.append((len(b.ids), index, key, a, b, mine))
    memberships = sum(len(plan[5]) for plan in plans)
    # Fewer partners per ticket in large rounds, so that the work stays bounded.
    keep = max(pool.policy.min_candidates,
               min(pool.policy.candidates, pool.policy.edge_budget // max(1, memberships)))
    # Small buckets are scanned in full, smallest first, within the scan
    # budget; the others walk each profile's best-divided profiles.
    budget, limit = pool.policy.scan_budget, pool.policy.scan_limit
    for size, index, key, a, b, mine in sorted(plans, key=operator.itemgetter(0, 1)):
        cost = size * len(mine)
        if pool.rows is None or (size <= limit and cost <= budget):
            budget -= cost
            _scan(pool, key, index, a, b, limit, keep, mine, edges)
        else:
            _walk(pool, key, index, a, b, keep, mine, edges)
    edges.settle()
    return edges


def _ranked(pool: Pool, c: int, rows: list[list[float]]) -> list[int]:
    """The profiles most divided from profile c, best first (as far as a walk goes)."""
    known = pool.rankings.get(c)
    if known is None:
        row = rows[c]
        # sorted() runs in C; heapq.nlargest with a key would run in Python.
        known = pool.rankings[c] = sorted(range(len(row)), key=row.__getitem__,
                                          reverse=True)[:pool.policy.walk_steps]
    return known


def _walk(pool: Pool, key: Key, index: int, a: _Side, b: _Side, keep: int,
          seekers: Iterable[int], edges: Edges) -> None:
    """Partners for a large bucket: walk each profile's best-divided profiles."""
    # The work is per profile, not per ticket: tickets with the same profile
    # share one walk and take turns over the partners it found.
    rows, rankings = pool.rows, pool.rankings
    assert rows is not None
    others: dict[int, list[int]] = {}
    for y, c in enumerate(b.cls):
        others.setdefault(c, []).append(y)
    # Each partner is handed out at most `keep` times, so that popular
    # profiles do not soak up every list and leave others with none.
    supply = [0] * len(rows)
    for d, ys in others.items():
        supply[d] = len(ys) * keep
    turn = dict.fromkeys(others, 0)
    mine: dict[int, list[int]] = {}
    for x in seekers:
        mine.setdefault(a.cls[x], []).append(x)
    sw = pool.policy.stance_weight
    member, forbid, sep = pool.member, pool.forbid, pool.policy.greedy_bonus_share
    out = edges.found.extend  # (u, v, w, p, key): see Edges.found
    aids, bids, bcls, ast, bst = a.ids, b.ids, b.cls, a.stance, b.stance
    abar, bbar, aearly, bearly = a.bar, b.bar, a.early, b.early
    abonus, bbonus = a.bonus, b.bonus
    rnd, m = pool.rng.random, len(bids)
    ranks, step = pool.profiles.ranks, pool.profiles.generation_step
    ages = key[0] == "generations" and step > 0
    count = [0] * len(rows)
    for d, ys in others.items():
        count[d] = len(ys)
    for c, xs in mine.items():
        need = len(xs) * keep
        found: list[int] = []
        have = 0
        for d in rankings.get(c) or _ranked(pool, c, rows):
            left = supply[d]
            if left <= 0:
                continue
            size = count[d]
            take = need - have
            if take > size:
                take = size
            if take > left:
                take = left
            supply[d] = left - take
            start = turn[d]
            end = start + take
            ys = others[d]
            found += ys[start:end] if end <= size else ys[start:] + ys[:end - size]
            turn[d] = end % size
            have += take
            if have >= need:
                break
        if have < need:  # short of partners among the best profiles: fill up at random
            found += [int(rnd() * m) for _ in range(need - have)]
        drow, stride = rows[c], len(xs)
        divides = [drow[bcls[y]] for y in found]
        if ages and ranks[c] >= 0:
            # Generations: the squared age gap counts too (the walk ranked by
            # profile divides only, which already prefer another age band).
            rc = ranks[c]
            divides = [d + (rc - ranks[bcls[y]]) ** 2 * step if ranks[bcls[y]] >= 0 else d
                       for d, y in zip(divides, found, strict=True)]
        for r, x in enumerate(xs):
            i, si, bx, ex, wi = aids[x], ast[x], abar[x], aearly[x], abonus[x]
            mi, fi = member[i], forbid[i]
            mine_ys = found if stride == 1 else found[r::stride]
            mine_ds = divides if stride == 1 else divides[r::stride]
            for y, dv in zip(mine_ys, mine_ds, strict=True):
                if si and si * bst[y] == OPPOSITE:
                    dv += sw
                if (dv < bx and dv < bbar[y]) or (dv <= 0 and (ex or bearly[y])):
                    continue
                j = bids[y]
                if j == i or (fi is not None and member[j] in fi) or member[j] == mi:
                    continue
                wj = bbonus[y]
                out((i, j, dv + wi + wj, dv + sep * (wi + wj), index))


def _scan(pool: Pool, key: Key, index: int, a: _Side, b: _Side, screen: int, keep: int,
          seekers: Iterable[int], edges: Edges) -> None:
    """Every ticket of side a keeps its top partners by divides among those it screens."""
    sw, rows, table = pool.policy.stance_weight, pool.rows, pool.profiles.table
    ranks, step = pool.profiles.ranks, pool.profiles.generation_step
    generations = key[0] == "generations" and step > 0
    keep += 1  # one more, in case it is oneself
    m, size = len(b.ids), len(a.ids)
    window = min(m, screen)
    # Ticket x screens order[start:start + window]; a large bucket (only
    # without a divide matrix) is screened through random windows.
    order = pool.rng.sample(range(m), m) if window < m else list(range(m))
    order += order[:window]
    ocls = [b.cls[y] for y in order]
    ostance = [b.stance[y] for y in order]
    obar = [b.bar[y] for y in order]
    oearly = [b.early[y] for y in order]
    any_stance = any(ostance)
    member, forbid, sep = pool.member, pool.forbid, pool.policy.greedy_bonus_share
    out = edges.found.extend  # (u, v, w, p, key): see Edges.found
    bids, bbonus = b.ids, b.bonus
    for x in seekers:
        # Ties go to different partners for different tickets: each starts
        # its window at a different place.
        start = (x * m) // size
        end = start + window
        cs = ocls[start:end]
        i, cx, si, bx, ex = a.ids[x], a.cls[x], a.stance[x], a.bar[x], a.early[x]
        if rows is not None:
            drow = rows[cx]
            row = [drow[c] for c in cs]
        else:
            shift = cx << 24
            row = [table[shift | c] for c in cs]
        if si and any_stance:
            row = [d + sw if si * s == OPPOSITE else d
                   for d, s in zip(row, ostance[start:end], strict=True)]
        if generations and ranks[cx] >= 0:
            rx = ranks[cx]
            row = [d + (rx - ranks[c]) ** 2 * step if ranks[c] >= 0 else d
                   for d, c in zip(row, cs, strict=True)]
        if bx > 0:
            row = [d if (d >= bx or d >= by) and (d > 0 or not (ex or ey)) else -1.0
                   for d, by, ey in zip(row, obar[start:end], oearly[start:end],
                                        strict=True)]
        else:
            row = [d if d > 0 or not ey else -1.0
                   for d, ey in zip(row, oearly[start:end], strict=True)]
        top = (range(window) if window <= keep
               else sorted(range(window), key=row.__getitem__, reverse=True)[:keep])
        mi, fi, wi = member[i], forbid[i], a.bonus[x]
        for k in top:
            d = row[k]
            if d < 0:
                continue
            y = order[start + k]
            j = bids[y]
            if j == i or member[j] == mi or (fi is not None and member[j] in fi):
                continue
            wj = bbonus[y]
            out((i, j, d + wi + wj, d + sep * (wi + wj), index))
