"""The waiting pool: join, leave, and the batch round that opens rooms.

One node leads the rounds (the broker's lock); every node accepts joins.
Profile answers live only in the waiting ticket, in the broker's RAM.
"""

from __future__ import annotations

import logging
import re
import secrets
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace

from bridgechat import matching
from bridgechat.core import protocol
from bridgechat.core.aliases import pick_aliases
from bridgechat.core.deck import STAGES, Prompt
from bridgechat.core.protocol import Code, ProtocolError
from bridgechat.core.room import Room, RoomMeta, next_stage_at
from bridgechat.matching import reasons
from bridgechat.node.barrier import JoinBarrier
from bridgechat.node.lifecycle import RoomLife
from bridgechat.node.links import Link, Links
from bridgechat.node.parts import RecentEvents, Shared

log = logging.getLogger(__name__)
LANGUAGE = re.compile(r"^[a-z]{2}$")
# Seconds an event as read from the store is trusted: its length, whether it is still on.
EVENT_TTL = 2.0


class WaitingQueue:
    def __init__(self, shared: Shared, life: RoomLife, links: Links) -> None:
        self.shared = shared
        self.pool = shared.broker.pool
        self.life = life
        self.links = links
        # ticket id -> the hint code last told to its member (on the leader)
        self.announced: dict[str, str] = {}
        # ticket id -> blocks touching its member, loaded once per ticket
        self.blocks: dict[str, set[frozenset[str]]] = {}
        # The proof of work asked for before a join while joins come in a flood.
        self.barrier = JoinBarrier(shared)
        # Run before each open round on the pool (node/lobby.py: events' batches at their
        # start); returns the tickets the round may match, none held for an event.
        self.before_round: Callable[[list[matching.Ticket], float],
                                    Awaitable[list[matching.Ticket]]] | None = None
        self.events = RecentEvents(shared, EVENT_TTL)

    def check_join(self, f: protocol.Join) -> None:
        catalog, deck = self.shared.catalog, self.shared.deck
        for p in f.prompts:
            if p not in catalog.prompts or p in catalog.paused:
                raise ProtocolError(Code.UNKNOWN_PROMPT)
        for lang in (*f.languages, *f.learning):
            if not LANGUAGE.match(lang):
                raise ProtocolError(Code.BAD_LANGUAGE)
        for key, bucket in f.profile.items():
            dim = deck.dimension(key)
            if dim is None or bucket not in dim.buckets:
                raise ProtocolError(Code.BAD_PROFILE)
        for prompt in f.stances:
            if prompt not in f.prompts:
                raise ProtocolError(Code.BAD_FRAME, "A stance must be on one of your prompts.")

    def refuse_suspended(self, member: str) -> None:
        """A suspended member may not wait: not in the open queue, nor in an event's lobby."""
        if self.shared.suspended.get(member, 0.0) > time.time():
            raise ProtocolError(Code.SUSPENDED)

    async def enqueue(self, link: Link, ticket: matching.Ticket) -> None:
        """Put the ticket in the pool; one per member at a time, whichever node holds the
        other (the broker checks, without reading the pool)."""
        if not await self.pool.add_ticket(ticket):
            raise ProtocolError(Code.ALREADY_QUEUED)
        link.ticket = ticket

    async def join(self, link: Link, member: str, f: protocol.Join) -> None:
        self.refuse_suspended(member)
        if not await self.barrier.admit(link, f):
            return
        pool = await self.pool.tickets()
        self.check_join(f)
        check = self.shared.hooks.invite_check
        if check is not None and not await check(f.invite):
            raise ProtocolError(Code.INVITE_REQUIRED)
        ticket = matching.Ticket(
            id=secrets.token_urlsafe(12), member=member,
            prompts=tuple(dict.fromkeys(f.prompts)), languages=tuple(dict.fromkeys(f.languages)),
            since=time.time(), learning=tuple(dict.fromkeys(f.learning)),
            profile=tuple(sorted(f.profile.items())), stances=tuple(sorted(f.stances.items())),
            mode=f.mode, group=f.group, lang=link.session.lang,
        )
        constraints = await self.constraints([*pool, ticket])
        waiting = sum(1 for t in pool if t.hold_until <= ticket.since
                      and matching.compatible(ticket, t, constraints))
        # Nothing awaited between the ticket entering the pool and `queued`: another
        # node's round may match it at once, and `matched` must not come first.
        await self.enqueue(link, ticket)
        link.send(protocol.Queued(
            ticket=ticket.id, waiting=waiting,
            eta_s=matching.eta_s(0.0, waiting, ticket.group, self.shared.policy)))
        self.shared.hooks.changed("queue")

    async def leave_queue(self, link: Link, member: str, f: protocol.LeaveQueue) -> None:
        ticket, link.ticket = link.ticket, None
        if ticket is None or await self.pool.remove_ticket(ticket.id) is None:
            raise ProtocolError(Code.NOT_QUEUED)
        link.send(protocol.LeftQueue(ticket=ticket.id))
        self.shared.hooks.changed("queue")

    async def withdraw(self, link: Link) -> None:
        """The connection closed: its ticket leaves the pool."""
        if link.ticket is not None and await self.pool.remove_ticket(link.ticket.id):
            self.shared.hooks.changed("queue")

    async def constraints(self, pool: list[matching.Ticket] | None = None
                          ) -> matching.Constraints:
        """Blocks of the members waiting now (cached per ticket), recent and meet-again pairs."""
        if pool is None:
            pool = await self.pool.tickets()
        cache = self.blocks
        fresh = [t for t in pool if t.id not in cache]
        if fresh:
            found = await self.shared.db(self.shared.store.blocks_of, [t.member for t in fresh])
            for t in fresh:
                cache[t.id] = {p for p in found if t.member in p}
        live = {t.id for t in pool}
        for gone in [k for k in cache if k not in live]:
            del cache[gone]
        blocked = frozenset().union(*cache.values()) if cache else frozenset()
        pairs = self.shared.broker.pairs
        return matching.Constraints(blocked=blocked, recent=await pairs.recent_pairs(),
                                    again=await pairs.again_pairs())

    async def tick(self) -> None:
        """One batch round over the whole pool, on the one node that leads."""
        shared = self.shared
        if not await self.pool.lead(shared.id, ttl=max(2.0, 8 * shared.settings.tick)):
            return
        pool = await self.pool.tickets()
        paused = shared.catalog.paused
        if paused:
            pool = [replace(t, prompts=kept) for t in pool
                    if (kept := tuple(p for p in t.prompts if p not in paused))]
        now = time.time()
        if self.before_round is not None and any(t.event for t in pool):
            pool = await self.before_round(pool, now)
        if not pool:
            return
        constraints = await self.constraints(pool)
        began = time.perf_counter()
        result = matching.match_round(pool, now, shared.deck.dimensions,
                                      constraints, shared.policy,
                                      seed=shared.rng.randrange(2**32))
        shared.metrics.round.observe(time.perf_counter() - began)
        for group in result.groups:
            await self.open_room(group)
        await self.announce(pool, result)

    async def announce(self, pool: list[matching.Ticket], result: matching.RoundResult,
                       prune: bool = True) -> None:
        """Tell a member nobody can be matched with why, once per reason: `queued` again,
        with a hint in plain words. Nothing else is sent between `queued` and `matched`,
        so a client that expects exactly that order keeps working."""
        seen = self.announced
        for t in pool:
            stuck = result.stuck.get(t.id)
            if stuck is None or seen.get(t.id) == stuck.code:
                continue
            seen[t.id] = stuck.code
            prompt = self.shared.catalog.prompts.get(stuck.prompt or "")
            text = prompt.text_in(t.lang)[0] if prompt else None
            hint = protocol.Hint(stuck.code, reasons.suggestion_text(stuck, text, t.lang),
                                 stuck.prompt, stuck.language)
            await self.shared.publish([t.member], protocol.Queued(
                ticket=t.id, waiting=result.waiting.get(t.id, 0),
                eta_s=result.eta.get(t.id), hint=hint))
        if not prune:
            return
        live = {t.id for t in pool}
        for gone in [k for k in seen if k not in live]:
            del seen[gone]

    async def open_room(self, group: matching.Group, room_id: str | None = None,
                        count: bool = True) -> bool:
        """Open a room for a group of the matcher's (or a moderator's, who names the room
        first for the audit log); False, and nothing changed, if any of its tickets left
        the pool since (withdrawn, or matched by someone else). An event's batch counts
        its thousands of rooms at once (`count=False`, then `count_rooms`)."""
        shared = self.shared
        if await self.pool.take_tickets([t.id for t in group.tickets]) is None:
            return False
        members = [t.member for t in group.tickets]
        ids = {t.id for t in group.tickets}
        for m in members:
            link = self.links.by_member.get(m)
            if link is not None and link.ticket is not None and link.ticket.id in ids:
                link.ticket = None
        now = time.time()
        room = Room.open(room_id or secrets.token_urlsafe(12), group.prompt,
                         zip(members, pick_aliases(len(members), shared.rng), strict=True), now)
        prompt = shared.catalog.prompts.get(group.prompt) or Prompt(group.prompt, group.prompt)
        langs = {t.member: t.lang for t in group.tickets}
        because = {m: reasons.because(group, shared.deck.dimensions, prompt.text_in(lang)[0],
                                      locale=lang) for m, lang in langs.items()}
        # A room is an event's when every member came through that event's lobby.
        event = group.tickets[0].event
        if any(t.event != event for t in group.tickets):
            event = ""
        minutes = await self.minutes_for(event)
        meta = RoomMeta(
            group.prompt, prompt.text, because, group.divides, langs=langs,
            cards={stage: shared.rng.randrange(len(shared.deck.cards_for(stage)))
                   for stage in STAGES if shared.deck.cards_for(stage)},
            ends_at=now + minutes * 60 if minutes > 0 else None,
            minor=any(shared.deck.has_minor(t.profile) for t in group.tickets),
            event=event or None)
        rooms = shared.broker.rooms
        await rooms.create_room(room, meta)
        shared.metrics.matched(group.tickets[0].mode, len(group.divides),
                               [now - t.since for t in group.tickets])
        if meta.ends_at is not None:
            await rooms.wake_at(room.id, next_stage_at(now, minutes * 60, 0.0))
        pairs = [frozenset((a, b)) for i, a in enumerate(members) for b in members[i + 1:]]
        await shared.broker.pairs.note_pairs(pairs, shared.settings.repeat_pair_after)
        if group.again:
            for pair in pairs:
                await shared.broker.pairs.drop_again(pair)
        for m in members:
            await shared.publish([m], await self.life.matched_frame(room, m, meta))
            await shared.publish([m], self.life.stage_frame(room.id, meta, langs[m]))
        log.info("room opened", extra={"size": len(members), "divides": len(group.divides)})
        shared.hooks.changed("queue")
        shared.hooks.changed("rooms")
        if count:
            await self.count_rooms(now, [len(group.divides)], event)
        return True

    async def minutes_for(self, event: str) -> float:
        """How long a room lasts: its event's conversation length, else the setting (the
        event as read at most EVENT_TTL seconds ago, so a batch of thousands of rooms
        costs one store call, and an edit to the length still reaches rooms opened later)."""
        found = await self.events.get(event) if event else None
        return found.length_min if found is not None else self.shared.settings.conversation_minutes

    async def count_rooms(self, now: float, divides: Sequence[int], event: str = "") -> None:
        """Count opened rooms for the moderators' charts (through the broker, so every
        node's dashboard sees the sum): nothing but how many and how many crossed two
        divides or more, also per event for the Events tab (events/live_view.py). A
        figure that fails to count must not undo a match."""
        crossing = sum(d >= 2 for d in divides)
        counts = {"rooms": len(divides), "crossing2": crossing}
        if event:
            counts |= {f"event-rooms:{event}": len(divides), f"event-crossing2:{event}": crossing}
        try:
            await self.shared.broker.counters.add(counts, now)
        except Exception:
            log.warning("room not counted for the charts", exc_info=True)
        self.shared.hooks.changed("matched")
