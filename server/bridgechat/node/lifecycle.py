"""A room's life after it opens: its cards and stages, members away and back,
departures, the clock, and the close that leaves an anonymous record.

Every change to a room goes through `rooms.change_room` with a pure method
of core/room.py, so one node or many run the same rules.
"""

from __future__ import annotations

import logging
import time

from bridgechat.core import protocol
from bridgechat.core.protocol import CloseReason, ProtocolError
from bridgechat.core.room import AWAY, Departure, Room, RoomMeta, next_stage_at, stage_for
from bridgechat.node.parts import RoomRecord, Shared, today

log = logging.getLogger(__name__)


class RoomLife:
    def __init__(self, shared: Shared) -> None:
        self.shared = shared
        self.rooms = shared.broker.rooms

    async def matched_frame(self, room: Room, member: str,
                            meta: RoomMeta | None = None) -> protocol.Matched:
        """The `matched` frame for one member, in their language (`meta`: the room's, when
        the caller has it in hand, as the room's opener does)."""
        if meta is None:
            meta = await self.rooms.meta(room.id)
        lang = meta.langs.get(member, "en") if meta else "en"
        text = self.shared.catalog.text(room.prompt, lang, meta.prompt_text if meta else None)
        return protocol.Matched(
            room=room.id, prompt=protocol.MatchedPrompt(room.prompt, text),
            members=[protocol.Alias(s.alias) for s in room.seats.values()],
            you=room.seats[member].alias,
            because=meta.because.get(member, []) if meta else [],
            ends_at=protocol.iso(meta.ends_at) if meta and meta.ends_at else None,
        )

    def stage_frame(self, room_id: str, meta: RoomMeta, lang: str) -> protocol.Stage:
        """The card for the room's current stage, in the member's language."""
        if meta.stage == "discuss":
            card = self.shared.catalog.text(meta.prompt, lang, meta.prompt_text)
        else:
            cards = self.shared.deck.cards_for(meta.stage)
            index = meta.cards.get(meta.stage)
            card = cards[index].text_in(lang) if cards and index is not None and \
                index < len(cards) else ""
        return protocol.Stage(room=room_id, stage=meta.stage, card=card)  # type: ignore[arg-type]

    async def depart(self, change: tuple[Room, Departure]) -> None:
        """Tell the leaver and the others; close the room below two members."""
        room, d = change
        publish = self.shared.publish
        await self.rooms.unseat(room.id, [d.member])
        await publish([d.member], protocol.Closed(room=room.id, reason=d.reason))
        await publish(d.notify, protocol.Left(room=room.id, from_=d.alias))
        if d.closed:
            await publish(d.notify, protocol.Closed(room=room.id, reason=d.reason))
            await self.closed(room)

    async def closed(self, room: Room) -> None:
        """Free the seats, keep the room for reports a while, leave an anonymous record."""
        settings, hooks = self.shared.settings, self.shared.hooks
        await self.rooms.unseat(room.id, list(room.seats))
        await self.rooms.end_room(room.id, settings.grace_period, settings.report_window)
        meta = await self.rooms.meta(room.id)
        if meta is not None and hooks.record_sink is not None:
            record = await hooks.record_sink(RoomRecord(
                prompt=room.prompt, day=today(), size=len(room.seats), divides=meta.divides,
                seconds=(room.closed_at or time.time()) - room.created, messages=room.seq,
                reason=room.closed or "left", event=meta.event))

            def keep(m: RoomMeta) -> list[tuple[int, bool]]:
                m.record, pending, m.pending = record, m.pending, []
                return pending

            pending = await self.rooms.change_meta(room.id, keep)
            if record is not None and hooks.feedback_sink is not None:
                for common_ground, again in pending:
                    await hooks.feedback_sink(record, common_ground, again)
        log.info("room closed", extra={"reason": room.closed})
        hooks.changed("rooms")

    async def end(self, room_id: str, reason: CloseReason = "moderator") -> bool:
        """Close a room from outside (a moderator, the clock, a suspension)."""
        now = time.time()
        try:
            room, told = await self.rooms.change_room(
                room_id, lambda room: (room, room.close(reason, now)))
        except ProtocolError:
            return False
        if not told:
            return False
        await self.shared.publish(told, protocol.Closed(room=room.id, reason=reason))
        await self.closed(room)
        return True

    async def drop_member(self, member: str) -> None:
        """The member's socket is gone: others see `away`; the seat waits a grace period."""
        now, grace = time.time(), self.shared.settings.grace_period
        for room_id in sorted(await self.rooms.member_rooms(member)):
            try:
                room, dropped = await self.rooms.change_room(
                    room_id, lambda room: (room, room.drop(member, now, grace)))
            except ProtocolError:
                continue
            if dropped:
                await self.rooms.wake_at(room_id, now + grace)
                await self.shared.publish(room.others(member), protocol.Away(
                    room=room_id, from_=room.seats[member].alias))

    async def wake(self) -> None:
        """Rooms whose time has come: graces run out, stages turn, conversations end.

        Orphans of a dead node are marked away first."""
        for member in await self.shared.broker.fanout.orphans():
            await self.drop_member(member)
        now = time.time()
        for room_id in await self.rooms.due_rooms(now):
            try:
                room, gone = await self.rooms.change_room(
                    room_id, lambda room: (room, room.expire(now)))
            except ProtocolError:
                continue
            for d in gone:
                await self.depart((room, d))
            if not room.is_open:
                continue
            meta = await self.rooms.meta(room_id)
            wake = [s.away_until for s in room.seats.values()
                    if s.state is AWAY and s.away_until is not None]
            if meta is not None and meta.ends_at is not None:
                if now >= meta.ends_at:
                    await self.end(room_id, "timeout")
                    continue
                duration = meta.ends_at - room.created
                await self.turn_stage(room, meta, stage_for(now - room.created, duration))
                wake.append(next_stage_at(room.created, duration, now - room.created))
            if wake:
                await self.rooms.wake_at(room_id, min(wake))

    async def turn_stage(self, room: Room, meta: RoomMeta, stage: str) -> None:
        if stage == meta.stage:
            return

        def turn(m: RoomMeta) -> RoomMeta:
            m.stage = stage
            return m

        meta = await self.rooms.change_meta(room.id, turn)
        for seat in room.seated():
            await self.shared.publish([seat.member], self.stage_frame(
                room.id, meta, meta.langs.get(seat.member, "en")))
