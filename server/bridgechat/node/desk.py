"""What moderators may do to the live node: look at the queue, warn, run the prompts,
match waiting members by hand, speak to a room.

The HTTP routes in the moderation package check who may; these do the work.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Sequence

from bridgechat import matching
from bridgechat.core import protocol
from bridgechat.core.deck import Prompt
from bridgechat.node.parts import QueueEntry, Shared
from bridgechat.node.queue import WaitingQueue
from bridgechat.store.moderation import AuditEntry


class ModeratorActions:
    def __init__(self, shared: Shared, queue: WaitingQueue) -> None:
        self.shared = shared
        self.queue = queue

    async def queue_view(self) -> list[QueueEntry]:
        """The waiting pool as moderators see it: no profile values, no member ids."""
        now = time.time()
        entries = [QueueEntry(t.id, t.prompts, t.languages, t.mode, round(now - t.since, 1))
                   for t in await self.shared.broker.pool.tickets()]
        return sorted(entries, key=lambda e: -e.waited_s)

    async def live_rooms(self) -> int:
        return len(await self.shared.broker.rooms.open_rooms())

    async def warn(self, member: str, message: str) -> None:
        await self.shared.publish([member], protocol.Notice(level="warning", message=message))

    async def check_hand(self, tickets: Sequence[str]) -> matching.HandCheck:
        """Whether these waiting tickets may share a room, and why the matcher had not
        paired them (matching/hand.py); changes nothing."""
        shared = self.shared
        pool = await shared.broker.pool.tickets()
        constraints = await self.queue.constraints(pool)
        return matching.check_hand(list(tickets), pool, time.time(), shared.deck.dimensions,
                                   constraints, shared.policy, shared.catalog.paused)

    @staticmethod
    def new_room_id() -> str:
        """A room id named before the room opens, so its audit entry can be written first."""
        return secrets.token_urlsafe(12)

    async def hand_match(self, group: matching.Group, room_id: str) -> bool:
        """Open the room as the matcher does; False if a ticket left the pool meanwhile
        (the tickets are taken all at once, so the matcher cannot take one of them too)."""
        return await self.queue.open_room(group, room_id)

    async def notice(self, room_id: str, message: str) -> bool:
        """A moderator's words to every seated member of a live room; False if none is.
        Kept nowhere: not in the room's history, not for a member who reconnects later."""
        room = await self.shared.broker.rooms.room(room_id)
        if room is None or room.closed:
            return False
        await self.shared.publish([s.member for s in room.seated()], protocol.Notice(
            level="moderator", message=message, room=room_id))
        return True

    async def live_room(self, room_id: str) -> bool:
        """Whether the room is open (one a moderator may end)."""
        room = await self.shared.broker.rooms.room(room_id)
        return room is not None and not room.closed

    async def set_prompt(self, prompt: Prompt, active: bool,
                         audit: AuditEntry | None = None) -> None:
        """Add, change, or retire (active False) a prompt; its audit entry is stored in the
        same transaction, and the node's catalog changes only once both are."""
        await self.shared.db(self.shared.store.set_prompt, prompt, active, audit)
        if active:
            self.shared.catalog.prompts[prompt.id] = prompt
        else:
            self.shared.catalog.prompts.pop(prompt.id, None)

    def pause_prompt(self, prompt_id: str, paused: bool) -> None:
        """A paused prompt stays listed but takes no new members and makes no new rooms."""
        paused_set = self.shared.catalog.paused
        (paused_set.add if paused else paused_set.discard)(prompt_id)
