"""The matching engine: waiting tickets in, groups out, each with its reasons.

Pure core: no I/O, no clock, no global randomness. The caller passes the time
and a seed, so the same pool, time and seed always give the same rooms.
The rules are explained for operators and contributors in docs/matching.md.
"""

from __future__ import annotations

import itertools
import random
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from server.deck import Dimension
from server.reasons import Reason, Suggestion, because, suggestion_text

__all__ = [
    "MODES",
    "Constraints",
    "Group",
    "Policy",
    "Reason",
    "RoundResult",
    "Suggestion",
    "Ticket",
    "because",
    "compatible",
    "eta_s",
    "fits",
    "languages_for",
    "match_round",
    "score_group",
]

MODES = ("bridge", "language_buddy", "generations")
SIZES = (2, 3, 4)
_STANCE_CODE = {"agree": 1, "disagree": 2}
# Two stance codes are opposite exactly when their product is 2 (agree x disagree).
_OPPOSITE = 2


@dataclass(frozen=True, slots=True)
class Ticket:
    """One member waiting to be matched."""

    id: str
    member: str
    prompts: tuple[str, ...]
    languages: tuple[str, ...]
    since: float
    learning: tuple[str, ...] = ()
    profile: tuple[tuple[str, str], ...] = ()
    stances: tuple[tuple[str, str], ...] = ()
    mode: str = "bridge"
    group: int = 2
    # The member's interface language: cards and prompts are shown in it.
    lang: str = "en"


@dataclass(frozen=True, slots=True)
class Policy:
    """How long members wait for a strong bridge, and how the score is weighed."""

    bridge_wait: float = 2.0
    max_wait: float = 10.0
    # Weighted divides a partner must bring while a member's wait is young.
    strong: float = 2.0
    # The bar reaches zero this long before max_wait, so that a tick's delay
    # (0.25 s) can never push a compatible pair past the promised max_wait.
    settle_margin: float = 1.0
    stance_weight: float = 1.0
    # Score per member for each max_wait already waited.
    wait_weight: float = 1.0
    again_weight: float = 3.0
    generations_weight: float = 2.0
    age_dimension: str = "age_band"
    stuck_after: float = 30.0
    # Candidate edges evaluated per round (spread over all tickets), and the
    # fewest partners looked at per ticket and bucket however large the pool.
    edge_budget: int = 120_000
    min_candidates: int = 6
    swap_passes: int = 3
    # The auction stops within edges * auction_eps of its optimum.
    auction_eps: float = 0.02
    auction_eps_start: float = 0.5
    auction_degree: int = 8
    disclose_stances: bool = True

    @property
    def settle(self) -> float:
        """Seconds of waiting after which any compatible partner is accepted."""
        return max(self.bridge_wait, self.max_wait - self.settle_margin)

    def bar(self, waited: float) -> float:
        """The weighted divides a partner must bring after waiting this long."""
        if waited < self.bridge_wait:
            return self.strong
        settle = self.settle
        if waited >= settle:
            return 0.0
        return self.strong * (settle - waited) / (settle - self.bridge_wait)


@dataclass(frozen=True, slots=True)
class Constraints:
    """Member-id pairs that limit who may meet whom."""

    blocked: frozenset[frozenset[str]] = frozenset()
    recent: frozenset[frozenset[str]] = frozenset()
    again: frozenset[frozenset[str]] = frozenset()


@dataclass(frozen=True, slots=True)
class Group:
    """Members matched into one room."""

    tickets: tuple[Ticket, ...]
    prompt: str
    language: str
    score: float
    divides: tuple[str, ...]
    reasons: tuple[Reason, ...]
    stances_crossed: bool = False
    again: bool = False


@dataclass(frozen=True, slots=True)
class RoundResult:
    """What one round decided."""

    groups: tuple[Group, ...]
    waiting: Mapping[str, int]
    stuck: Mapping[str, Suggestion]
    eta: Mapping[str, float | None] = field(default_factory=dict)


# -- hard constraints ----------------------------------------------------------


def languages_for(tickets: Sequence[Ticket]) -> tuple[str, ...]:
    """Languages a room of these tickets could use, in the first ticket's order."""
    first = tickets[0]
    if first.mode == "language_buddy":
        found = []
        for lang in dict.fromkeys((*first.languages, *first.learning)):
            fluent = [i for i, t in enumerate(tickets) if lang in t.languages]
            learner = [i for i, t in enumerate(tickets) if lang in t.learning]
            everyone = len(set(fluent) | set(learner)) == len(tickets)
            if everyone and any(i != j for i in fluent for j in learner):
                found.append(lang)
        return tuple(found)
    return tuple(lang for lang in first.languages if all(lang in t.languages for t in tickets[1:]))


def _pair_allowed(a: str, b: str, constraints: Constraints) -> bool:
    """Whether two members may meet: not blocked, not a recent pair unless both asked again."""
    if a == b:
        return False
    pair = frozenset((a, b))
    if pair in constraints.blocked:
        return False
    return pair not in constraints.recent or pair in constraints.again


def fits(tickets: Sequence[Ticket], prompt: str, language: str,
         constraints: Constraints = Constraints()) -> bool:
    """Whether these tickets may share a room on this prompt in this language."""
    if not tickets or len(tickets) != tickets[0].group or tickets[0].group not in SIZES:
        return False
    first = tickets[0]
    if first.mode not in MODES:
        return False
    if any(t.mode != first.mode or t.group != first.group or prompt not in t.prompts
           for t in tickets):
        return False
    if language not in languages_for(tickets):
        return False
    members = [t.member for t in tickets]
    return all(_pair_allowed(a, b, constraints)
               for i, a in enumerate(members) for b in members[i + 1:])


def compatible(a: Ticket, b: Ticket, constraints: Constraints = Constraints()) -> bool:
    """Whether two tickets pass every hard constraint for sharing a room."""
    if a.mode != b.mode or a.group != b.group or a.mode not in MODES or a.group not in SIZES:
        return False
    if set(a.prompts).isdisjoint(b.prompts):
        return False
    if a.mode == "language_buddy":
        if set(a.languages).isdisjoint(b.learning) and set(b.languages).isdisjoint(a.learning):
            return False
    elif set(a.languages).isdisjoint(b.languages):
        return False
    return _pair_allowed(a.member, b.member, constraints)


# -- scoring -------------------------------------------------------------------


class Profiles:
    """Dense ids for the distinct profiles of a round, and the divides between them."""

    def __init__(self, dimensions: Sequence[Dimension], policy: Policy) -> None:
        self.dimensions = tuple(dimensions)
        self.position = {d.id: k for k, d in enumerate(self.dimensions)}
        self.weights = tuple(d.weight for d in self.dimensions)
        self.ids: dict[tuple[tuple[str, str], ...], int] = {}
        self.vectors: list[tuple[str | None, ...]] = []
        self.ranks: list[int] = []
        self.cache: dict[int, float] = {}
        age = self.position.get(policy.age_dimension)
        self.age = age
        self.age_buckets = self.dimensions[age].buckets if age is not None else ()
        span = len(self.age_buckets) - 1
        self.generation_step = policy.generations_weight / span if span > 0 else 0.0

    def id_of(self, profile: tuple[tuple[str, str], ...]) -> int:
        """The dense id of a profile, created on first sight."""
        known = self.ids.get(profile)
        if known is not None:
            return known
        vector: list[str | None] = [None] * len(self.dimensions)
        for dim, bucket in profile:
            k = self.position.get(dim)
            if k is not None:
                vector[k] = bucket
        rank = -1
        if self.age is not None and vector[self.age] in self.age_buckets:
            rank = self.age_buckets.index(vector[self.age])
        new = len(self.vectors)
        self.ids[profile] = new
        self.vectors.append(tuple(vector))
        self.ranks.append(rank)
        return new

    def divide(self, a: int, b: int) -> float:
        """Weighted profile divides crossed by two profiles (cached)."""
        key = (a << 24) | b
        d = self.cache.get(key)
        if d is None:
            d = 0.0
            for x, y, w in zip(self.vectors[a], self.vectors[b], self.weights, strict=True):
                if x is not None and y is not None and x != y:
                    d += w
            self.cache[key] = d
            self.cache[(b << 24) | a] = d
        return d

    def generations(self, classes: Iterable[int]) -> float:
        """Bonus for the age span of a group in generations mode."""
        ranks = [self.ranks[c] for c in classes if self.ranks[c] >= 0]
        return (max(ranks) - min(ranks)) * self.generation_step if len(ranks) > 1 else 0.0

    def crossed(self, classes: Sequence[int]) -> list[int]:
        """Positions of the dimensions a group crosses as a whole."""
        out = []
        for k in range(len(self.dimensions)):
            values = {self.vectors[c][k] for c in classes} - {None}
            if len(values) > 1:
                out.append(k)
        return out


def _stance_code(ticket: Ticket, prompt: str) -> int:
    for p, stance in ticket.stances:
        if p == prompt:
            return _STANCE_CODE.get(stance, 0)
    return 0


def score_group(tickets: Sequence[Ticket], now: float, dimensions: Sequence[Dimension],
                constraints: Constraints = Constraints(), policy: Policy = Policy(),
                profiles: Profiles | None = None) -> Group | None:
    """The best room for exactly these tickets now, or None if they may not meet yet."""
    if not tickets:
        return None
    profiles = profiles or Profiles(dimensions, policy)
    languages = languages_for(tickets)
    prompts = [p for p in tickets[0].prompts if all(p in t.prompts for t in tickets[1:])]
    if not languages or not prompts or not fits(tickets, prompts[0], languages[0], constraints):
        return None
    best = max(prompts, key=lambda p: _stances_opposed(tickets, p))  # first wins ties
    classes = [profiles.id_of(t.profile) for t in tickets]
    waited = [max(0.0, now - t.since) for t in tickets]
    again = len(tickets) == 2 and frozenset(t.member for t in tickets) in constraints.again
    divide = _group_divide(profiles, classes, tickets, best, policy)
    if not again and divide < min(policy.bar(w) for w in waited):
        return None
    if divide <= 0 and min(waited) < policy.bridge_wait:
        return None
    score = divide + sum(policy.wait_weight * w / policy.max_wait for w in waited)
    score += policy.again_weight if again else 0.0
    return _build(tickets, best, languages[0], score, profiles, classes, policy, again)


def _stances_opposed(tickets: Sequence[Ticket], prompt: str) -> bool:
    codes = {_stance_code(t, prompt) for t in tickets}
    return 1 in codes and 2 in codes


def _group_divide(profiles: Profiles, classes: Sequence[int], tickets: Sequence[Ticket],
                  prompt: str, policy: Policy) -> float:
    """Bridging strength of a room: weighted divides, opposed stances, age span."""
    divide = sum(profiles.weights[k] for k in profiles.crossed(classes))
    if _stances_opposed(tickets, prompt):
        divide += policy.stance_weight
    if tickets[0].mode == "generations":
        divide += profiles.generations(classes)
    return divide


def _build(tickets: Sequence[Ticket], prompt: str, language: str, score: float,
           profiles: Profiles, classes: Sequence[int], policy: Policy, again: bool) -> Group:
    """A Group with its divides and the reasons members may be told."""
    dims = profiles.dimensions
    crossed = profiles.crossed(classes)
    stances = _stances_opposed(tickets, prompt)
    mode = tickets[0].mode
    reasons = [Reason("again")] if again else []
    reasons.append(Reason("prompt"))
    if mode == "language_buddy":
        reasons.append(Reason("language_buddy", language=language))
    shown = [k for k in crossed if dims[k].disclose]
    if mode == "generations" and profiles.age in shown:
        reasons.append(Reason("generations"))
        shown.remove(profiles.age)
    shown.sort(key=lambda k: -dims[k].weight)
    reasons.extend(Reason("differs", dimension=dims[k].id) for k in shown)
    if stances and policy.disclose_stances:
        reasons.append(Reason("stances"))
    return Group(tuple(tickets), prompt, language, round(score, 6),
                 tuple(dims[k].id for k in crossed), tuple(reasons), stances, again)


# -- the round -----------------------------------------------------------------


def match_round(tickets: Sequence[Ticket], now: float, dimensions: Sequence[Dimension],
                constraints: Constraints = Constraints(), policy: Policy = Policy(),
                seed: int = 0) -> RoundResult:
    """Match the whole pool at once, close to the highest total score."""
    return _Round(tickets, now, dimensions, constraints, policy, seed).run()


def eta_s(waited: float, waiting: int, group: int = 2, policy: Policy = Policy()) -> float | None:
    """A rough estimate of the seconds still to wait, or None with nobody to meet."""
    if waiting < group - 1:
        return None
    left = max(0.0, policy.settle - waited)
    # More people who could be matched with you make an early strong bridge likelier.
    return round(left / (1 + waiting - (group - 1)), 1)


Key = tuple[str, str, str]  # (mode, prompt, language) of a bucket
# A bucket's tickets and, position by position: profile id, stance, bar, early, bonus.
_Columns = tuple[list[int], list[int], list[int], list[float], list[bool], list[float]]


class _Round:
    """One batch round; its state is thrown away when it returns."""

    def __init__(self, tickets: Sequence[Ticket], now: float, dimensions: Sequence[Dimension],
                 constraints: Constraints, policy: Policy, seed: int) -> None:
        self.now = now
        self.dimensions = dimensions
        self.constraints = constraints
        self.policy = policy
        self.rng = random.Random(seed)
        # Index order is priority order: the longest waiting first, then by id,
        # so the result does not depend on the order the caller listed tickets.
        self.t = sorted(tickets, key=lambda t: (t.since, t.id))
        self.n = len(self.t)
        self.waited = [max(0.0, now - t.since) for t in self.t]
        self.bar = [policy.bar(w) for w in self.waited]
        self.early = [w < policy.bridge_wait for w in self.waited]
        self.bonus = [policy.wait_weight * w / policy.max_wait for w in self.waited]
        self.profiles = Profiles(dimensions, policy)
        self.klass = [self.profiles.id_of(t.profile) for t in self.t]
        self.member = [t.member for t in self.t]
        self.valid = [t.mode in MODES and t.group in SIZES and bool(t.prompts)
                      for t in self.t]
        self.by_member: dict[str, list[int]] = {}
        for i, m in enumerate(self.member):
            self.by_member.setdefault(m, []).append(i)
        self.forbid: list[set[str] | None] = [None] * self.n
        self.again: dict[int, list[int]] = {}
        self._note_constraints()
        # Matched, or held back for a meet-again partner: out of this round.
        self.taken = [False] * self.n
        self.grouped = [False] * self.n
        self.groups: list[Group] = []

    def _note_constraints(self) -> None:
        """Per ticket, the members it may not meet, and its meet-again partners."""
        c = self.constraints
        for pairs, unless in ((c.blocked, None), (c.recent, c.again)):
            for pair in pairs:
                if len(pair) != 2 or (unless is not None and pair in unless):
                    continue
                a, b = pair
                if a in self.by_member and b in self.by_member:
                    self._forbid(a, b)
                    self._forbid(b, a)
        for pair in c.again:
            if len(pair) != 2 or pair in c.blocked:
                continue
            a, b = pair
            for i in self.by_member.get(a, ()):
                for j in self.by_member.get(b, ()):
                    self.again.setdefault(i, []).append(j)
                    self.again.setdefault(j, []).append(i)

    def _forbid(self, a: str, b: str) -> None:
        for i in self.by_member[a]:
            f = self.forbid[i]
            if f is None:
                f = self.forbid[i] = set()
            f.add(b)

    def allowed(self, i: int, j: int) -> bool:
        """Whether tickets i and j may meet as far as their members go."""
        f = self.forbid[i]
        return self.member[i] != self.member[j] and (f is None or self.member[j] not in f)

    def run(self) -> RoundResult:
        """Meet-again pairs first, then pairs, then groups of three and four."""
        self._meet_again()
        self._pairs()
        for size in (3, 4):
            self._groups(size)
        waiting = self._waiting()
        left = [i for i in range(self.n) if self.t[i].id in waiting]
        eta = {self.t[i].id: eta_s(self.waited[i], waiting[self.t[i].id], self.t[i].group,
                                   self.policy) for i in left}
        stuck_ids = [i for i in left if waiting[self.t[i].id] == 0
                     and self.waited[i] >= self.policy.stuck_after]
        stuck = _Diagnosis(self, left).explain(stuck_ids) if stuck_ids else {}
        return RoundResult(tuple(self.groups), waiting, stuck, eta)

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
                # Held together even if not yet allowed to meet (the 2 s rule):
                # they are offered to each other first.
                self.taken[i] = self.taken[j] = True
                group = score_group((a, b), self.now, self.dimensions, self.constraints,
                                    self.policy, self.profiles)
                if group is not None:
                    self._add(group, (i, j))
                break

    def _add(self, group: Group, indices: Iterable[int]) -> None:
        for i in indices:
            self.taken[i] = self.grouped[i] = True
        self.groups.append(group)

    # -- pairs -----------------------------------------------------------------

    def _pairs(self) -> None:
        """Pairs: an auction on sampled candidates, then local repairs."""
        buckets = self._pair_buckets()
        if not buckets:
            return
        size = sum(len(a) + (len(b) if b is not a else 0) for a, b in buckets.values())
        k = max(self.policy.min_candidates, self.policy.edge_budget // max(1, size))
        weights: dict[int, float] = {}
        where: dict[int, Key] = {}
        for key, (left, right) in buckets.items():
            self._candidates(key, left, right, k, weights, where)
        adj = self._adjacency(weights)
        mate = self._auction(adj, weights)
        self._improve(mate, weights, adj)
        self._rescue(mate, buckets, weights, where)
        for i in range(self.n):
            j = mate[i]
            if i < j:
                pair_key = i * self.n + j
                self._add(self._pair_group(i, j, where[pair_key], weights[pair_key]), (i, j))

    def _pair_keys(self, i: int) -> list[tuple[Key, int]]:
        """The buckets ticket i is in, each with its side (0 offers, 1 wants)."""
        t = self.t[i]
        if t.mode == "language_buddy":
            return ([((t.mode, p, lang), 0) for p in t.prompts for lang in t.languages]
                    + [((t.mode, p, lang), 1) for p in t.prompts for lang in t.learning])
        return [((t.mode, p, lang), 0) for p in t.prompts for lang in t.languages]

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

    def _candidates(self, key: Key, left: list[int], right: list[int], k: int,
                    weights: dict[int, float], where: dict[int, Key]) -> None:
        """Score every pair of a small bucket, or about k partners per ticket of a large one."""
        same = left is right
        lhs = self._columns(key, left)
        rhs = lhs if same else self._columns(key, right)
        if len(right) - same <= k and len(left) - same <= k:
            for x in range(len(left)):
                self._score_into(key, lhs, x, rhs, range(x + 1 if same else 0, len(right)),
                                 weights, where)
            return
        rnd = self.rng.random
        head = 2  # the longest waiting, whom everyone should see
        for a, b in ((lhs, rhs),) if same else ((lhs, rhs), (rhs, lhs)):
            m = len(b[0])
            fixed = list(range(min(head, m)))
            for x in range(len(a[0])):
                picks = fixed + [int(rnd() * m) for _ in range(k - head)]
                self._score_into(key, a, x, b, picks, weights, where)

    def _columns(self, key: Key, members: list[int]) -> _Columns:
        """Per-bucket copies of what the hot loop reads, indexed by position."""
        prompt = key[1]
        t = self.t
        return (members, [self.klass[i] for i in members],
                [_stance_code(t[i], prompt) if t[i].stances else 0 for i in members],
                [self.bar[i] for i in members], [self.early[i] for i in members],
                [self.bonus[i] for i in members])

    def _score_into(self, key: Key, a: _Columns, x: int, b: _Columns, picks: Iterable[int],
                    weights: dict[int, float], where: dict[int, Key]) -> None:
        """Record eligible pairs between a[x] and b[picks]: the hot loop of a round."""
        # Inlined on purpose: this runs up to edge_budget times per round.
        n = self.n
        profiles = self.profiles
        cache, divide, ranks = profiles.cache, profiles.divide, profiles.ranks
        step = profiles.generation_step if key[0] == "generations" else 0.0
        stance_weight = self.policy.stance_weight
        member, forbid = self.member, self.forbid
        ids, cls, st, bar, early, bonus = b
        i = a[0][x]
        ci, si, bi, ei, wi = a[1][x], a[2][x], a[3][x], a[4][x], a[5][x]
        mi, fi = member[i], forbid[i]
        shift = ci << 24
        for y in picks:
            j = ids[y]
            if j == i or member[j] == mi or (fi is not None and member[j] in fi):
                continue
            cj = cls[y]
            d = cache.get(shift | cj)
            if d is None:
                d = divide(ci, cj)
            if si * st[y] == _OPPOSITE:
                d += stance_weight
            if step and ranks[ci] >= 0 and ranks[cj] >= 0:
                d += abs(ranks[ci] - ranks[cj]) * step
            if (d < bi and d < bar[y]) or (d <= 0 and (ei or early[y])):
                continue
            w = d + wi + bonus[y]
            pair_key = i * n + j if i < j else j * n + i
            old = weights.get(pair_key)
            if old is None or w > old:
                weights[pair_key] = w
                where[pair_key] = key

    def _adjacency(self, weights: dict[int, float]) -> dict[int, list[tuple[int, float]]]:
        """Each ticket's eligible candidates with the pair weights."""
        n = self.n
        adj: dict[int, list[tuple[int, float]]] = {}
        for pair_key, w in weights.items():
            i, j = divmod(pair_key, n)
            adj.setdefault(i, []).append((j, w))
            adj.setdefault(j, []).append((i, w))
        return adj

    def _auction(self, adj: dict[int, list[tuple[int, float]]],
                 weights: dict[int, float]) -> list[int]:
        """Near-optimal pairs from an assignment auction on the bipartite double cover."""
        # Every ticket bids for one partner (or for itself: staying single). The
        # best assignment is the LP relaxation of max-weight matching; its
        # 2-cycles are pairs, and each longer cycle is split optimally below.
        # Bertsekas's auction with epsilon-scaling solves it to within n*eps.
        n = self.n
        price = [0.0] * n
        assign: dict[int, int] = {}
        arcs = {i: ([j for j, _ in near] + [i], [w for _, w in near] + [0.0])
                for i, near in adj.items()}
        final = self.policy.auction_eps
        eps = max(final, max(weights.values(), default=1.0) / 4)
        self.bids = 0
        assign: dict[int, int] = {}
        while True:
            owner: dict[int, int] = {}
            assign = {}
            todo = sorted(arcs, reverse=True)
            while todo:
                i = todo.pop()
                targets, values = arcs[i]
                net = [w - price[j] for j, w in zip(targets, values, strict=True)]
                best = max(net)
                k = net.index(best)
                net[k] = -1e18
                second = max(net) if len(net) > 1 else best
                target = targets[k]
                price[target] += best - second + eps
                self.bids += 1
                old = owner.get(target)
                owner[target] = i
                assign[i] = target
                if old is not None:
                    del assign[old]
                    todo.append(old)
            if eps <= final:
                break
            eps = max(final, eps / 5)
        mate = [-1] * n
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
            if len(run) == 2:
                mate[run[0]], mate[run[1]] = run[1], run[0]
            elif len(run) > 2:
                self._solve_run(run, weights, mate, cycle=True)
        return mate

    def _arcs(self, adj: dict[int, list[tuple[int, float]]]
              ) -> dict[int, list[tuple[int, float]]]:
        """What each ticket bids on: its most bridging candidates, and staying single."""
        # Ranked by divides, not weight: by weight everyone would rank the same
        # long waiters first and the auction would spend its bids on them.
        keep = self.policy.auction_degree
        bonus = self.bonus
        chosen: dict[int, set[int]] = {i: set() for i in adj}
        for i, near in adj.items():
            if len(near) > keep:
                bi = bonus[i]
                near = sorted(near, key=lambda jw: bonus[jw[0]] + bi - jw[1])[:keep]
            for j, _ in near:
                chosen[i].add(j)
                chosen[j].add(i)
        return {i: [*(jw for jw in adj[i] if jw[0] in chosen[i]), (i, 0.0)] for i in adj}

    def _solve_run(self, run: list[int], weights: dict[int, float], mate: list[int],
                   cycle: bool) -> None:
        """Exact max-weight matching of a path (or cycle) by dynamic programming."""
        n = self.n
        w = [weights[a * n + b if a < b else b * n + a] for a, b in itertools.pairwise(run)]
        if cycle:
            a, b = run[-1], run[0]
            closing = weights[a * n + b if a < b else b * n + a]
            # Either the closing edge is out (a path), or it is in and its ends are taken.
            plain, plain_total = _path_dp(w)
            inner, inner_total = _path_dp(w[1:-1])
            if inner_total + closing > plain_total:
                mate[a], mate[b] = b, a
                chosen = [e + 1 for e in inner]
            else:
                chosen = plain
        else:
            chosen, _ = _path_dp(w)
        for e in chosen:
            a, b = run[e], run[e + 1]
            mate[a], mate[b] = b, a

    def _improve(self, mate: list[int], weights: dict[int, float],
                 adj: dict[int, list[tuple[int, float]]]) -> None:
        """Local repairs: short augmenting paths that raise the total weight."""
        n = self.n
        todo = [u for u in sorted(adj) if mate[u] < 0]
        while todo:
            u = todo.pop()
            if mate[u] >= 0:
                continue
            best_gain, best = 0.0, None
            for a, w_ua in adj[u]:
                b = mate[a]
                if b < 0:
                    if w_ua > best_gain:
                        best_gain, best = w_ua, (a, -1, -1)
                    continue
                w_ab = weights[a * n + b if a < b else b * n + a]
                if w_ua - w_ab > best_gain:  # u takes a, b waits
                    best_gain, best = w_ua - w_ab, (a, b, -1)
                for v, w_bv in adj[b]:
                    if mate[v] < 0 and v != u and w_ua + w_bv - w_ab > best_gain:
                        best_gain, best = w_ua + w_bv - w_ab, (a, b, v)
            if best is None:
                continue
            a, b, v = best
            mate[u], mate[a] = a, u
            if b >= 0:
                mate[b] = v
                if v >= 0:
                    mate[v] = b
                else:
                    todo.append(b)
        self._swap(mate, weights, adj)

    def _swap(self, mate: list[int], weights: dict[int, float],
              adj: dict[int, list[tuple[int, float]]]) -> None:
        """2-opt: trade partners between two pairs when that crosses more divides."""
        n = self.n
        for _ in range(self.policy.swap_passes):
            improved = False
            for a, near in adj.items():
                b = mate[a]
                if b < 0:
                    continue
                w_ab = weights[a * n + b if a < b else b * n + a]
                for c, w_ac in near:
                    d = mate[c]
                    if d < 0 or c == b:
                        continue
                    w_bd = weights.get(b * n + d if b < d else d * n + b)
                    if w_bd is None:
                        continue
                    w_cd = weights[c * n + d if c < d else d * n + c]
                    if w_ac + w_bd > w_ab + w_cd + 1e-9:
                        mate[a], mate[c], mate[b], mate[d] = c, a, d, b
                        b, w_ab, improved = c, w_ac, True
            if not improved:
                break

    def _rescue(self, mate: list[int], buckets: Mapping[Key, tuple[list[int], list[int]]],
                weights: dict[int, float], where: dict[int, Key]) -> None:
        """Make sure whoever has waited past the settle point gets a compatible partner."""
        settle = self.policy.settle
        for u in range(self.n):
            if mate[u] >= 0 or self.taken[u] or self.waited[u] < settle or self.t[u].group != 2:
                continue
            if not self.valid[u]:
                continue
            found = self._find_partner(u, mate, buckets, steal=False)
            if found is None:
                found = self._find_partner(u, mate, buckets, steal=True)
            if found is None:
                continue
            v, key, w = found
            old = mate[v]
            if old >= 0:  # a fresher member gives way; they wait for the next tick
                mate[old] = -1
            mate[u], mate[v] = v, u
            pair_key = u * self.n + v if u < v else v * self.n + u
            weights[pair_key] = w
            where[pair_key] = key

    def _find_partner(self, u: int, mate: list[int],
                      buckets: Mapping[Key, tuple[list[int], list[int]]],
                      steal: bool) -> tuple[int, Key, float] | None:
        """An eligible partner for u: unmatched, or (steal) matched to a fresher member."""
        for key, side in self._pair_keys(u):
            sides = buckets.get(key)
            if sides is None:
                continue
            for v in sides[1 - side] if key[0] == "language_buddy" else sides[0]:
                if v == u or not self.allowed(u, v):
                    continue
                if (mate[v] >= 0) != steal:
                    continue
                if steal and self.waited[mate[v]] >= self.policy.settle:
                    continue
                d = self._divide(u, v, key)
                if self._eligible(u, v, d):
                    return v, key, d + self.bonus[u] + self.bonus[v]
        return None

    def _divide(self, i: int, j: int, key: Key) -> float:
        """Bridging strength of pair (i, j) in a bucket."""
        return _group_divide(self.profiles, (self.klass[i], self.klass[j]),
                             (self.t[i], self.t[j]), key[1], self.policy)

    def _eligible(self, i: int, j: int, d: float) -> bool:
        """The relaxation rule for a pair with bridging strength d."""
        if d < self.bar[i] and d < self.bar[j]:
            return False
        return d > 0 or not (self.early[i] or self.early[j])

    def _pair_group(self, i: int, j: int, key: Key, weight: float) -> Group:
        """The Group for a matched pair, on its most divided shared prompt."""
        a, b = self.t[i], self.t[j]
        prompt = key[1]
        if a.stances and b.stances and not _stances_opposed((a, b), prompt):
            # Another shared prompt where they take opposite sides makes a better talk.
            for p in a.prompts:
                if p in b.prompts and _stances_opposed((a, b), p):
                    weight += self.policy.stance_weight
                    prompt = p
                    break
        classes = (self.klass[i], self.klass[j])
        return _build((a, b), prompt, key[2], weight, self.profiles, classes, self.policy,
                      again=False)

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
        for seed in keys:
            if self.taken[seed]:
                continue
            options = [g for key in keys[seed] if len(buckets[key]) >= size
                       for g in (self._grow(seed, key, buckets[key], size),) if g is not None]
            if options:
                best, chosen = max(options, key=lambda g: g[0].score)
                self._add(best, chosen)

    def _grow(self, seed: int, key: Key, members: list[int],
              size: int) -> tuple[Group, list[int]] | None:
        """Add the member who bridges most, until the group is full; None if it cannot be."""
        chosen = [seed]
        window = 12  # candidates looked at per seat; groups are few, so keep it cheap
        while len(chosen) < size:
            best, best_gain, seen = -1, -1.0, 0
            for c in members:
                if self.taken[c] or c in chosen or not all(self.allowed(c, x) for x in chosen):
                    continue
                trial = [*chosen, c]
                gain = self._group_strength(trial, key) + self.bonus[c]
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
        return _build(tickets, key[1], key[2], score, self.profiles, classes, self.policy,
                      again=False), chosen

    def _group_strength(self, chosen: Sequence[int], key: Key) -> float:
        return _group_divide(self.profiles, [self.klass[i] for i in chosen],
                             [self.t[i] for i in chosen], key[1], self.policy)

    # -- what the members still waiting are told -------------------------------

    def _offers(self, i: int) -> tuple[list[tuple[str, int, str, str, str]],
                                       list[tuple[str, int, str, str, str]]]:
        """Ticket i as seen by others (offers) and what it looks for (wants)."""
        t = self.t[i]
        if t.mode != "language_buddy":
            keys = [(t.mode, t.group, p, "f", lang) for p in t.prompts for lang in t.languages]
            return keys, keys
        fl = [(t.mode, t.group, p, "f", lang) for p in t.prompts for lang in t.languages]
        le = [(t.mode, t.group, p, "l", lang) for p in t.prompts for lang in t.learning]
        wants = ([(m, g, p, "l", lang) for m, g, p, _, lang in fl]
                 + [(m, g, p, "f", lang) for m, g, p, _, lang in le])
        return fl + le, wants

    def _waiting(self) -> dict[str, int]:
        """For each ticket still waiting: how many others it could be matched with."""
        left = [i for i in range(self.n) if not self.grouped[i]]
        offers: dict[tuple[str, int, str, str, str], bytearray] = {}
        views = {}
        for i in left:
            own, wants = self._offers(i)
            views[i] = (own, wants)
            for key in own:
                bits = offers.get(key)
                if bits is None:
                    bits = offers[key] = bytearray(self.n // 8 + 1)
                bits[i >> 3] |= 1 << (i & 7)
        sets = {key: int.from_bytes(bits, "little") for key, bits in offers.items()}
        unions: dict[tuple[tuple[str, int, str, str, str], ...], int] = {}
        out: dict[str, int] = {}
        for i in left:
            own, wants = views[i]
            if not self.valid[i]:
                out[self.t[i].id] = 0
                continue
            wanted = tuple(wants)
            union = unions.get(wanted)
            if union is None:
                union = 0
                for key in wanted:
                    union |= sets.get(key, 0)
                unions[wanted] = union
            count = union.bit_count()
            # Not oneself, nor another ticket of the same member, nor a forbidden one.
            for j in self.by_member[self.member[i]]:
                count -= (union >> j) & 1
            for m in self.forbid[i] or ():
                for j in self.by_member[m]:
                    count -= (union >> j) & 1
            out[self.t[i].id] = count
        return out


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


class _Diagnosis:
    """Why a member has nobody to meet, from the tickets still waiting."""

    def __init__(self, rnd: _Round, left: Sequence[int]) -> None:
        self.r = rnd
        # What others offer, by (mode, size, role, language) and by (mode, size, prompt, role).
        self.prompts_by_lang: dict[tuple[str, int, str, str], Counter[str]] = {}
        self.langs_by_prompt: dict[tuple[str, int, str, str], Counter[str]] = {}
        self.modes_by_topic: dict[tuple[str, str], Counter[tuple[str, int]]] = {}
        for i in left:
            for mode, size, p, role, lang in rnd._offers(i)[0]:
                self.prompts_by_lang.setdefault((mode, size, role, lang), Counter())[p] += 1
                self.langs_by_prompt.setdefault((mode, size, p, role), Counter())[lang] += 1
                if role == "f":
                    self.modes_by_topic.setdefault((p, lang), Counter())[(mode, size)] += 1

    def explain(self, stuck: Sequence[int]) -> dict[str, Suggestion]:
        """A Suggestion for each stuck ticket."""
        return {self.r.t[i].id: self.suggestion(i) for i in stuck}

    def suggestion(self, i: int) -> Suggestion:
        """The most useful change for ticket i: another prompt, language, or mode."""
        t = self.r.t[i]
        own, wants = self.r._offers(i)
        mine = Counter(own)
        prompts: Counter[str] = Counter()
        langs: Counter[str] = Counter()
        for mode, size, p, role, lang in dict.fromkeys(wants):
            prompts += self.prompts_by_lang.get((mode, size, role, lang), Counter())
            langs += self.langs_by_prompt.get((mode, size, p, role), Counter())
        for mode, size, p, role, lang in mine:
            if (mode, size, p, role, lang) in wants:
                prompts[p] -= 1
                langs[lang] -= 1
        spoken = {*t.languages, *t.learning}
        other_prompts = [(c, p) for p, c in prompts.items() if c > 0 and p not in t.prompts]
        other_langs = [(c, lang) for lang, c in langs.items() if c > 0 and lang not in spoken]
        if other_prompts:
            best = min(other_prompts, key=lambda cp: (-cp[0], cp[1]))[1]
            return _suggest("no_prompt", prompt=best)
        if other_langs:
            best = min(other_langs, key=lambda cl: (-cl[0], cl[1]))[1]
            return _suggest("no_language", language=best)
        modes: Counter[tuple[str, int]] = Counter()
        for p in t.prompts:
            for lang in t.languages:
                modes += self.modes_by_topic.get((p, lang), Counter())
        modes.pop((t.mode, t.group), None)
        if modes:
            (mode, size), _ = min(modes.items(), key=lambda mc: (-mc[1], mc[0]))
            return _suggest("no_mode", mode=mode if mode != t.mode else None,
                            group=size if size != t.group else None)
        return _suggest("quiet")


def _suggest(code: str, prompt: str | None = None, language: str | None = None,
             mode: str | None = None, group: int | None = None) -> Suggestion:
    """A Suggestion with its English text."""
    s = Suggestion(code, "", prompt, language, mode, group)
    return Suggestion(code, suggestion_text(s), prompt, language, mode, group)
