"""One batch round of the matching engine, from the waiting pool to its rooms.

match_round, the engine's one entry point, runs a Round: meet-again pairs
first; then pairs, through candidate search (bridgechat.matching.candidates),
a solver (bridgechat.matching.solve) and a rescue pass for whoever has waited
past the settle point; then groups of three and four, grown greedily around
the longest waiting member. For everyone still waiting it counts how many
others they could be matched with, estimates their wait, and asks
bridgechat.matching.stuck what to suggest to those nobody can meet. The
rules it applies (who may meet, how a room is scored and described) are
bridgechat.matching.rules'; this module decides the order in which they are
applied to a whole pool.

Pure: no I/O, no clock, no global randomness. The caller passes the time and
a seed, so the same pool, time and seed always give the same rooms.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from bridgechat.core.deck import Dimension
from bridgechat.matching.candidates import candidates
from bridgechat.matching.pool import Key, Offer, Pool
from bridgechat.matching.results import Group, Reason, RoundResult
from bridgechat.matching.rules import (
    build_group,
    compatible,
    eta_s,
    group_divide,
    languages_for,
    score_group,
)
from bridgechat.matching.solve import Edges, auction, augment, greedy
from bridgechat.matching.stuck import Diagnosis
from bridgechat.matching.tickets import (
    DEFAULT_POLICY,
    NO_CONSTRAINTS,
    OPPOSITE,
    Constraints,
    Policy,
    Ticket,
)

__all__ = ["Round", "match_round"]


def match_round(tickets: Sequence[Ticket], now: float, dimensions: Sequence[Dimension],
                constraints: Constraints = NO_CONSTRAINTS, policy: Policy = DEFAULT_POLICY,
                seed: int = 0) -> RoundResult:
    """Match the whole pool at once, close to the highest total score."""
    return Round(tickets, now, dimensions, constraints, policy, seed).run()


class Round(Pool):
    """One batch round; its state is thrown away when it returns."""

    def __init__(self, tickets: Sequence[Ticket], now: float, dimensions: Sequence[Dimension],
                 constraints: Constraints, policy: Policy, seed: int) -> None:
        super().__init__(tickets, now, dimensions, constraints, policy, seed)
        # Matched, or held back for a meet-again partner: out of this round.
        self.taken = [False] * self.n
        self.grouped = [False] * self.n
        self.groups: list[Group] = []
        self.described: dict[tuple[int, str, bool, str],
                             tuple[tuple[str, ...], tuple[Reason, ...]]] = {}

    def run(self) -> RoundResult:
        """Meet-again pairs first, then pairs, then groups of three and four."""
        self._meet_again()
        self._pairs()
        for size in (3, 4):
            self._groups(size)
        waiting = self._waiting()
        left = [i for i in range(self.n) if not self.grouped[i]]
        eta = {self.t[i].id: eta_s(self.waited[i], waiting[self.t[i].id], self.t[i].group,
                                   self.policy) for i in left}
        stuck_ids = [i for i in left if waiting[self.t[i].id] == 0
                     and self.waited[i] >= self.policy.stuck_after]
        stuck = Diagnosis(self, left).explain(stuck_ids) if stuck_ids else {}
        return RoundResult(tuple(self.groups), waiting, stuck, eta)

    def _add(self, group: Group, indices: Iterable[int]) -> None:
        for i in indices:
            self.taken[i] = self.grouped[i] = True
        self.groups.append(group)

    # -- meet again ------------------------------------------------------------

    def _meet_again(self) -> None:
        """Give mutual meet-again pairs to each other before anyone else."""
        for i in sorted(self.again):
            if self.taken[i] or self.t[i].group != 2:
                continue
            for j in sorted(self.again[i]):
                a, b = self.t[i], self.t[j]
                if self.taken[j] or not compatible(a, b, self.constraints):
                    continue
                group = score_group((a, b), self.now, self.dimensions, self.constraints,
                                    self.policy, self.profiles)
                if group is not None:
                    self.taken[i] = self.taken[j] = True
                    self._add(group, (i, j))
                    break
                # Held for each other even before they may meet (the 2 s rule),
                # but never past the 10 s promise: a settled member is free to
                # meet whoever is there.
                settle = self.policy.settle
                if self.waited[i] < settle and self.waited[j] < settle:
                    self.taken[i] = self.taken[j] = True
                    break

    # -- pairs -----------------------------------------------------------------

    def _pairs(self) -> None:
        """Pairs: candidates by divides, an auction (or greedy when large), then repairs."""
        buckets = self._pair_buckets()
        if not buckets:
            return
        keys = list(buckets)
        edges = candidates(self, keys, buckets)
        if len(edges.u) <= self.policy.auction_edges:
            mate, via = auction(edges, self.n, self.policy.auction_eps)
        else:
            mate, via = greedy(edges, self.n)
        augment(mate, via, edges)
        self._rescue(mate, via, edges, keys, buckets)
        for i in range(self.n):
            j = mate[i]
            if i < j:
                e = via[i]
                group = self._pair_group(i, j, keys[edges.key[e]], edges.w[e])
                self._add(group, (i, j))

    def _pair_keys(self, i: int) -> list[tuple[Key, int]]:
        """The buckets ticket i is in, each with its side (0 fluent, 1 learning)."""
        t = self.t[i]
        own = [((t.mode, p, lang), 0) for p in t.prompts for lang in t.languages]
        if t.mode == "language_buddy":
            own += [((t.mode, p, lang), 1) for p in t.prompts for lang in t.learning]
        return own

    def _pair_buckets(self) -> dict[Key, tuple[list[int], list[int]]]:
        """Waiting pair tickets by (mode, prompt, language); language buddies in two sides."""
        buckets: dict[Key, tuple[list[int], list[int]]] = {}
        for i in range(self.n):
            if self.taken[i] or not self.valid[i] or self.t[i].group != 2:
                continue
            for key, side in self._pair_keys(i):
                sides = buckets.get(key)
                if sides is None:
                    members: list[int] = []
                    sides = buckets[key] = ((members, members) if key[0] != "language_buddy"
                                            else ([], []))
                sides[side].append(i)
        return {k: s for k, s in buckets.items() if s[0] and s[1]}

    def _rescue(self, mate: list[int], via: list[int], edges: Edges, keys: list[Key],
                buckets: Mapping[Key, tuple[list[int], list[int]]]) -> None:
        """Make sure whoever has waited past the settle point gets a compatible partner."""
        settle, index = self.policy.settle, {k: x for x, k in enumerate(keys)}
        waiting = [f for f in range(self.n) if mate[f] < 0 and not self.taken[f]
                   and self.waited[f] >= settle and self.valid[f] and self.t[f].group == 2]
        # A steal frees a fresher member, who may be the partner an earlier
        # ticket looked for in vain: repeat until nothing changes. Each pass that
        # changes something matches a settled ticket for good, so this ends.
        changed = True
        while changed:
            changed = False
            for f in waiting:
                if mate[f] >= 0:
                    continue
                found = (self._find_partner(f, mate, buckets, steal=False)
                         or self._find_partner(f, mate, buckets, steal=True))
                if found is None:
                    continue
                partner, key, w = found
                old = mate[partner]
                if old >= 0:  # a fresher member gives way and waits for the next tick
                    mate[old], via[old] = -1, -1
                e = edges.add(f, partner, w, index[key])
                mate[f], mate[partner], via[f], via[partner] = partner, f, e, e
                changed = True

    def _find_partner(self, f: int, mate: list[int],
                      buckets: Mapping[Key, tuple[list[int], list[int]]],
                      steal: bool) -> tuple[int, Key, float] | None:
        """An eligible partner for f: unmatched, or (steal) matched to a fresher member."""
        for key, side in self._pair_keys(f):
            sides = buckets.get(key)
            if sides is None:
                continue
            for p in sides[1 - side] if key[0] == "language_buddy" else sides[0]:
                if p == f or (mate[p] >= 0) != steal or not self.allowed(f, p):
                    continue
                if steal and self.waited[mate[p]] >= self.policy.settle:
                    continue
                d = group_divide(self.profiles, (self.klass[f], self.klass[p]),
                                 (self.t[f], self.t[p]), key[1], self.policy)
                if (d >= self.bar[f] or d >= self.bar[p]) and (
                        d > 0 or not (self.early[f] or self.early[p])):
                    return p, key, d + self.bonus[f] + self.bonus[p]
        return None

    def _pair_group(self, i: int, j: int, key: Key, weight: float) -> Group:
        """The Group for a matched pair, on its most divided shared prompt."""
        a, b = self.t[i], self.t[j]
        prompt = key[1]
        stances = False
        sa, sb = self.stance_of[i], self.stance_of[j]
        if sa is not None and sb is not None:
            stances = sa.get(prompt, 0) * sb.get(prompt, 0) == OPPOSITE
            if not stances:
                # Another shared prompt where they take opposite sides makes a better talk.
                for p, code in sa.items():
                    if code * sb.get(p, 0) == OPPOSITE and p in a.prompts and p in b.prompts:
                        weight += self.policy.stance_weight
                        prompt, stances = p, True
                        break
        (va, aa), (vb, ab) = self.profiles.codes[self.klass[i]], self.profiles.codes[self.klass[j]]
        language = key[2]
        cache_key = ((va ^ vb) & aa & ab, a.mode, stances,
                     language if a.mode == "language_buddy" else "")
        known = self.described.get(cache_key)
        if known is None:
            g = build_group((a, b), prompt, language, weight, self.profiles,
                            (self.klass[i], self.klass[j]), self.policy, again=False)
            self.described[cache_key] = (g.divides, g.reasons)
            return g
        return Group((a, b), prompt, language, weight, known[0], known[1], stances)

    # -- groups of three and four ----------------------------------------------

    def _groups(self, size: int) -> None:
        """Groups: grown greedily around the longest waiting member."""
        buckets: dict[Key, list[int]] = {}
        keys: dict[int, list[Key]] = {}
        for i in range(self.n):
            t = self.t[i]
            if self.taken[i] or not self.valid[i] or t.group != size:
                continue
            langs = (*t.languages, *t.learning) if t.mode == "language_buddy" else t.languages
            own = keys[i] = [(t.mode, p, lang) for p in t.prompts for lang in dict.fromkeys(langs)]
            for key in own:
                buckets.setdefault(key, []).append(i)
        settle = self.policy.settle
        for seed, own in keys.items():
            if self.taken[seed]:
                continue
            # A seed tries its busiest bucket; once settled, every bucket it is in.
            tries = sorted(own, key=lambda k: -len(buckets[k]))
            if self.waited[seed] < settle:
                tries = tries[:1]
            for key in tries:
                members = buckets[key]
                if len(members) < size:
                    continue
                grown = self._grow(seed, key, members, size)
                if grown is not None:
                    self._add(*grown)
                    # Keep bucket lists short as members leave them.
                    members[:] = [c for c in members if not self.taken[c]]
                    break

    def _grow(self, seed: int, key: Key, members: list[int],
              size: int) -> tuple[Group, list[int]] | None:
        """Add the member who bridges most, until the group is full; None if it cannot be."""
        chosen = [seed]
        window, rows, klass = self.policy.group_window, self.rows, self.klass
        while len(chosen) < size:
            best, best_gain, seen = -1, -1.0, 0
            for c in members:
                if self.taken[c] or c in chosen or not all(self.allowed(c, x) for x in chosen):
                    continue
                if rows is not None:
                    # Divides from everyone already in: cheap, and close enough to
                    # choose by; the group's real strength is checked below.
                    drow = rows[klass[c]]
                    gain = sum(drow[klass[x]] for x in chosen) + self.bonus[c]
                else:
                    gain = self._group_strength([*chosen, c], key) + self.bonus[c]
                if gain > best_gain:
                    best, best_gain = c, gain
                seen += 1
                if seen >= window:
                    break
            if best < 0:
                return None
            chosen.append(best)
        tickets = tuple(self.t[i] for i in chosen)
        if key[0] == "language_buddy" and key[2] not in languages_for(tickets):
            return None
        d = self._group_strength(chosen, key)
        if d < min(self.bar[i] for i in chosen) or (d <= 0 and any(self.early[i] for i in chosen)):
            return None
        score = d + sum(self.bonus[i] for i in chosen)
        classes = [self.klass[i] for i in chosen]
        return build_group(tickets, key[1], key[2], score, self.profiles, classes, self.policy,
                           again=False), chosen

    def _group_strength(self, chosen: Sequence[int], key: Key) -> float:
        return group_divide(self.profiles, [self.klass[i] for i in chosen],
                            [self.t[i] for i in chosen], key[1], self.policy)

    # -- what the members still waiting are told -------------------------------

    def _waiting(self) -> dict[str, int]:
        """For each ticket still waiting: how many others it could be matched with."""
        left = [i for i in range(self.n) if not self.grouped[i]]
        bits: dict[Offer, bytearray] = {}
        views = {}
        for i in left:
            own, _ = views[i] = self.offers(i)
            for key in own:
                row = bits.get(key)
                if row is None:
                    row = bits[key] = bytearray(self.n // 8 + 1)
                row[i >> 3] |= 1 << (i & 7)
        sets = {key: int.from_bytes(row, "little") for key, row in bits.items()}
        unions: dict[tuple[Offer, ...], int] = {}
        out: dict[str, int] = {}
        for i in left:
            if not self.valid[i]:
                out[self.t[i].id] = 0
                continue
            wanted = tuple(views[i][1])
            union = unions.get(wanted)
            if union is None:
                union = 0
                for key in wanted:
                    union |= sets.get(key, 0)
                unions[wanted] = union
            count = union.bit_count()
            # Not oneself, nor another ticket of the same member, nor a forbidden one.
            for j in self.tickets_of(self.member[i]):
                count -= (union >> j) & 1
            for m in self.forbid[i] or ():
                for j in self.tickets_of(m):
                    count -= (union >> j) & 1
            out[self.t[i].id] = count
        return out

