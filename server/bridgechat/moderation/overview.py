"""What the moderators' dashboard shows, computed from the pool. Pure: no I/O.

The queue as moderators see it carries prompts, languages, mode and time
waited, never a profile answer, a stance or a member id. "Stuck" counts
waiting members who have waited longer than the matcher's promise
(Policy.max_wait) and have nobody in the pool they could be matched with
(the matching engine's hard constraints, minus paused prompts), by prompt
and language, so a moderator sees an imbalance while it forms and can
invite more people for that prompt or language.

Lists are capped so a frame stays under the protocol's 16 KiB; the totals
are always exact.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import replace
from typing import Any

from bridgechat import matching
from bridgechat.core.room import Room

QUEUE_ROWS = 80
STUCK_ROWS = 40
ROOM_ROWS = 40


def queue_entries(tickets: Iterable[matching.Ticket], now: float) -> list[dict[str, Any]]:
    """One row per waiting ticket, oldest first."""
    return [{"ticket": t.id, "prompts": list(t.prompts), "languages": list(t.languages),
             "mode": t.mode, "waited_s": round(max(0.0, now - t.since), 1)}
            for t in sorted(tickets, key=lambda t: t.since)]


def wait_stats(waits: Sequence[float]) -> dict[str, float | None]:
    if not waits:
        return {"median_s": None, "longest_s": None}
    return {"median_s": round(statistics.median(waits), 1), "longest_s": round(max(waits), 1)}


def _without_paused(tickets: Iterable[matching.Ticket],
                    paused: Collection[str]) -> list[matching.Ticket]:
    if not paused:
        return list(tickets)
    return [replace(t, prompts=tuple(p for p in t.prompts if p not in paused)) for t in tickets]


def _languages(t: matching.Ticket) -> tuple[str, ...]:
    return (*t.languages, *t.learning) if t.mode == "language_buddy" else t.languages


def stuck_members(tickets: Sequence[matching.Ticket], paused: Collection[str],
                  constraints: matching.Constraints,
                  pool: Sequence[matching.Ticket] | None = None) -> set[str]:
    """Ids of `tickets` with fewer possible partners (in `pool`, by default the same
    tickets) than their group needs."""
    asked = {t.id for t in tickets}
    live = _without_paused(tickets if pool is None else pool, paused)
    # Candidates share a prompt and a spoken language (or, for language buddies,
    # one speaks what the other learns): an index keeps this near linear.
    index: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i, t in enumerate(live):
        for p in t.prompts:
            for lang in _languages(t):
                index[(p, lang)].append(i)
    stuck: set[str] = set()
    for i, t in enumerate(live):
        if t.id not in asked:
            continue
        wanted = t.group - 1
        langs = _languages(t)
        found: set[int] = set()
        for p in t.prompts:
            for lang in langs:
                for j in index.get((p, lang), ()):
                    if j != i and j not in found and matching.compatible(t, live[j], constraints):
                        found.add(j)
                        if len(found) >= wanted:
                            break
                if len(found) >= wanted:
                    break
            if len(found) >= wanted:
                break
        if len(found) < wanted:
            stuck.add(t.id)
    return stuck


def stuck_counts(tickets: Sequence[matching.Ticket], stuck: Collection[str]
                 ) -> list[dict[str, Any]]:
    """Per prompt and language: members waiting and those (of `stuck`) with no counterpart."""
    waiting: dict[tuple[str, str], int] = defaultdict(int)
    alone: dict[tuple[str, str], int] = defaultdict(int)
    for t in tickets:
        for p in t.prompts:
            for lang in t.languages:
                waiting[(p, lang)] += 1
                alone[(p, lang)] += t.id in stuck
    keys = sorted(waiting, key=lambda k: (-alone[k], -waiting[k], k))
    return [{"prompt": p, "language": lang, "waiting": waiting[(p, lang)],
             "stuck": alone[(p, lang)]} for p, lang in keys[:STUCK_ROWS]]


def queue_frame(kind: str, tickets: Sequence[matching.Ticket], now: float,
                paused: Collection[str], constraints: matching.Constraints,
                max_wait: float = 0.0) -> dict[str, Any]:
    """`queue_changed` (or the queue part of `snapshot`), with this server's additions.

    Stuck: only those who have waited longer than `max_wait` (the matcher's promise,
    Policy.max_wait): before that, a lone member is simply waiting for someone to come."""
    rows = queue_entries(tickets, now)
    stuck = stuck_members([t for t in tickets if now - t.since > max_wait], paused,
                          constraints, tickets)
    return {"type": kind, "queue": rows[:QUEUE_ROWS], "waiting": len(rows),
            "wait": wait_stats([r["waited_s"] for r in rows]),
            "stuck": stuck_counts(tickets, stuck), "stuck_total": len(stuck)}


def rooms_frame(rooms: Iterable[Room], now: float) -> dict[str, Any]:
    """`rooms_changed`: the count of live rooms, and the longest-running of them."""
    live = [r for r in rooms if r.is_open]
    live.sort(key=lambda r: r.created)
    return {"type": "rooms_changed", "rooms": len(live), "live": [
        {"room": r.id, "prompt": r.prompt, "size": sum(1 for _ in r.seated()),
         "age_s": round(max(0.0, now - r.created), 1)} for r in live[:ROOM_ROWS]]}
