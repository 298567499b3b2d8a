"""What the matching engine gives back: rooms with their reasons, and advice.

A round returns a RoundResult: the Groups it formed (each with the Reasons
members may be told), how many others each waiting ticket could meet, a
rough wait estimate, and a Suggestion for members nobody can meet. These are
plain frozen records; their wording lives in bridgechat.matching.reasons.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from bridgechat.matching.tickets import Ticket

__all__ = ["Group", "Reason", "RoundResult", "Suggestion"]


@dataclass(frozen=True, slots=True)
class Reason:
    """One thing `because` will say about a match."""

    code: str
    dimension: str | None = None
    language: str | None = None


@dataclass(frozen=True, slots=True)
class Suggestion:
    """Why a member has nobody to be matched with, and what might help."""

    code: str  # no_prompt | no_language | no_mode | quiet
    text: str = ""
    prompt: str | None = None
    language: str | None = None
    mode: str | None = None
    group: int | None = None


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
