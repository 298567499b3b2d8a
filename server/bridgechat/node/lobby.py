"""An event's lobby, and the one batch that opens its rooms at the start (docs/events.md).

A signed-up member says `lobby` with the event and the sign-up's token; their
answers become a ticket in the ordinary waiting pool, marked with the event
and held until its start, so the open rounds leave it out. Each node tells
its own lobby members how many wait (the held tickets of that event, counted
in the shared pool: never who), at most every two seconds.

At the first round at or after the start, the leading node takes all of the
event's tickets and runs one batch over them; its rooms open through
`WaitingQueue.open_room`, as every other room does. "Once" is a key spent in
the broker, so a node that takes the lead afterwards does not run it again.
Whoever the batch leaves stays in the pool, no longer held, and is told why
at once; the open rounds go on matching them as anyone else.
"""

from __future__ import annotations

import asyncio
import logging
import math
import secrets
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import replace

from bridgechat import matching
from bridgechat.broker import WaitingPool
from bridgechat.core import protocol
from bridgechat.core.codes import PLAIN_WORDS
from bridgechat.core.protocol import Code, ProtocolError
from bridgechat.matching.batch import solve_batch
from bridgechat.node.links import Link, Links
from bridgechat.node.parts import Shared
from bridgechat.node.queue import WaitingQueue

log = logging.getLogger(__name__)
# Present counts go out at most this often (seconds), so a crowd arriving at once
# costs each member one frame per interval, not one per arrival.
COUNT_EVERY = 2.0
# A lobby entry's count may be this old (seconds): a crowd entering at once reads the
# pool a few times a second per node, not once per member.
FRESH = 0.5
# Rooms the batch opens at once: each waits on a few broker round trips, so thousands
# open in a few seconds instead of one after another.
OPEN_AT_ONCE = 64
SIGNUP_WAITING = ("You, or this sign-up on another device or tab, are already waiting in "
                  "the lobby. Close the other one to wait here.")
AHEAD_PER_MEMBER = 0.0015  # seconds
MAX_AHEAD = 120.0
# How long the "batch ran" key outlives the start: beyond the longest event (240 min).
BATCH_KEY_LIFE = 2 * 86400.0


def ahead(present: int) -> float:
    """How many seconds before the start to solve an event's batch: about its CPU time
    here (a millisecond a member on one core, docs/matching.md) with a margin, so the
    rooms open at the start instead of a solve's length after it."""
    return min(MAX_AHEAD, 1.0 + present * AHEAD_PER_MEMBER)


def may_meet(group: matching.Group, constraints: matching.Constraints) -> bool:
    """A group solved ahead still may meet: nobody blocked anybody since."""
    ts = group.tickets
    return all(matching.compatible(a, b, constraints)
               for i, a in enumerate(ts) for b in ts[i + 1:])


def batch_key(event: str, starts: float) -> str:
    return f"event-batch:{event}:{starts:.0f}"


class Census:
    """How many wait in each event's lobby on other nodes, from a recent read of the
    whole pool: a crowd entering reads it a few times a second per node, not once per
    member. This node's own lobby members are counted from its links, exactly."""

    def __init__(self) -> None:
        self.read_at = -math.inf  # monotonic
        self.others: Counter[str] = Counter()

    async def update(self, pool: WaitingPool, mine: Callable[[], set[str]],
                     fresh: float) -> None:
        """Read the pool again once the last read is older than `fresh` seconds; `mine`
        gives the ids of this node's lobby tickets, which are left out."""
        now = time.monotonic()
        if now - self.read_at > fresh:
            self.read_at, wall = now, time.time()
            tickets = await pool.tickets()
            ours = mine()  # after the read: a ticket added meanwhile is ours, not theirs
            self.others = Counter(t.event for t in tickets
                                  if t.event and t.hold_until > wall and t.id not in ours)


class EventLobby:
    def __init__(self, shared: Shared, links: Links, queue: WaitingQueue) -> None:
        self.shared = shared
        self.links = links
        self.queue = queue
        # event slug -> (its start, the connections here waiting in its lobby)
        self.waiting: dict[str, tuple[float, set[Link]]] = {}
        # event slug -> the present count last sent from here
        self.shown: dict[str, int] = {}
        self.next_count = 0.0
        # Events whose batch ran (here or on another node), while tickets of theirs wait.
        self.batched: set[str] = set()
        self.census = Census()
        # event slug -> its batch, being solved ahead of the start (on the leader)
        self.early: dict[str, asyncio.Task[list[matching.Group]]] = {}

    # -- entering -----------------------------------------------------------------

    async def enter(self, link: Link, member: str, f: protocol.Lobby) -> None:
        shared = self.shared
        self.queue.refuse_suspended(member)
        lookup = shared.hooks.signup_ticket
        event = await shared.db(shared.store.event_by_slug, f.event) if lookup else None
        if lookup is None or event is None:
            raise ProtocolError(Code.UNKNOWN_EVENT)
        if event.cancelled:
            raise ProtocolError(Code.EVENT_CANCELLED)
        now = time.time()
        if now >= event.ends():
            raise ProtocolError(Code.EVENT_OVER)
        if now < event.starts - shared.settings.lobby_minutes * 60:
            raise ProtocolError(Code.LOBBY_NOT_OPEN)
        answers = await lookup(event, f.signup)
        if answers is None:
            raise ProtocolError(Code.NOT_SIGNED_UP)
        ticket = matching.Ticket(
            id=secrets.token_urlsafe(12), member=member, prompts=answers.prompts,
            languages=answers.languages, since=now, learning=answers.learning,
            profile=answers.profile, stances=answers.stances, mode=answers.mode,
            group=answers.group, lang=answers.lang or link.session.lang,
            event=event.slug, hold_until=event.starts, holder=f"signup:{answers.signup}")
        try:
            await self.queue.enqueue(link, ticket)
        except ProtocolError as exc:
            raise ProtocolError(exc.code, SIGNUP_WAITING) from None
        self.shared.hooks.changed("queue")
        if now >= event.starts:
            # Late: matched as in the open queue (or by the batch, if it has not run yet).
            link.send(protocol.Queued(ticket=ticket.id, waiting=0, eta_s=None))
            return
        starts, here = self.waiting.setdefault(event.slug, (event.starts, set()))
        here.add(link)
        await self.census.update(self.queue.pool, self.mine, fresh=FRESH)
        link.send(protocol.LobbyState(event=event.slug, starts=protocol.iso(starts),
                                      present=self.present(event.slug)))

    def mine(self) -> set[str]:
        return {link.ticket.id for _, here in self.waiting.values() for link in here
                if link.ticket is not None}

    def present(self, event: str) -> int:
        """Everyone in the event's lobby: elsewhere as last read, here as it is now."""
        here = self.waiting.get(event, (0.0, set[Link]()))[1]
        return self.census.others[event] + sum(self.still_waiting(k, event) for k in here)

    # -- the present count ---------------------------------------------------------

    async def refresh(self) -> None:
        """Tell this node's lobby members the present count when it changed (every node,
        about every COUNT_EVERY seconds; the count is the pool's, so it is global)."""
        now = time.monotonic()
        if not self.waiting or now < self.next_count:
            return
        self.next_count = now + COUNT_EVERY
        wall = time.time()
        await self.census.update(self.queue.pool, self.mine, fresh=0.0)
        for event, (starts, here) in list(self.waiting.items()):
            for link in [k for k in here if not self.still_waiting(k, event)]:
                here.discard(link)
            if here and not await self.still_on(event):
                await self.call_off(here)
            if not here or wall >= starts:
                del self.waiting[event]
                self.shown.pop(event, None)
                continue
            present = self.present(event)
            if self.shown.get(event) == present:
                continue
            self.shown[event] = present
            frame = protocol.LobbyState(event=event, starts=protocol.iso(starts), present=present)
            for link in here:
                link.send(frame)

    async def still_on(self, slug: str) -> bool:
        """Whether the event still exists and is not cancelled (as read at most EVENT_TTL
        seconds ago, node/queue.py)."""
        event = await self.queue.events.get(slug)
        return event is not None and not event.cancelled

    async def call_off(self, here: set[Link]) -> None:
        """The event was cancelled while its members waited here: their tickets leave the
        pool, and each is told so in plain words (the sign-ups are already deleted)."""
        told = protocol.Error(Code.EVENT_CANCELLED.value, PLAIN_WORDS[Code.EVENT_CANCELLED])
        for link in list(here):
            ticket, link.ticket = link.ticket, None
            here.discard(link)
            if ticket is not None:
                await self.queue.pool.remove_ticket(ticket.id)
            link.send(told)
        self.shared.hooks.changed("queue")

    def still_waiting(self, link: Link, event: str) -> bool:
        member = link.session.member
        return (member is not None and self.links.by_member.get(member) is link
                and link.ticket is not None and link.ticket.event == event)

    # -- the batch at the start ----------------------------------------------------

    async def split(self, pool: list[matching.Ticket], now: float) -> list[matching.Ticket]:
        """Before an open round (on the leader): solve ahead for every event about to
        start, run the batch of every event whose start has come, and return the tickets
        the open round may match (none held)."""
        due: dict[str, list[matching.Ticket]] = {}
        soon: dict[str, list[matching.Ticket]] = {}
        open_: list[matching.Ticket] = []
        for t in pool:
            if not t.event or t.event in self.batched:
                open_.append(t)
            else:
                (due if t.hold_until <= now else soon).setdefault(t.event, []).append(t)
        self.batched &= {t.event for t in pool}
        for event, tickets in soon.items():
            if (event not in self.early and tickets[0].hold_until - now <= ahead(len(tickets))
                    and await self.still_on(event)):
                self.early[event] = asyncio.create_task(
                    self.solve(tickets, tickets[0].hold_until, await self.queue.constraints(pool)))
        for event, tickets in due.items():
            starts = tickets[0].hold_until
            if not await self.still_on(event):
                continue  # cancelled: each node calls its members off (refresh)
            if await self.shared.broker.keys.spend(batch_key(event, starts),
                                                   starts + BATCH_KEY_LIFE):
                await self.batch_for_event(event, tickets, pool, now)
            self.batched.add(event)
            self.early.pop(event, None)
        return open_

    async def batch_for_event(self, event: str, tickets: list[matching.Ticket],
                              pool: list[matching.Ticket], now: float) -> None:
        """One matching run over everyone present in the event's lobby; its rooms open at
        once, and each member it leaves is told at once whether a partner is waiting.

        The run was solved a few seconds ahead (`ahead`) over those present then: its
        rooms whose members are all still here, and may still meet, open at once, while
        the few who came since or lost their partner are solved among themselves."""
        constraints = await self.queue.constraints(pool)  # the whole pool: blocks stay cached
        present = {t.id: t for t in tickets}
        kept = [g for g in await self.solved_ahead(event)
                if all(t.id in present for t in g.tickets) and may_meet(g, constraints)]
        planned = {t.id for g in kept for t in g.tickets}
        rest = [t for t in tickets if t.id not in planned]
        seated: set[str] = set()
        opened: list[int] = []  # the divides of each room opened
        gate = asyncio.Semaphore(OPEN_AT_ONCE)

        async def open_one(group: matching.Group) -> None:
            async with gate:
                group = replace(group, tickets=tuple(present[t.id] for t in group.tickets))
                if await self.queue.open_room(group, count=False):
                    opened.append(len(group.divides))
                    seated.update(t.id for t in group.tickets)

        async def open_all(groups: list[matching.Group]) -> None:
            done = await asyncio.gather(*map(open_one, groups), return_exceptions=True)
            for failed in (d for d in done if isinstance(d, Exception)):
                log.error("opening an event room failed", exc_info=failed)

        first = asyncio.create_task(open_all(kept))
        try:
            await open_all(await self.solve(rest, now, constraints) if rest else [])
        finally:
            await first  # the rooms solved ahead open even if solving the rest failed
        await self.queue.count_rooms(now, opened, event)
        left = [t for t in tickets if t.id not in seated]
        log.info("event batch", extra={"what": event, "rooms": len(opened),
                                       "waiting": len(left)})
        if left:
            await self.tell_left(left, pool, seated, now, constraints)

    async def solved_ahead(self, event: str) -> list[matching.Group]:
        task = self.early.pop(event, None)
        if task is None:
            return []
        try:
            return await task
        except Exception:
            log.error("solving an event's batch ahead failed", exc_info=True)
            return []

    async def solve(self, tickets: list[matching.Ticket], now: float,
                    constraints: matching.Constraints) -> list[matching.Group]:
        """The batch (matching/batch.py), on a thread: a large one takes seconds of CPU, in
        which this node keeps relaying and renewing its lead. Everyone present counts as
        having waited alike, and long enough that the bar is down: the batch weighs
        divides alone, and takes any compatible partner over none."""
        shared = self.shared
        even = [replace(t, since=now - shared.policy.settle) for t in tickets]
        began = time.perf_counter()
        batch = await asyncio.to_thread(solve_batch, even, shared.deck.dimensions,
                                        constraints, shared.policy, now,
                                        shared.rng.randrange(2**32))
        shared.metrics.round.observe(time.perf_counter() - began)
        return list(batch.groups)

    async def tell_left(self, left: list[matching.Ticket], pool: list[matching.Ticket],
                        matched: set[str], now: float,
                        constraints: matching.Constraints) -> None:
        """`queued` to each member the batch left (now in the open queue): with a hint in
        plain words when nobody waiting can be matched with them, without one when a
        partner is waiting (the next open round matches them: they count as long waiting)."""
        shared = self.shared
        rest = [t for t in pool if t.id not in matched and t.hold_until <= now]
        result = matching.match_round(rest, now, shared.deck.dimensions, constraints,
                                      replace(shared.policy, stuck_after=0.0),
                                      seed=shared.rng.randrange(2**32))
        for t in left:
            if t.id not in result.stuck:
                await shared.publish([t.member], protocol.Queued(
                    ticket=t.id, waiting=result.waiting.get(t.id, 0),
                    eta_s=result.eta.get(t.id)))
        await self.queue.announce(left, result, prune=False)
