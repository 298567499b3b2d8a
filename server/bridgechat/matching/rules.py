"""The matching rules: who may meet, how strongly a room bridges, how it is described.

Hard constraints (`compatible`, `fits`, `languages_for`), the score of a
room (`score_group`, `group_divide`), the Group it becomes with the reasons
members may be told (`build_group`), and the wait estimate (`eta_s`). The
rules are explained for operators and contributors in docs/matching.md. A
round (bridgechat.matching.round) applies them to a whole pool at once, some
of them inlined in its hot loops for speed.
"""

from __future__ import annotations

from collections.abc import Sequence

from bridgechat.core.deck import Dimension
from bridgechat.matching.profiles import Profiles
from bridgechat.matching.results import Group, Reason
from bridgechat.matching.tickets import (
    DEFAULT_POLICY,
    MODES,
    NO_CONSTRAINTS,
    SIZES,
    STANCE_CODE,
    Constraints,
    Policy,
    Ticket,
)

__all__ = [
    "build_group",
    "compatible",
    "eta_s",
    "fits",
    "group_divide",
    "languages_for",
    "score_group",
]


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
         constraints: Constraints = NO_CONSTRAINTS) -> bool:
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


def compatible(a: Ticket, b: Ticket, constraints: Constraints = NO_CONSTRAINTS) -> bool:
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


def _stance_code(ticket: Ticket, prompt: str) -> int:
    for p, stance in ticket.stances:
        if p == prompt:
            return STANCE_CODE.get(stance, 0)
    return 0


def score_group(tickets: Sequence[Ticket], now: float, dimensions: Sequence[Dimension],
                constraints: Constraints = NO_CONSTRAINTS, policy: Policy = DEFAULT_POLICY,
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


# -- waiting -------------------------------------------------------------------


def eta_s(waited: float, waiting: int, group: int = 2,
          policy: Policy = DEFAULT_POLICY) -> float | None:
    """A rough estimate of the seconds still to wait, or None with nobody to meet."""
    if waiting < group - 1:
        return None
    left = max(0.0, policy.settle - waited)
    # More people who could be matched with you make an early strong bridge likelier.
    return round(left / (1 + waiting - (group - 1)), 1)
