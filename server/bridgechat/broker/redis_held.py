"""What one node holds beside Redis: its members, and the rooms they sit in.

After a Redis restart (its state is in memory only) the node puts back the
rooms its members are in, from the last snapshot it saw of each, and the
numbering goes on from the highest number it saw, sent or heard.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import msgspec

from bridgechat.core.room import Room

_enc = msgspec.json.Encoder()


@dataclass(slots=True)
class Known:
    """The last this node saw of a room: its snapshot, its meta, its highest number."""

    snap: bytes
    meta: bytes | None
    seq: int


@dataclass(slots=True)
class Held:
    members: set[str] = field(default_factory=set)
    rooms: dict[str, Known] = field(default_factory=dict)

    def remember(self, room: Room, meta: bytes | None = None) -> None:
        """Keep the room's state if one of our members sits in it; forget it if not."""
        if any(m in self.members for m in room.seats):
            old = self.rooms.get(room.id)
            self.rooms[room.id] = Known(
                _enc.encode(room.snapshot()),
                meta if meta is not None else (old.meta if old else None),
                max(room.seq, old.seq if old else 0))
        else:
            self.rooms.pop(room.id, None)

    def saw(self, room_id: str, seq: int) -> None:
        """A message numbered `seq` in the room went by (sent or heard)."""
        known = self.rooms.get(room_id)
        if known is not None and seq > known.seq:
            known.seq = seq

    def forget(self, room_id: str) -> None:
        self.rooms.pop(room_id, None)
