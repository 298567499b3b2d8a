"""The in-process broker for the embedded single node: plain dicts, direct calls."""

from __future__ import annotations

import heapq
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import TypeVar

from bridgechat.broker import Deliver, Hear, Said
from bridgechat.core.protocol import Code, ProtocolError
from bridgechat.core.room import Accepted, Room, RoomMeta
from bridgechat.matching import Ticket

T = TypeVar("T")
HISTORY = 500


class MemoryBroker:
    def __init__(self, history: int = HISTORY) -> None:
        self._history_len = history
        self._deliver: Deliver | None = None
        self._hear: Hear | None = None
        self._tickets: dict[str, Ticket] = {}
        self._history: dict[str, deque[Said]] = {}
        self._pairs: dict[frozenset[str], float] = {}
        self._again: set[frozenset[str]] = set()
        self._rooms: dict[str, Room] = {}
        self._meta: dict[str, RoomMeta] = {}
        self._member_rooms: dict[str, set[str]] = {}
        # room -> (forget history at, forget room at)
        self._ended: dict[str, tuple[float, float]] = {}
        # (deadline, room): when something in _ended may be due
        self._due: list[tuple[float, str]] = []
        self._subscribed: set[str] = set()
        self._keys: dict[int, tuple[bytes, float]] = {}
        self._away: dict[str, float] = {}

    async def start(self, deliver: Deliver, hear: Hear) -> None:
        self._deliver, self._hear = deliver, hear

    async def close(self) -> None:
        self._deliver = self._hear = None

    async def ready(self) -> bool:
        return True

    # -- waiting pool -----------------------------------------------------------

    async def add_ticket(self, ticket: Ticket) -> None:
        self._tickets[ticket.id] = ticket

    async def remove_ticket(self, ticket_id: str) -> Ticket | None:
        return self._tickets.pop(ticket_id, None)

    async def tickets(self) -> list[Ticket]:
        return list(self._tickets.values())

    async def lead(self, node: str, ttl: float) -> bool:
        return True

    # -- fan-out ----------------------------------------------------------------

    async def subscribe(self, member: str) -> None:
        self._subscribed.add(member)

    async def unsubscribe(self, member: str) -> None:
        self._subscribed.discard(member)

    async def publish(self, members: Sequence[str], frame: bytes) -> None:
        deliver = self._deliver
        if deliver is not None:
            for m in members:
                deliver(m, frame)

    async def orphans(self) -> list[str]:
        # One process: when it dies, nobody is left to notice.
        return []

    # -- rooms --------------------------------------------------------------------

    async def create_room(self, room: Room, meta: RoomMeta) -> None:
        self._rooms[room.id] = room
        self._meta[room.id] = meta
        for m in room.seats:
            self._member_rooms.setdefault(m, set()).add(room.id)

    async def room(self, room_id: str) -> Room | None:
        self._sweep()
        return self._rooms.get(room_id)

    async def meta(self, room_id: str) -> RoomMeta | None:
        return self._meta.get(room_id)

    async def change_room(self, room_id: str, fn: Callable[[Room], T]) -> T:
        room = await self.room(room_id)
        if room is None:
            raise ProtocolError(Code.UNKNOWN_ROOM)
        return fn(room)

    async def change_meta(self, room_id: str, fn: Callable[[RoomMeta], T]) -> T:
        meta = self._meta.get(room_id)
        if meta is None:
            raise ProtocolError(Code.UNKNOWN_ROOM)
        return fn(meta)

    async def member_rooms(self, member: str) -> set[str]:
        return set(self._member_rooms.get(member, ()))

    async def unseat(self, room_id: str, members: Sequence[str]) -> None:
        for m in members:
            rooms = self._member_rooms.get(m)
            if rooms is not None:
                rooms.discard(room_id)
                if not rooms:
                    del self._member_rooms[m]

    async def end_room(self, room_id: str, keep_history: float, keep_room: float) -> None:
        now = time.monotonic()
        self._ended[room_id] = (now + keep_history, now + keep_room)
        heapq.heappush(self._due, (now + keep_history, room_id))
        heapq.heappush(self._due, (now + keep_room, room_id))

    async def open_rooms(self) -> list[str]:
        self._sweep()
        return [r for r, room in self._rooms.items() if room.is_open]

    async def wake_at(self, room_id: str, until: float) -> None:
        self._away[room_id] = min(until, self._away.get(room_id, until))

    async def due_rooms(self, now: float) -> list[str]:
        due = [r for r, t in self._away.items() if t <= now]
        for r in due:
            del self._away[r]
        return due

    def _sweep(self) -> None:
        """Drop history and rooms whose keeping time has passed.

        Runs on every room lookup, so it looks only at deadlines that are due
        (a heap), not at every closed room still kept for reports."""
        now = time.monotonic()
        due = self._due
        while due and due[0][0] <= now:
            room_id = heapq.heappop(due)[1]
            kept = self._ended.get(room_id)
            if kept is None:
                continue
            history_until, room_until = kept
            if history_until <= now:
                self._history.pop(room_id, None)
            if room_until <= now:
                self._rooms.pop(room_id, None)
                self._meta.pop(room_id, None)
                self._history.pop(room_id, None)
                del self._ended[room_id]

    # -- history ------------------------------------------------------------------

    async def send(self, room_id: str, member: str, client_id: str, ts: str, text: str,
                   allowed: bool = True) -> Accepted:
        return self.send_soon(room_id, member, client_id, ts, text, allowed)

    def send_soon(self, room_id: str, member: str, client_id: str, ts: str, text: str,
                  allowed: bool = True) -> Accepted:
        """`send` without a wait: this broker numbers a message at once."""
        self._sweep()
        room = self._rooms.get(room_id)
        if room is None:
            raise ProtocolError(Code.UNKNOWN_ROOM)
        got = room.send(member, client_id, ts, allowed)
        if got.fresh:
            said = Said(room_id, got.seq, room.seats[member].alias, ts, text)
            kept = self._history.get(room_id)
            if kept is None:
                kept = self._history[room_id] = deque(maxlen=self._history_len)
            kept.append(said)
            others = room.others(member)
            if others and self._hear is not None:
                self._hear(others, said)
        return got

    async def replay(self, room: str, after: int) -> tuple[list[Said], bool]:
        kept = self._history.get(room)
        if not kept:
            return [], True
        # Complete only if nothing between `after` and the oldest kept message was dropped.
        return [s for s in kept if s.seq > after], kept[0].seq <= after + 1

    # -- pairs --------------------------------------------------------------------

    async def note_pairs(self, pairs: Sequence[frozenset[str]], ttl: float) -> None:
        until = time.time() + ttl
        for p in pairs:
            self._pairs[p] = until

    async def recent_pairs(self) -> frozenset[frozenset[str]]:
        now = time.time()
        for p in [p for p, t in self._pairs.items() if t <= now]:
            del self._pairs[p]
        return frozenset(self._pairs)

    async def note_again(self, pair: frozenset[str]) -> None:
        self._again.add(pair)

    async def again_pairs(self) -> frozenset[frozenset[str]]:
        return frozenset(self._again)

    async def drop_again(self, pair: frozenset[str]) -> None:
        self._again.discard(pair)

    async def forget_member(self, member: str) -> None:
        self._again = {p for p in self._again if member not in p}
        self._pairs = {p: t for p, t in self._pairs.items() if member not in p}

    # -- franking keys ------------------------------------------------------------

    async def franking_keys(self) -> dict[int, tuple[bytes, float]]:
        return dict(self._keys)

    async def add_franking_key(self, key: bytes, now: float, kid: int | None = None) -> None:
        self._keys[kid if kid is not None else max(self._keys, default=0) + 1] = (key, now)

    async def retire_franking_keys(self, before: float) -> None:
        newest = max(self._keys, default=0)
        for kid in [k for k, (_, t) in self._keys.items() if t < before and k != newest]:
            del self._keys[kid]
