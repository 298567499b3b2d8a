"""Hand-matching: may a moderator put these waiting tickets in one room, and why had
the matcher not paired them itself?

A moderator may overrule the matcher's patience and preferences (no shared
prompt, different modes, too little divide yet, a pair met recently) but
never what protects members: a room needs a language everyone speaks (or a
language-buddy fit), nobody meets someone they blocked, a paused prompt
opens no rooms, and nobody is put in a room of another size than they asked
for. The room is built by the matcher's own rules (bridgechat.matching.rules),
so members are told only the reasons that hold for it.

Pure, like the rest of the package: the caller passes the pool, the time and
the paused prompts.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace

from bridgechat.core.deck import Dimension
from bridgechat.matching.profiles import Profiles
from bridgechat.matching.results import Group
from bridgechat.matching.rules import build_group, group_divide, languages_for, score_group
from bridgechat.matching.tickets import (
    DEFAULT_POLICY,
    NO_CONSTRAINTS,
    SIZES,
    Constraints,
    Policy,
    Ticket,
)

__all__ = ["HARD", "Finding", "HandCheck", "check_hand"]

# What a moderator cannot overrule.
HARD = ("unknown_ticket", "bad_group", "different_languages", "blocked", "prompt_paused")

WORDS = {
    "unknown_ticket": "At least one of these members is no longer waiting.",
    "bad_group": "Choose two to four different waiting members, as many as each of them "
                 "asked to talk with.",
    "different_languages": "They have no language in common (or, for language buddies, "
                           "nobody speaks what another is learning).",
    "blocked": "One of them has blocked another.",
    "prompt_paused": "The prompt they share is paused.",
    "different_modes": "They chose different kinds of conversation.",
    "different_sizes": "They asked for rooms of different sizes.",
    "no_shared_prompt": "They chose no prompt in common.",
    "recently_matched": "They were matched with each other a short while ago.",
    "bridge_wait": "They gave the same answers, and one of them has waited only a few "
                   "seconds: the matcher first looks for someone who differs.",
    "weak_bridge": "They differ on too little for how briefly they have waited: the matcher "
                   "holds out for a stronger bridge a little longer.",
    "would_match": "Nothing keeps the matcher from pairing them now: it may have found "
                   "other partners first, or not have run since.",
}


@dataclass(frozen=True, slots=True)
class Finding:
    """One reason, as a stable code and plain words."""

    code: str
    message: str


@dataclass(frozen=True, slots=True)
class HandCheck:
    """The answer: refused (a hard constraint), why the matcher had not paired them,
    and the room to open when nothing refused it."""

    refused: Finding | None
    why_not: tuple[Finding, ...]
    group: Group | None


def _finding(code: str) -> Finding:
    return Finding(code, WORDS[code])


def check_hand(wanted: Sequence[str], pool: Sequence[Ticket], now: float,
               dimensions: Sequence[Dimension], constraints: Constraints = NO_CONSTRAINTS,
               policy: Policy = DEFAULT_POLICY, paused: Collection[str] = ()) -> HandCheck:
    """Whether the tickets `wanted` (ids in `pool`) may share a room, and why not yet."""
    if not min(SIZES) <= len(wanted) <= max(SIZES) or len(set(wanted)) != len(wanted):
        return HandCheck(_finding("bad_group"), (), None)
    by_id = {t.id: t for t in pool}
    if any(i not in by_id for i in wanted):
        return HandCheck(_finding("unknown_ticket"), (), None)
    # The longest waiting first: their order decides ties (prompt, language), as in a round.
    tickets = sorted((by_id[i] for i in wanted), key=lambda t: t.since)
    why_not = tuple(_finding(c) for c in _why_not(tickets, now, dimensions, constraints,
                                                  policy, paused))
    refused = _refusal(tickets, constraints, paused)
    if refused is not None:
        return HandCheck(_finding(refused), why_not, None)
    return HandCheck(None, why_not, _room(tickets, dimensions, constraints, policy, paused))


# -- the hard constraints ----------------------------------------------------------


def _as_one_mode(tickets: Sequence[Ticket]) -> list[Ticket]:
    """Tickets of mixed modes meet as a plain bridge: in a language all of them speak."""
    if len({t.mode for t in tickets}) == 1:
        return list(tickets)
    return [replace(t, mode="bridge") for t in tickets]


def _pairs(tickets: Sequence[Ticket]) -> list[frozenset[str]]:
    members = [t.member for t in tickets]
    return [frozenset((a, b)) for i, a in enumerate(members) for b in members[i + 1:]]


def _shared_prompts(tickets: Sequence[Ticket]) -> list[str]:
    return [p for p in tickets[0].prompts if all(p in t.prompts for t in tickets[1:])]


def _prompts(tickets: Sequence[Ticket], paused: Collection[str]) -> list[str]:
    """The prompts the room may be on: the shared ones not paused; with none shared, those
    most of them chose. Empty: every prompt that could be used is paused."""
    shared = _shared_prompts(tickets)
    if shared:
        return [p for p in shared if p not in paused]
    counts = Counter(p for t in tickets for p in t.prompts if p not in paused)
    top = max(counts.values(), default=0)
    return [p for p, n in counts.items() if n == top and top > 0]


def _refusal(tickets: Sequence[Ticket], constraints: Constraints,
             paused: Collection[str]) -> str | None:
    n = len(tickets)
    if len({t.member for t in tickets}) != n or any(t.group != n for t in tickets):
        return "bad_group"
    if not languages_for(_as_one_mode(tickets)):
        return "different_languages"
    if any(pair in constraints.blocked for pair in _pairs(tickets)):
        return "blocked"
    if not _prompts(tickets, paused):
        return "prompt_paused"
    return None


# -- why the matcher had not --------------------------------------------------------


def _why_not(tickets: Sequence[Ticket], now: float, dimensions: Sequence[Dimension],
             constraints: Constraints, policy: Policy, paused: Collection[str]) -> list[str]:
    first, codes = tickets[0], []
    if any(t.mode != first.mode for t in tickets):
        codes.append("different_modes")
    if any(t.group != first.group for t in tickets) or first.group != len(tickets):
        codes.append("different_sizes")
    shared = _shared_prompts(tickets)
    if not shared:
        codes.append("no_shared_prompt")
    elif all(p in paused for p in shared):
        codes.append("prompt_paused")
    if not languages_for(_as_one_mode(tickets)):
        codes.append("different_languages")
    pairs = _pairs(tickets)
    if any(p in constraints.blocked for p in pairs):
        codes.append("blocked")
    if any(p in constraints.recent and p not in constraints.again for p in pairs):
        codes.append("recently_matched")
    if codes:
        return codes
    # Every hard rule of the matcher holds: what is left is its patience (rules.score_group).
    usable = [replace(t, prompts=tuple(p for p in t.prompts if p not in paused))
              for t in tickets]
    if score_group(usable, now, dimensions, constraints, policy) is not None:
        return ["would_match"]
    profiles = Profiles(dimensions, policy)
    classes = [profiles.id_of(t.profile) for t in usable]
    divide = max(group_divide(profiles, classes, usable, p, policy)
                 for p in _shared_prompts(usable))
    waited = min(max(0.0, now - t.since) for t in tickets)
    return ["bridge_wait" if divide <= 0 and waited < policy.bridge_wait else "weak_bridge"]


# -- the room ------------------------------------------------------------------------


def _room(tickets: Sequence[Ticket], dimensions: Sequence[Dimension],
          constraints: Constraints, policy: Policy, paused: Collection[str]) -> Group:
    """The room, described by the matcher's own rules, with only the reasons that hold."""
    shaped = _as_one_mode(tickets)
    language = languages_for(shaped)[0]
    profiles = Profiles(dimensions, policy)
    classes = [profiles.id_of(t.profile) for t in shaped]
    divides = {p: group_divide(profiles, classes, shaped, p, policy)
               for p in _prompts(tickets, paused)}
    prompt = max(divides, key=divides.__getitem__)  # the first wins ties
    pairs = _pairs(tickets)
    again = len(pairs) == 1 and pairs[0] in constraints.again
    group = build_group(shaped, prompt, language, divides[prompt], profiles, classes,
                        policy, again)
    everyone = all(prompt in t.prompts for t in tickets)
    reasons = tuple(r for r in group.reasons if r.code != "prompt" or everyone)
    return replace(group, tickets=tuple(tickets), reasons=reasons)
