"""Members arriving and leaving, and their rights: export, erase, suspension.

A member is a random id and the hash of a token; a connection becomes the
member's on `hello`. These are the only handlers that touch the members'
rows in the store.
"""

from __future__ import annotations

import secrets
import time

from bridgechat.core import protocol
from bridgechat.core.limits import PerKey
from bridgechat.core.protocol import Code, ProtocolError
from bridgechat.core.room import GONE
from bridgechat.node.lifecycle import RoomLife
from bridgechat.node.links import Link, Links
from bridgechat.node.parts import Shared, today
from bridgechat.node.queue import WaitingQueue
from bridgechat.store import hash_token

NEWCOMERS = ("Too many new members came from your network in the last hour. If you have "
             "been here before, come back on the same browser; otherwise try again later.")


class Members:
    def __init__(self, shared: Shared, life: RoomLife, links: Links,
                 queue: WaitingQueue) -> None:
        self.shared = shared
        self.life = life
        self.links = links
        self.queue = queue
        # A hello without a token writes a row kept for a year: one address may make
        # only so many an hour (a library's or school's newcomers fit; a script does not).
        self.newcomers = PerKey(shared.settings.new_members_per_hour, 3600.0)

    async def hello(self, link: Link, f: protocol.Hello) -> None:
        """Welcome a new member, or one coming back with their token (to their rooms)."""
        shared, store, session = self.shared, self.shared.store, link.session
        token: str | None = None
        first_day = True
        if f.token is None:
            if not self.newcomers.allow(link.origin, time.monotonic()):
                raise ProtocolError(Code.RATE_LIMITED, NEWCOMERS)
            member, token = secrets.token_urlsafe(18), secrets.token_urlsafe(32)
            await shared.db(store.create_member, member, hash_token(token), today())
        else:
            row = await shared.db(store.member_by_token, hash_token(f.token))
            if row is None:
                raise ProtocolError(Code.UNKNOWN_TOKEN)
            if row.suspended_until is not None and row.suspended_until > time.time():
                shared.suspended[row.id] = row.suspended_until
                raise ProtocolError(Code.SUSPENDED)
            # The row is the truth: a suspension lifted on another node may linger here.
            shared.suspended.pop(row.id, None)
            member = row.id
            first_day = row.created_day == today()
            await shared.db(store.touch_member, member, today())
        session.welcome(member, first_day)
        self.links.attach(member, link)
        await shared.broker.fanout.subscribe(member)
        rooms = shared.broker.rooms
        matched: list[protocol.Matched] = []
        for room_id in sorted(await rooms.member_rooms(member)):
            room, back = await rooms.change_room(
                room_id, lambda room: (room, room.rejoin(member)))
            if back:
                await shared.publish(room.others(member), protocol.Back(
                    room=room_id, from_=room.seats[member].alias))
            if room.is_open:
                matched.append(await self.life.matched_frame(room, member))
        lang = session.lang
        link.send(protocol.Welcome(
            member=member, token=token,
            prompts=[protocol.PromptInfo(p.id, *p.text_in(lang))
                     for p in shared.catalog.prompts.values()],
            dimensions=[protocol.DimensionInfo(d.id, d.label_in(lang), list(d.buckets),
                                               d.sensitive) for d in shared.deck.dimensions],
            rooms=matched,
        ))
        for m in matched:
            meta = await rooms.meta(m.room)
            if meta is not None:
                link.send(self.life.stage_frame(m.room, meta, lang))

    async def gone(self, link: Link) -> None:
        """The connection closed: unless a newer one speaks for the member, they are away."""
        member = link.session.member
        if not self.links.detach(link):
            if member is not None and member not in self.links:
                # Cut off (suspended, erased): nobody here speaks for them any more.
                await self.shared.broker.fanout.unsubscribe(member)
            return
        assert member is not None
        await self.shared.broker.fanout.unsubscribe(member)
        await self.queue.withdraw(link)
        await self.life.drop_member(member)

    async def cut_off(self, member: str, err: ProtocolError) -> None:
        """Withdraw the member's ticket and close their socket, on whichever node."""
        pool = self.shared.broker.pool
        for t in await pool.tickets():
            if t.member == member:
                await pool.remove_ticket(t.id)
                self.shared.hooks.changed("queue")
        await self.shared.broker.fanout.cut(member, protocol.error_frame(err))

    async def suspend(self, member: str, until: float | None) -> None:
        """Suspend (until a time, inf for good) or lift (None); a suspended member is cut off."""
        await self.shared.db(self.shared.store.set_suspension, member, until)
        if until is None:
            self.shared.suspended.pop(member, None)
            return
        self.shared.suspended[member] = until
        for room_id in sorted(await self.shared.broker.rooms.member_rooms(member)):
            await self.life.end(room_id, "suspended")
        await self.cut_off(member, ProtocolError(Code.SUSPENDED))

    async def export(self, member: str) -> dict[str, object] | None:
        """Everything held about a member: the store's row and what is in RAM now."""
        broker = self.shared.broker
        stored = await self.shared.db(self.shared.store.export_member, member)
        if stored is None:
            return None
        tickets = [t for t in await broker.pool.tickets() if t.member == member]
        stored["waiting_ticket"] = [{
            "prompts": list(t.prompts), "languages": list(t.languages),
            "learning": list(t.learning), "profile": dict(t.profile),
            "stances": dict(t.stances), "mode": t.mode, "group": t.group,
        } for t in tickets]
        rooms = []
        for room_id in sorted(await broker.rooms.member_rooms(member)):
            room = await broker.rooms.room(room_id)
            if room is not None and member in room.seats:
                rooms.append({"room": room_id, "alias": room.seats[member].alias})
        stored["rooms"] = rooms
        return stored

    async def erase(self, member: str) -> None:
        """Art. 17: leave every room, drop the ticket and socket, delete every row."""
        broker = self.shared.broker
        now = time.time()
        for room_id in sorted(await broker.rooms.member_rooms(member)):
            room = await broker.rooms.room(room_id)
            if room is None or not room.is_open or room.seats[member].state is GONE:
                continue
            await self.life.depart(await broker.rooms.change_room(
                room_id, lambda room: (room, room.leave(member, "left", now))))
        await self.cut_off(member, ProtocolError(Code.UNKNOWN_TOKEN, "Your data was erased."))
        await broker.pairs.forget_member(member)
        self.shared.suspended.pop(member, None)
        await self.shared.db(self.shared.store.erase_member, member)
