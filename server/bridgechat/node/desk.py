"""What moderators may do to the live node: look at the queue, warn, run the prompts.

The HTTP routes in the moderation package check who may; these do the work.
"""

from __future__ import annotations

import time

from bridgechat.core import protocol
from bridgechat.core.deck import Prompt
from bridgechat.node.parts import QueueEntry, Shared
from bridgechat.store.moderation import AuditEntry


class ModeratorActions:
    def __init__(self, shared: Shared) -> None:
        self.shared = shared

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
