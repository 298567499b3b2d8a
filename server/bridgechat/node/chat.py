"""What a member does in a room: send, typing, resume, leave, block, feedback, report.

Each handler takes the connection, the member and the decoded frame, asks
the pure core (room rules, franking) what happens, and raises
`ProtocolError` for anything the member got wrong; the node turns that into
an `error` frame and the connection keeps its state. Nothing here logs or
stores message text.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from bridgechat.broker import send as numbered
from bridgechat.core import consent, extension, protocol
from bridgechat.core.protocol import Code, ProtocolError
from bridgechat.core.room import GONE, Accepted, Room, RoomMeta
from bridgechat.core.watch import Nudge
from bridgechat.node.lifecycle import RoomLife
from bridgechat.node.links import Link, Links
from bridgechat.node.parts import ReportDraft, Shared


class Chat:
    def __init__(self, shared: Shared, life: RoomLife, links: Links) -> None:
        self.shared = shared
        self.links = links
        self.rooms = shared.broker.rooms
        self.life = life
        # Bound once: a relayed message costs one counter increment, nothing more.
        self.relayed = shared.metrics.relayed.inc

    async def room(self, room_id: str) -> Room:
        room = await self.rooms.room(room_id)
        if room is None:
            raise ProtocolError(Code.UNKNOWN_ROOM)
        return room

    def send(self, link: Link, member: str, f: protocol.Send) -> None:
        """Begin a chat message: numbered at once (one node) or when Redis answers.

        Not a coroutine: on one node a message costs no task and no wait. The
        answer (`ack` or `error`) is sent from here, or from the reply's callback.
        The session has checked the text and charged the rate limit."""
        session = link.session
        allowed = session.allowed
        try:
            got = self.rooms.send_soon(f.room, member, f.id, protocol.iso(time.time()), f.text,
                                       allowed)
        except BaseException:
            session.send_failed(allowed)
            raise
        relayed = self.relayed
        if type(got) is Accepted:
            acked(link, f, allowed, got, relayed)
            return
        session.inflight += 1
        assert isinstance(got, asyncio.Future)

        def answered(fut: asyncio.Future[Accepted]) -> None:
            link.one_answered()
            if fut.cancelled():
                return
            exc = fut.exception()
            if exc is None:
                acked(link, f, allowed, fut.result(), relayed)
            else:
                session.send_failed(allowed)
                self.shared.metrics.refused(link.refuse(f, exc))

        got.add_done_callback(answered)

    async def send_checked(self, link: Link, member: str, f: protocol.Send) -> None:
        """A chat message the session's safety checks found something in (docs/safety.md).

        Contact details go on only where the room allows them (exchanged, or holding
        turned off and nobody under 18); else the sender is told, and the text is
        dropped here, unrelayed and unkept. A watched phrase goes on, and its
        recipients get a nudge beside it. Rare, so awaited in turn, unlike `send`."""
        session = link.session
        held, flagged, allowed = session.held, session.flagged, session.allowed
        try:
            if held is not None:
                meta = await self.rooms.meta(f.room)
                if meta is None:
                    raise ProtocolError(Code.UNKNOWN_ROOM)
                if not consent.may_pass(meta, self.shared.deck.safety.hold_contact_details):
                    raise ProtocolError(Code.CONTACT_HELD)
                if meta.exchanged:
                    session.exchanged.add(f.room)
            got = await numbered(self.rooms, f.room, member, f.id, protocol.iso(time.time()),
                                 f.text, allowed)
        except BaseException:
            session.send_failed(allowed)
            raise
        acked(link, f, allowed, got, self.relayed)
        if flagged and got.fresh:
            self.shared.metrics.nudges.inc()
            room = await self.room(f.room)
            await self.shared.publish(room.others(member), Nudge(room=room.id, seq=got.seq))

    async def contact(self, link: Link, member: str, f: protocol.Contact) -> None:
        """Offer, accept or withdraw an exchange of contact details (core/consent.py)."""
        room = await self.room(f.room)
        room.seat(member)
        got = await self.rooms.change_meta(
            room.id, lambda meta: consent.exchange(room, meta, member, f.agree))
        seated = [s.member for s in room.seated()]
        if got.open:
            await self.shared.publish(seated if got.changed else [member],
                                      consent.ContactOpen(room=room.id))
        elif got.changed:
            await self.shared.publish([m for m in seated if m != member], consent.ContactOut(
                room=room.id, agree=f.agree, from_=room.seats[member].alias))

    async def typing(self, link: Link, member: str, f: protocol.Typing) -> None:
        room = await self.room(f.room)
        seat = room.seat(member)
        if link.session.may_type(time.monotonic()):
            await self.shared.publish(room.others(member),
                                      protocol.TypingOut(room=room.id, from_=seat.alias))

    async def resume(self, link: Link, member: str, f: protocol.Resume) -> None:
        room = await self.room(f.room)
        seat = room.seats.get(member)
        if seat is None or seat.state is GONE:
            raise ProtocolError(Code.NOT_IN_ROOM)
        said, complete = await self.rooms.replay(room.id, f.after, protocol.RESUME_PAGE + 1)
        more = len(said) > protocol.RESUME_PAGE
        for s in said[:protocol.RESUME_PAGE]:
            self.links.hear((member,), s)
        if not said and room.seq > f.after:
            complete = False
        link.send(protocol.Resumed(room=room.id, seq=room.seq, complete=complete, more=more))

    async def leave(self, link: Link, member: str, f: protocol.Leave) -> None:
        now = time.time()
        await self.life.depart(await self.rooms.change_room(
            f.room, lambda room: (room, room.leave(member, "left", now))))

    async def block(self, link: Link, member: str, f: protocol.Block) -> None:
        now = time.time()
        room, d = await self.rooms.change_room(
            f.room, lambda room: (room, room.leave(member, "blocked", now)))
        for other in room.seats:
            if other != member:
                await self.shared.db(self.shared.store.add_block, member, other)
        await self.life.depart((room, d))

    async def feedback(self, link: Link, member: str, f: protocol.Feedback) -> None:
        room = await self.room(f.room)
        if not room.has_member(member):
            raise ProtocolError(Code.NOT_IN_ROOM)

        def vote(meta: RoomMeta) -> tuple[bool, str | None, bool]:
            first = member not in meta.again
            meta.again[member] = f.again
            if first and meta.record is None:
                meta.pending.append((f.common_ground, f.again))
            mutual = len(room.seats) == 2 and all(meta.again.get(m) for m in room.seats)
            return first, meta.record, mutual

        first, record, mutual = await self.rooms.change_meta(room.id, vote)
        if mutual:
            await self.shared.broker.pairs.note_again(frozenset(room.seats))
        sink = self.shared.hooks.feedback_sink
        if first and record is not None and sink is not None:
            await sink(record, f.common_ground, f.again)
        link.send(protocol.Thanks())

    async def extend(self, link: Link, member: str, f: protocol.Extend) -> None:
        """Ask for more time, or take the ask back; all agreed: the room's end moves
        (core/extension.py has the rules)."""
        room = await self.room(f.room)
        room.seat(member)
        now = time.time()
        got = await self.rooms.change_meta(
            room.id, lambda meta: extension.vote(room, meta, member, f.agree, now))
        seated = [s.member for s in room.seated()]
        if got.ends_at is not None:
            await self.shared.publish(seated, extension.Extended(
                room=room.id, ends_at=protocol.iso(got.ends_at)))
            return
        told = [m for m in seated if got.changed or m == member]
        await self.shared.publish(told, extension.ExtendOut(
            room=room.id, agree=f.agree, from_=room.seats[member].alias))

    async def report(self, link: Link, member: str, f: protocol.Report) -> None:
        room = await self.room(f.room)
        if not room.has_member(member):
            raise ProtocolError(Code.NOT_IN_ROOM)
        sink = self.shared.hooks.report_sink
        if sink is None:
            raise ProtocolError(Code.INTERNAL_ERROR, "Reports are not enabled on this server.")
        evidence = self.verify_evidence(room, member, f.messages)
        by_alias = {s.alias: s.member for s in room.seats.values()}
        draft = ReportDraft(
            room=room.id, prompt=room.prompt, reason=f.reason, note=f.note, reporter=member,
            evidence=evidence, authors=tuple(sorted({by_alias[m.from_] for m in evidence})),
        )
        report_id = await sink(draft)
        link.send(protocol.Reported(report=report_id, verified=len(evidence)))

    def verify_evidence(self, room: Room, reporter: str,
                        raw: list[dict[str, Any]]) -> tuple[protocol.Message, ...]:
        """Messages the reporter received in this room whose tags check out, once each."""
        mine = room.seats[reporter].alias
        aliases = {s.alias for s in room.seats.values()}
        kept: dict[int, protocol.Message] = {}
        for obj in raw:
            m = protocol.parse_message(obj)
            if (m.room != room.id or m.from_ == mine or m.from_ not in aliases
                    or m.seq in kept or not 0 < m.seq <= room.seq):
                continue
            if self.shared.keys.verify(m.room, m.seq, m.from_, m.ts, m.text, m.tag):
                kept[m.seq] = m
        return tuple(kept[k] for k in sorted(kept))


def acked(link: Link, f: protocol.Send, allowed: bool, got: Accepted,
          relayed: Callable[[], None]) -> None:
    """A chat message has its number: the sender's `ack` (a resend's token comes back);
    a fresh one is counted as relayed."""
    link.session.sent(allowed, got.fresh)
    link.send(protocol.Ack(id=f.id, seq=got.seq, ts=got.ts))
    if got.fresh:
        relayed()
