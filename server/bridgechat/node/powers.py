"""Powers for moderators (end a room, suspend, warn, prompts) and members' rights
(export, erase). HTTP routes elsewhere check who may use them; these do the work."""

from __future__ import annotations

import time

from bridgechat.core import protocol
from bridgechat.core.deck import Prompt
from bridgechat.core.protocol import Code, ProtocolError
from bridgechat.core.room import GONE
from bridgechat.node.chat import Chat
from bridgechat.node.node import QueueEntry


class Powers(Chat):
    async def queue_view(self) -> list[QueueEntry]:
        """The waiting pool as moderators see it: no profile values, no member ids."""
        now = time.time()
        entries = [QueueEntry(t.id, t.prompts, t.languages, t.mode, round(now - t.since, 1))
                   for t in await self.broker.tickets()]
        return sorted(entries, key=lambda e: -e.waited_s)

    async def live_rooms(self) -> int:
        return len(await self.broker.open_rooms())

    async def suspend(self, member: str, until: float | None) -> None:
        """Suspend (until a time, inf for good) or lift (None); a suspended member is cut off."""
        await self.db(self.store.set_suspension, member, until)
        if until is None:
            self.suspended.pop(member, None)
            return
        self.suspended[member] = until
        for room_id in sorted(await self.broker.member_rooms(member)):
            await self.end_room(room_id, "suspended")
        await self.cut_off(member, ProtocolError(Code.SUSPENDED))

    async def warn(self, member: str, message: str) -> None:
        await self.publish([member], protocol.Notice(level="warning", message=message))

    async def set_prompt(self, prompt: Prompt, active: bool) -> None:
        """Add, change, or retire (active False) a prompt."""
        await self.db(self.store.set_prompt, prompt, active)
        if active:
            self.prompts[prompt.id] = prompt
        else:
            self.prompts.pop(prompt.id, None)

    def pause_prompt(self, prompt_id: str, paused: bool) -> None:
        """A paused prompt stays listed but takes no new members and makes no new rooms."""
        (self.paused.add if paused else self.paused.discard)(prompt_id)

    async def export(self, member: str) -> dict[str, object] | None:
        """Everything held about a member: the store's row and what is in RAM now."""
        stored = await self.db(self.store.export_member, member)
        if stored is None:
            return None
        tickets = [t for t in await self.broker.tickets() if t.member == member]
        stored["waiting_ticket"] = [{
            "prompts": list(t.prompts), "languages": list(t.languages),
            "learning": list(t.learning), "profile": dict(t.profile),
            "stances": dict(t.stances), "mode": t.mode, "group": t.group,
        } for t in tickets]
        rooms = []
        for room_id in sorted(await self.broker.member_rooms(member)):
            room = await self.broker.room(room_id)
            if room is not None and member in room.seats:
                rooms.append({"room": room_id, "alias": room.seats[member].alias})
        stored["rooms"] = rooms
        return stored

    async def erase(self, member: str) -> None:
        """Art. 17: leave every room, drop the ticket and socket, delete every row."""
        now = time.time()
        for room_id in sorted(await self.broker.member_rooms(member)):
            room = await self.broker.room(room_id)
            if room is None or not room.is_open or room.seats[member].state is GONE:
                continue
            await self.depart(await self.broker.change_room(
                room_id, lambda room: (room, room.leave(member, "left", now))))
        await self.cut_off(member, ProtocolError(Code.UNKNOWN_TOKEN, "Your data was erased."))
        await self.broker.forget_member(member)
        self.suspended.pop(member, None)
        await self.db(self.store.erase_member, member)
