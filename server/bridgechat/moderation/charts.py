"""The figures behind the dashboard's charts, and the balance of the pool. Pure: no I/O.

Each node keeps, in memory, one sample of the waiting pool per minute for the
last hour (`Samples`): how many wait and their median wait. The pool is the
broker's, so every node samples the same pool. Rooms opened per minute and
today are counted through the broker (`Counters`), summed over every node,
and handed in here as plain lists.

The balance counts the waiting pool's answers per bucket of each dimension of
the deck. A count under `FEW` is never sent, only that it is few: with small
numbers a moderator who knows who just joined could tell that person's
answers. Nothing here names a member, a ticket or a room.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from bridgechat import matching
from bridgechat.core.deck import Dimension
from bridgechat.moderation.overview import wait_stats

MINUTES = 60
FEW = 11
# What the counters are called in the broker: rooms opened, and those among them
# that crossed two divides or more (node/queue.py counts both).
ROOMS = "rooms"
CROSSING2 = "crossing2"


def minute_of(t: float) -> int:
    """Minutes since the epoch."""
    return int(t // 60)


def first_minute(now: float) -> int:
    """The oldest of the MINUTES minutes shown at `now`; the last is the current one."""
    return minute_of(now) - MINUTES + 1


def minute_iso(minute: int) -> str:
    return datetime.fromtimestamp(minute * 60, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Samples:
    """The pool as this node last saw it in each minute of the last hour."""

    def __init__(self) -> None:
        # minute -> (members waiting, their median wait in seconds)
        self.by_minute: dict[int, tuple[int, float | None]] = {}

    def note(self, now: float, tickets: Iterable[matching.Ticket]) -> bool:
        """The pool now; True if this starts a new minute.

        The latest sample in a minute stands for it: the state at its end, or now."""
        minute = minute_of(now)
        new = minute not in self.by_minute
        waits = [max(0.0, now - t.since) for t in tickets]
        self.by_minute[minute] = (len(waits), wait_stats(waits)["median_s"])
        if new:
            oldest = first_minute(now)
            for m in [m for m in self.by_minute if m < oldest]:
                del self.by_minute[m]
        return new

    def series(self, now: float, matches: Sequence[int]) -> list[dict[str, Any]]:
        """MINUTES entries, oldest first; `matches` has the rooms opened in each of them.

        A minute with no sample (before this node started) shows nobody waiting."""
        first = first_minute(now)
        out = []
        for i in range(MINUTES):
            waiting, median = self.by_minute.get(first + i, (0, None))
            out.append({"at": minute_iso(first + i), "waiting": waiting,
                        "median_wait_s": median, "matches": matches[i] if i < len(matches) else 0})
        return out


def today(rooms: int, crossing2: int) -> dict[str, Any]:
    """Today's rooms (UTC), those crossing two divides or more, and their share."""
    return {"rooms": rooms, "crossing2": crossing2,
            "share": round(crossing2 / rooms, 3) if rooms else None}


def charts(samples: Samples, now: float, matches: Sequence[int], rooms_today: int,
           crossing2_today: int) -> dict[str, Any]:
    """The `charts` object of the feed (docs/moderation.md)."""
    return {"minutes": samples.series(now, matches), "today": today(rooms_today, crossing2_today)}


def bucket_count(bucket: str, n: int) -> dict[str, Any]:
    return {"bucket": bucket, "count": n} if n >= FEW else {"bucket": bucket, "few": True}


def balance(tickets: Iterable[matching.Ticket], dimensions: Sequence[Dimension]
            ) -> dict[str, list[dict[str, Any]]]:
    """Per dimension of the deck, the waiting members per bucket, in the deck's order.

    Every bucket is listed, empty ones too (as few), so an absent bucket tells nothing.
    An answer the deck does not know (a bucket since removed) is not counted."""
    counts: Counter[tuple[str, str]] = Counter()
    for t in tickets:
        counts.update(t.profile)
    return {d.id: [bucket_count(b, counts[(d.id, b)]) for b in d.buckets] for d in dimensions}
