"""What the dashboard's Events tab shows of one event while it runs. Pure: no I/O.

The route (events/routes.py) reads the pool, the sign-up count and the
per-event counters, and hands them in here as plain values. Nothing here
names a member: the balance counts answers per bucket and says "few" under
charts.FEW, and the list of those still waiting after the start carries only
how long each has waited and why, in words (matching/stuck.py's advice, as
the member is told it), never an alias, an id or a profile value.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bridgechat import matching
from bridgechat.core.deck import Dimension
from bridgechat.events.spec import utc_iso
from bridgechat.matching.pool import Pool
from bridgechat.matching.reasons import suggestion_text
from bridgechat.matching.stuck import Diagnosis
from bridgechat.moderation import charts, overview
from bridgechat.store.events import Event

# The waiting list is capped so the answer stays small; `waiting_total` is exact.
WAITING_ROWS = 50
# What a member with a possible partner in the pool is waiting for.
PARTNER_WAITING = "partner_waiting"
PARTNER_WORDS = "Someone they could meet is waiting too: the next round should pair them."
DAY = 86400


def rooms_names(slug: str) -> list[str]:
    """The broker counters of an event (node/queue.py counts them as its rooms open)."""
    return [f"event-rooms:{slug}", f"event-crossing2:{slug}"]


def counted_days(event: Event) -> list[float]:
    """A moment in each UTC day the event's rooms may be counted in: its start's day,
    and the next one when the event crosses midnight UTC."""
    first, last = int(event.starts // DAY), int(event.ends() // DAY)
    return [d * DAY for d in range(first, last + 1)]


def phase(event: Event, now: float, lobby_s: float) -> str:
    if event.cancelled:
        return "cancelled"
    if now >= event.ends():
        return "over"
    if now >= event.starts:
        return "running"
    return "lobby" if now >= event.starts - lobby_s else "upcoming"


@dataclass(frozen=True, slots=True)
class PoolView:
    """The waiting pool as the node read it, and what the matcher would weigh it with."""

    tickets: Sequence[matching.Ticket]
    dimensions: Sequence[Dimension]
    constraints: matching.Constraints
    policy: matching.Policy
    paused: Collection[str] = ()
    prompt_texts: Mapping[str, str] | None = None


def waiting_rows(event: Event, mine: Sequence[matching.Ticket], view: PoolView,
                 now: float) -> list[dict[str, Any]]:
    """The event's tickets still waiting after its start, the longest first: time waited
    since the start (or since arriving, for a late arrival) and why, in words."""
    # Tickets held for another event's start cannot be anyone's partner yet.
    free = [t for t in view.tickets if t.hold_until <= now]
    waiting = sorted((t for t in mine if t.hold_until <= now), key=lambda t: t.since)
    shown = waiting[:WAITING_ROWS]
    stuck = overview.stuck_members(shown, view.paused, view.constraints, free)
    advice: dict[str, matching.Suggestion] = {}
    if stuck:
        pool = Pool(free, now, view.dimensions, view.constraints, view.policy, seed=0)
        index = {t.id: i for i, t in enumerate(pool.t)}
        advice = Diagnosis(pool, range(pool.n)).explain([index[i] for i in stuck if i in index])
    texts = view.prompt_texts or {}
    rows = []
    for t in shown:
        row: dict[str, Any] = {"waited_s": round(max(0.0, now - max(t.since, event.starts)), 1)}
        s = advice.get(t.id)
        if s is None:
            row.update(reason=PARTNER_WAITING, reason_words=PARTNER_WORDS)
        else:
            row.update(reason=s.code, reason_words=suggestion_text(s, texts.get(s.prompt or "")))
        rows.append(row)
    return rows


def live_view(event: Event, public: dict[str, Any], now: float, signups: int, view: PoolView,
              rooms: int, crossing2: int, lobby_s: float) -> dict[str, Any]:
    """The answer of GET /api/events/{id}/live (docs/moderation.md, "During an event")."""
    mine = [t for t in view.tickets if t.event == event.slug]
    started = now >= event.starts
    rows = waiting_rows(event, mine, view, now) if started else []
    return {
        "event": public, "state": phase(event, now, lobby_s), "now": utc_iso(now),
        "starts": utc_iso(event.starts), "ends": utc_iso(event.ends()),
        "signups": signups, "present": len(mine),
        "balance": charts.balance(mine, view.dimensions),
        "rooms": rooms, "crossing2": crossing2,
        "share": round(crossing2 / rooms, 3) if rooms else None,
        "waiting": rows,
        "waiting_total": sum(1 for t in mine if t.hold_until <= now) if started else 0,
    }
