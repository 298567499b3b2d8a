"""Room handlers: send, typing, resume, leave, block, feedback, report, expiry.

Every change to a room goes through `broker.change_room` with a pure method
of server/room.py, so one node or many run the same rules.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from typing import Any

from bridgechat.core import protocol
from bridgechat.core.protocol import CloseReason, Code, ProtocolError
from bridgechat.core.room import (
    AWAY,
    GONE,
    Accepted,
    Departure,
    Room,
    RoomMeta,
    next_stage_at,
    stage_for,
)
from bridgechat.node.node import Node, ReportDraft, RoomRecord, Session, today

log = logging.getLogger("bridgechat.chat")
TYPING_EVERY = 1.0


class Chat(Node):
    async def room(self, room_id: str) -> Room:
        room = await self.broker.room(room_id)
        if room is None:
            raise ProtocolError(Code.UNKNOWN_ROOM)
        return room

    def send_now(self, sess: Session, member: str, f: protocol.Send) -> None:
        """Begin a `send`: numbered at once (one node) or when Redis answers, then acked.

        Called as soon as the frame is read (server/web.py), so a message
        costs no task switch; sends begun in turn are numbered in turn."""
        text = protocol.clean_text(f.text)
        now = time.monotonic()
        # Charged now, so that sends still under way count; given back for a resend.
        allowed = sess.bucket.take(now)
        try:
            got = self.broker.send_soon(f.room, member, f.id, protocol.iso(time.time()), text,
                                        allowed)
        except BaseException:
            if allowed:
                sess.bucket.give_back()
            raise
        if isinstance(got, Accepted):
            self.acked(sess, f, got, allowed)
            return
        sess.inflight += 1
        got.add_done_callback(functools.partial(self._answered, sess, f, allowed))

    async def send(self, sess: Session, member: str, f: protocol.Send) -> None:
        """A `send` read behind another frame: the same, and the next frame waits for it."""
        self.send_now(sess, member, f)
        await sess.settled()

    def _answered(self, sess: Session, f: protocol.Send, allowed: bool,
                  fut: asyncio.Future[Accepted]) -> None:
        sess.one_settled()
        if fut.cancelled():
            return
        exc = fut.exception()
        if exc is None:
            self.acked(sess, f, fut.result(), allowed)
            return
        if allowed:
            sess.bucket.give_back()
        self.refused(sess, f, exc)

    def acked(self, sess: Session, f: protocol.Send, got: Accepted, allowed: bool) -> None:
        if allowed and not got.fresh:
            sess.bucket.give_back()  # a resend after a reconnect costs nothing
        self.push(sess, protocol.Ack(id=f.id, seq=got.seq, ts=got.ts))

    async def typing(self, sess: Session, member: str, f: protocol.Typing) -> None:
        room = await self.room(f.room)
        seat = room.seat(member)
        now = time.monotonic()
        if now - sess.typed_at >= TYPING_EVERY:
            sess.typed_at = now
            await self.publish(room.others(member),
                               protocol.TypingOut(room=room.id, from_=seat.alias))

    async def resume(self, sess: Session, member: str, f: protocol.Resume) -> None:
        room = await self.room(f.room)
        seat = room.seats.get(member)
        if seat is None or seat.state is GONE:
            raise ProtocolError(Code.NOT_IN_ROOM)
        said, complete = await self.broker.replay(room.id, f.after)
        for s in said:
            sess.conn.push(self.signed(s))
        if not said and room.seq > f.after:
            complete = False
        self.push(sess, protocol.Resumed(room=room.id, seq=room.seq, complete=complete))

    async def leave(self, sess: Session, member: str, f: protocol.Leave) -> None:
        now = time.time()
        await self.depart(await self.broker.change_room(
            f.room, lambda room: (room, room.leave(member, "left", now))))

    async def block(self, sess: Session, member: str, f: protocol.Block) -> None:
        now = time.time()
        room, d = await self.broker.change_room(
            f.room, lambda room: (room, room.leave(member, "blocked", now)))
        for other in room.seats:
            if other != member:
                await self.db(self.store.add_block, member, other)
        await self.depart((room, d))

    async def depart(self, change: tuple[Room, Departure]) -> None:
        """Tell the leaver and the others; close the room below two members."""
        room, d = change
        await self.broker.unseat(room.id, [d.member])
        await self.publish([d.member], protocol.Closed(room=room.id, reason=d.reason))
        await self.publish(d.notify, protocol.Left(room=room.id, from_=d.alias))
        if d.closed:
            await self.publish(d.notify, protocol.Closed(room=room.id, reason=d.reason))
            await self.room_closed(room)

    async def room_closed(self, room: Room) -> None:
        """Free the seats, keep the room for reports a while, leave an anonymous record."""
        await self.broker.unseat(room.id, list(room.seats))
        await self.broker.end_room(room.id, self.settings.grace_period,
                                   self.settings.report_window)
        meta = await self.broker.meta(room.id)
        if meta is not None and self.record_sink is not None:
            record = await self.record_sink(RoomRecord(
                prompt=room.prompt, day=today(), size=len(room.seats), divides=meta.divides,
                seconds=(room.closed_at or time.time()) - room.created, messages=room.seq,
                reason=room.closed or "left"))

            def keep(m: RoomMeta) -> list[tuple[int, bool]]:
                m.record, pending, m.pending = record, m.pending, []
                return pending

            pending = await self.broker.change_meta(room.id, keep)
            if record is not None and self.feedback_sink is not None:
                for common_ground, again in pending:
                    await self.feedback_sink(record, common_ground, again)
        log.info("room closed", extra={"reason": room.closed})
        self.changed("rooms")

    async def feedback(self, sess: Session, member: str, f: protocol.Feedback) -> None:
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

        first, record, mutual = await self.broker.change_meta(room.id, vote)
        if mutual:
            await self.broker.note_again(frozenset(room.seats))
        if first and record is not None and self.feedback_sink is not None:
            await self.feedback_sink(record, f.common_ground, f.again)
        self.push(sess, protocol.Thanks())

    async def report(self, sess: Session, member: str, f: protocol.Report) -> None:
        room = await self.room(f.room)
        if not room.has_member(member):
            raise ProtocolError(Code.NOT_IN_ROOM)
        if self.report_sink is None:
            raise ProtocolError(Code.INTERNAL_ERROR, "Reports are not enabled on this server.")
        evidence = self.verify_evidence(room, member, f.messages)
        by_alias = {s.alias: s.member for s in room.seats.values()}
        draft = ReportDraft(
            room=room.id, prompt=room.prompt, reason=f.reason, note=f.note, reporter=member,
            evidence=evidence, authors=tuple(sorted({by_alias[m.from_] for m in evidence})),
        )
        report_id = await self.report_sink(draft)
        self.push(sess, protocol.Reported(report=report_id, verified=len(evidence)))

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
            if self.keys.verify(m.room, m.seq, m.from_, m.ts, m.text, m.tag):
                kept[m.seq] = m
        return tuple(kept[k] for k in sorted(kept))

    # -- presence ----------------------------------------------------------------

    async def drop_member(self, member: str) -> None:
        """The member's socket is gone: others see `away`; the seat waits a grace period."""
        now, grace = time.time(), self.settings.grace_period
        for room_id in sorted(await self.broker.member_rooms(member)):
            try:
                room, dropped = await self.broker.change_room(
                    room_id, lambda room: (room, room.drop(member, now, grace)))
            except ProtocolError:
                continue
            if dropped:
                await self.broker.wake_at(room_id, now + grace)
                await self.publish(room.others(member),
                                   protocol.Away(room=room_id, from_=room.seats[member].alias))

    def stage_frame(self, room_id: str, meta: RoomMeta, lang: str) -> protocol.Stage:
        """The card for the room's current stage, in the member's language."""
        if meta.stage == "discuss":
            prompt = self.prompts.get(meta.prompt)
            card = prompt.text_in(lang)[0] if prompt else meta.prompt_text
        else:
            cards = self.deck.cards_for(meta.stage)
            index = meta.cards.get(meta.stage)
            card = cards[index].text_in(lang) if cards and index is not None and \
                index < len(cards) else ""
        return protocol.Stage(room=room_id, stage=meta.stage, card=card)  # type: ignore[arg-type]

    async def wake_rooms(self) -> None:
        """Rooms whose time has come: graces run out, stages turn, conversations end.

        Orphans of a dead node are marked away first."""
        for member in await self.broker.orphans():
            await self.drop_member(member)
        now = time.time()
        for room_id in await self.broker.due_rooms(now):
            try:
                room, gone = await self.broker.change_room(
                    room_id, lambda room: (room, room.expire(now)))
            except ProtocolError:
                continue
            for d in gone:
                await self.depart((room, d))
            if not room.is_open:
                continue
            meta = await self.broker.meta(room_id)
            wake = [s.away_until for s in room.seats.values()
                    if s.state is AWAY and s.away_until is not None]
            if meta is not None and meta.ends_at is not None:
                if now >= meta.ends_at:
                    await self.end_room(room_id, "timeout")
                    continue
                duration = meta.ends_at - room.created
                await self.turn_stage(room, meta, stage_for(now - room.created, duration))
                wake.append(next_stage_at(room.created, duration, now - room.created))
            if wake:
                await self.broker.wake_at(room_id, min(wake))

    async def turn_stage(self, room: Room, meta: RoomMeta, stage: str) -> None:
        if stage == meta.stage:
            return

        def turn(m: RoomMeta) -> RoomMeta:
            m.stage = stage
            return m

        meta = await self.broker.change_meta(room.id, turn)
        for seat in room.seated():
            await self.publish([seat.member], self.stage_frame(
                room.id, meta, meta.langs.get(seat.member, "en")))

    async def end_room(self, room_id: str, reason: CloseReason = "moderator") -> bool:
        """Close a room from outside (a moderator, the clock, a suspension)."""
        now = time.time()
        try:
            room, told = await self.broker.change_room(
                room_id, lambda room: (room, room.close(reason, now)))
        except ProtocolError:
            return False
        if not told:
            return False
        await self.publish(told, protocol.Closed(room=room.id, reason=reason))
        await self.room_closed(room)
        return True
