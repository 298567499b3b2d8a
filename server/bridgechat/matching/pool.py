"""The waiting pool of one round, as parallel lists by position.

A round sorts its tickets by how long they have waited, then reads them by
position in its hot loops. This module holds that per-ticket view, built once
when the round starts: each ticket's wait, bar and waiting bonus, profile id
and stance codes, the members it may not meet and those it asked to meet
again, the divides between profiles, and what each ticket offers and looks
for. The round (bridgechat.matching.round), its candidate search
(bridgechat.matching.candidates) and the diagnosis of members nobody can
meet (bridgechat.matching.stuck) all read it. No matching rule lives here:
those are in bridgechat.matching.rules.
"""

from __future__ import annotations

import operator
import random
from collections.abc import Sequence

from bridgechat.core.deck import Dimension
from bridgechat.matching.profiles import Profiles
from bridgechat.matching.tickets import MODES, SIZES, STANCE_CODE, Constraints, Policy, Ticket

__all__ = ["Key", "Offer", "Pool"]

Key = tuple[str, str, str]  # (mode, prompt, language) of a bucket
Offer = tuple[str, int, str, str, str]  # (mode, size, prompt, f(luent) or l(earning), language)


class Pool:
    """The tickets of one round by priority, and what the round reads about each."""

    def __init__(self, tickets: Sequence[Ticket], now: float, dimensions: Sequence[Dimension],
                 constraints: Constraints, policy: Policy, seed: int) -> None:
        self.now = now
        self.dimensions = dimensions
        self.constraints = constraints
        self.policy = policy
        self.rng = random.Random(seed)
        # Index order is priority order: the longest waiting first (ties keep
        # the caller's order, so the same input always gives the same result).
        self.t = sorted(tickets, key=operator.attrgetter("since"))
        self.n = len(self.t)
        self.waited = [now - t.since if t.since < now else 0.0 for t in self.t]
        strong, young, settle = policy.strong, policy.bridge_wait, policy.settle
        slope = strong / (settle - young) if settle > young else 0.0
        # Policy.bar, inlined: this runs for every ticket on every tick.
        self.bar = [strong if w < young else (settle - w) * slope if w < settle else 0.0
                    for w in self.waited]
        self.early = [w < young for w in self.waited]
        scale = policy.wait_weight / max(policy.max_wait, 1e-9)
        self.bonus = [w * scale for w in self.waited]
        self.profiles = Profiles(dimensions, policy)
        self.klass = [self.profiles.id_of(t.profile) for t in self.t]
        self.member = [t.member for t in self.t]
        self.stance_of = self._stance_codes()
        self.valid = [t.mode in MODES and t.group in SIZES and bool(t.prompts) for t in self.t]
        # Each member's (first) ticket, and every ticket of the rare member
        # with more than one: no list per member for the common case.
        self.seat: dict[str, int] = {}
        self.twins: dict[str, list[int]] = {}
        seat = self.seat
        for i, m in enumerate(self.member):
            first = seat.setdefault(m, i)
            if first != i:
                self.twins.setdefault(m, [first]).append(i)
        self.forbid: list[set[str] | None] = []
        self.again: dict[int, list[int]] = {}
        self._note_constraints()
        # Each profile's best-divided profiles, filled in as candidate walks need them.
        self.rankings: dict[int, list[int]] = {}
        # The language(s) under which each ticket looks for partners: its first.
        self.firsts = [(t.languages[:1] + t.learning[:1]) if t.mode == "language_buddy"
                       else t.languages[:1] for t in self.t]
        self.rows = self.profiles.matrix(policy.profile_limit)

    def _stance_codes(self) -> list[dict[str, int] | None]:
        """Each ticket's stance code by prompt; tickets with the same stances share one."""
        code = STANCE_CODE.get
        shared: dict[tuple[tuple[str, str], ...], dict[str, int]] = {}
        out: list[dict[str, int] | None] = []
        for t in self.t:
            stances = t.stances
            if not stances:
                out.append(None)
                continue
            codes = shared.get(stances)
            if codes is None:
                codes = shared[stances] = {p: code(s, 0) for p, s in stances}
            out.append(codes)
        return out

    def tickets_of(self, member: str) -> Sequence[int]:
        """Positions of a member's tickets in this round (nearly always one)."""
        more = self.twins.get(member)
        if more is not None:
            return more
        i = self.seat.get(member)
        return () if i is None else (i,)

    def _note_constraints(self) -> None:
        """Per ticket, the members it may not meet, and its meet-again partners."""
        c, present = self.constraints, self.seat
        forbid: dict[str, set[str]] = {}
        get = forbid.get
        for pairs, unless in ((c.blocked, frozenset[frozenset[str]]()), (c.recent, c.again)):
            for pair in pairs:
                if len(pair) != 2 or (unless and pair in unless):
                    continue
                a, b = pair
                if a in present and b in present:
                    fa, fb = get(a), get(b)
                    if fa is None:
                        forbid[a] = {b}
                    else:
                        fa.add(b)
                    if fb is None:
                        forbid[b] = {a}
                    else:
                        fb.add(a)
        self.forbid = [forbid.get(m) for m in self.member]
        for pair in c.again:
            if len(pair) != 2 or pair in c.blocked:
                continue
            a, b = pair
            for i in self.tickets_of(a):
                for j in self.tickets_of(b):
                    self.again.setdefault(i, []).append(j)
                    self.again.setdefault(j, []).append(i)

    def allowed(self, i: int, j: int) -> bool:
        """Whether tickets i and j may meet as far as their members go."""
        f = self.forbid[i]
        return self.member[i] != self.member[j] and (f is None or self.member[j] not in f)

    def offers(self, i: int) -> tuple[list[Offer], list[Offer]]:
        """Ticket i as others see it (offers), and what it looks for (wants)."""
        t = self.t[i]
        fluent = [(t.mode, t.group, p, "f", lang) for p in t.prompts for lang in t.languages]
        if t.mode != "language_buddy":
            return fluent, fluent
        learning = [(t.mode, t.group, p, "l", lang) for p in t.prompts for lang in t.learning]
        wants = ([(m, g, p, "l", lang) for m, g, p, _, lang in fluent]
                 + [(m, g, p, "f", lang) for m, g, p, _, lang in learning])
        return fluent + learning, wants

