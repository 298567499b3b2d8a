"""The matching engine: waiting tickets in, groups out, each with its reasons.

Pure core: no I/O, no clock, no global randomness. The caller passes the time
and a seed, so the same pool, time and seed always give the same rooms.
The rules are explained for operators and contributors in docs/matching.md.

This module holds the rules: the tickets, policy and results, the hard
constraints on who may meet, how a room is scored and described, the wait
estimate, and match_round, the one entry point. How a round applies them to
a whole pool at once lives beside it: server.match_round (the round),
server.match_pool (the pool it reads), server.match_candidates (candidate
pairs), server.match_solve (the solvers) and server.match_stuck (advice for
members nobody can meet).
"""

from __future__ import annotations

import gc
import operator
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from bridgechat.core.deck import Dimension
from bridgechat.matching.reasons import Reason, Suggestion, because

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
STANCE_CODE = {"agree": 1, "disagree": 2}
# Two stance codes are opposite exactly when their product is 2 (agree x disagree).
OPPOSITE = 2


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
    # Work per round: buckets up to scan_limit tickets are scanned in full;
    # larger ones walk each profile's best-divided profiles. Each ticket keeps
    # about `candidates` partners per bucket. The auction takes candidate
    # lists up to auction_edges; beyond that a greedy matching is used.
    scan_limit: int = 64
    candidates: int = 10
    min_candidates: int = 3
    edge_budget: int = 60_000
    # Waiting decides who is matched, divides decide who with whom: the greedy
    # counts only this share of the waiting bonus when ordering pairs.
    greedy_bonus_share: float = 0.5
    walk_steps: int = 48
    # Pairs screened in full scans per round (smallest buckets first).
    scan_budget: int = 40_000
    # Distinct profiles up to which their divides are tabulated all at once.
    profile_limit: int = 1024
    auction_edges: int = 25_000
    auction_eps: float = 0.02
    group_window: int = 8
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


class _DivideTable(dict[int, float]):
    """Divides between profile pairs, keyed (a << 24) | b, computed on first use."""

    # A dict subclass so that hot comprehensions index it at C speed.
    def __init__(self, profiles: Profiles) -> None:
        super().__init__()
        self.profiles = profiles

    def __missing__(self, key: int) -> float:
        d = self[key] = self.profiles.compute(key >> 24, key & 0xFFFFFF)
        return d


class Profiles:
    """Dense ids for the distinct profiles of a round, and the divides between them."""

    def __init__(self, dimensions: Sequence[Dimension], policy: Policy) -> None:
        self.dimensions = tuple(dimensions)
        self.position = {d.id: k for k, d in enumerate(self.dimensions)}
        self.weights = tuple(d.weight for d in self.dimensions)
        self.ids: dict[tuple[tuple[str, str], ...], int] = {}
        self.vectors: list[tuple[str | None, ...]] = []
        self.ranks: list[int] = []
        self.codes: list[tuple[int, int]] = []
        self.values: dict[int, dict[str, int]] = {}
        self.table = _DivideTable(self)
        age = self.position.get(policy.age_dimension)
        self.age = age
        self.age_buckets = self.dimensions[age].buckets if age is not None else ()
        span = len(self.age_buckets) - 1
        # Squared, so that youngest-with-oldest beats two middling gaps.
        self.generation_step = policy.generations_weight / span ** 2 if span > 0 else 0.0

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
        self.codes.append(self._code(vector))
        return new

    def _code(self, vector: Sequence[str | None]) -> tuple[int, int]:
        """A profile as (values, answered), 16 bits per dimension, for crossed_mask()."""
        values = answered = 0
        for k, value in enumerate(vector):
            if value is None:
                continue
            seen = self.values.setdefault(k, {})
            values |= seen.setdefault(value, len(seen) + 1) << (16 * k)
            answered |= 0xFFFF << (16 * k)
        return values, answered

    def crossed_mask(self, a: int, b: int) -> int:
        """Dimensions two profiles cross: a field is non-zero where both answered and differ."""
        (va, aa), (vb, ab) = self.codes[a], self.codes[b]
        return (va ^ vb) & aa & ab

    def divide(self, a: int, b: int) -> float:
        """Weighted profile divides crossed by two profiles (cached)."""
        return self.table[(a << 24) | b]

    def compute(self, a: int, b: int) -> float:
        """Weighted profile divides crossed by two profiles."""
        d = 0.0
        for x, y, w in zip(self.vectors[a], self.vectors[b], self.weights, strict=True):
            if x is not None and y is not None and x != y:
                d += w
        return d

    def matrix(self, limit: int) -> list[list[float]] | None:
        """Divides between every two profiles seen so far, or None past `limit` profiles."""
        count = len(self.vectors)
        if count > limit:
            return None
        columns = list(zip(*self.vectors, strict=True)) if self.vectors else []
        parts: dict[tuple[int, str], list[float]] = {}
        rows = []
        for vector in self.vectors:
            row: list[float] | None = None
            for k, value in enumerate(vector):
                if value is None:
                    continue
                part = parts.get((k, value))
                if part is None:
                    w = self.weights[k]
                    part = parts[(k, value)] = [w if x is not None and x != value else 0.0
                                                for x in columns[k]]
                row = part if row is None else list(map(operator.add, row, part))
            rows.append(list(row) if row is not None else [0.0] * count)
        return rows

    def generations(self, classes: Iterable[int]) -> float:
        """Bonus for the age span of a group in generations mode."""
        ranks = [self.ranks[c] for c in classes if self.ranks[c] >= 0]
        return (max(ranks) - min(ranks)) ** 2 * self.generation_step if len(ranks) > 1 else 0.0

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
            return STANCE_CODE.get(stance, 0)
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
    divide = group_divide(profiles, classes, tickets, best, policy)
    if not again and divide < min(policy.bar(w) for w in waited):
        return None
    if divide <= 0 and min(waited) < policy.bridge_wait:
        return None
    score = divide + sum(policy.wait_weight * w / max(policy.max_wait, 1e-9) for w in waited)
    score += policy.again_weight if again else 0.0
    return build_group(tickets, best, languages[0], score, profiles, classes, policy, again)


def _stances_opposed(tickets: Sequence[Ticket], prompt: str) -> bool:
    codes = {_stance_code(t, prompt) for t in tickets}
    return 1 in codes and 2 in codes


def group_divide(profiles: Profiles, classes: Sequence[int], tickets: Sequence[Ticket],
                 prompt: str, policy: Policy) -> float:
    """Bridging strength of a room: weighted divides, opposed stances, age span."""
    divide = sum(profiles.weights[k] for k in profiles.crossed(classes))
    if _stances_opposed(tickets, prompt):
        divide += policy.stance_weight
    if tickets[0].mode == "generations":
        divide += profiles.generations(classes)
    return divide


def build_group(tickets: Sequence[Ticket], prompt: str, language: str, score: float,
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
    return Group(tuple(tickets), prompt, language, score,
                 tuple(dims[k].id for k in crossed), tuple(reasons), stances, again)


# -- the round -----------------------------------------------------------------


def match_round(tickets: Sequence[Ticket], now: float, dimensions: Sequence[Dimension],
                constraints: Constraints = Constraints(), policy: Policy = Policy(),
                seed: int = 0) -> RoundResult:
    """Match the whole pool at once, close to the highest total score."""
    # Imported here, not at the top: server.match_round is built on this module.
    from bridgechat.matching.round import Round

    # A round allocates many short-lived lists and no reference cycles; a full
    # collection over the server's heap in the middle of it costs more than it frees.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return Round(tickets, now, dimensions, constraints, policy, seed).run()
    finally:
        if collecting:
            gc.enable()


def eta_s(waited: float, waiting: int, group: int = 2, policy: Policy = Policy()) -> float | None:
    """A rough estimate of the seconds still to wait, or None with nobody to meet."""
    if waiting < group - 1:
        return None
    left = max(0.0, policy.settle - waited)
    # More people who could be matched with you make an early strong bridge likelier.
    return round(left / (1 + waiting - (group - 1)), 1)

