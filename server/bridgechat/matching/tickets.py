"""What the matching engine is given: waiting tickets, the policy, and who may not meet.

The bottom layer of bridgechat.matching: plain frozen records and the
constants every other module reads (the modes, the group sizes, the stance
codes). It imports nothing else of the package.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "DEFAULT_POLICY",
    "MODES",
    "NO_CONSTRAINTS",
    "OPPOSITE",
    "SIZES",
    "STANCE_CODE",
    "Constraints",
    "Policy",
    "Ticket",
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
    # An event's lobby (its id; "" for the open queue) and when its batch starts: the
    # open rounds leave a ticket out until then (epoch seconds; 0: not held).
    event: str = ""
    hold_until: float = 0.0
    # Besides the member, who else may hold one ticket at a time: an event's sign-up
    # ("signup:<id>"), so one sign-up opened on two devices waits once ("": nobody).
    holder: str = ""

    def holders(self) -> tuple[str, ...]:
        return (self.member, self.holder) if self.holder else (self.member,)


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


# The defaults of the engine's functions: both records are frozen, so one each will do.
DEFAULT_POLICY = Policy()
NO_CONSTRAINTS = Constraints()
