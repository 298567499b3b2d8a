"""The in-process broker for the embedded single node: plain dicts, direct calls.

Its parts keep what Redis would keep, in this process; a chat message is
numbered by `Room.send` itself, so `rooms.send_soon` is done at once.
Frames and cuts reach only members subscribed here, as on Redis; a chat
message goes to the node for every other member, and the node skips any
not connected.
"""

from __future__ import annotations

import heapq
import itertools
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeVar

import msgspec

from bridgechat.broker import (
    DAY,
    MINUTE,
    Broker,
    Counters,
    FanOut,
    Inbox,
    KeyRing,
    Pairs,
    Rooms,
    Said,
    WaitingPool,
    count_expiry,
)
from bridgechat.broker.memory_pool import MemoryPool
from bridgechat.core.protocol import Code, ProtocolError
from bridgechat.core.room import GONE, Accepted, Room, RoomMeta

T = TypeVar("T")
HISTORY = 500
SPENT_SWEEP = 1024


class MemoryFanOut:
    def __init__(self) -> None:
        self.inbox: Inbox | None = None
        self.subscribed: set[str] = set()

    async def subscribe(self, member: str) -> None:
        self.subscribed.add(member)

    async def unsubscribe(self, member: str) -> None:
        self.subscribed.discard(member)

    async def publish(self, members: Sequence[str], frame: bytes) -> None:
        inbox = self.inbox
        if inbox is not None:
            for m in members:
                if m in self.subscribed:
                    inbox.deliver(m, frame)

    async def cut(self, member: str, frame: bytes) -> None:
        if self.inbox is not None and member in self.subscribed:
            self.inbox.cut(member, frame)

    async def orphans(self) -> list[str]:
        # One process: when it dies, nobody is left to notice.
        return []


class MemoryRooms:
    def __init__(self, fanout: MemoryFanOut, history: int) -> None:
        self._fanout = fanout
        self._history_len = history
        self._rooms: dict[str, Room] = {}
        self._meta: dict[str, RoomMeta] = {}
        self._history: dict[str, deque[Said]] = {}
        self._member_rooms: dict[str, set[str]] = {}
        # room -> (forget history at, forget room at)
        self._ended: dict[str, tuple[float, float]] = {}
        # (deadline, room): when something in _ended may be due
        self._due: list[tuple[float, str]] = []
        self._wake: dict[str, float] = {}

    async def create_room(self, room: Room, meta: RoomMeta) -> None:
        self._rooms[room.id] = room
        self._meta[room.id] = meta
        for m in room.seats:
            self._member_rooms.setdefault(m, set()).add(room.id)

    async def room(self, room_id: str) -> Room | None:
        self._sweep()
        return self._rooms.get(room_id)

    def snapshot(self) -> dict[str, Any]:
        """The rooms, without their history (message text never leaves RAM)."""
        self._sweep()
        now = time.monotonic()
        return {"rooms": [r.snapshot() for r in self._rooms.values()],
                "meta": {r: msgspec.to_builtins(m) for r, m in self._meta.items()},
                "ended": {r: [h - now, k - now] for r, (h, k) in self._ended.items()},
                "wake": self._wake}

    def restore(self, data: dict[str, Any]) -> None:
        now = time.monotonic()
        for raw in data["rooms"]:
            room = Room.restore(raw)
            self._rooms[room.id] = room
            if room.is_open:
                for s in room.seats.values():
                    if s.state is not GONE:
                        self._member_rooms.setdefault(s.member, set()).add(room.id)
        self._meta.update({r: msgspec.convert(m, RoomMeta) for r, m in data["meta"].items()})
        for room_id, (history_in, room_in) in data["ended"].items():
            self._ended[room_id] = (now + history_in, now + room_in)
            heapq.heappush(self._due, (now + room_in, room_id))
        self._wake.update(data["wake"])

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
        self._wake[room_id] = min(until, self._wake.get(room_id, until))

    async def due_rooms(self, now: float) -> list[str]:
        due = [r for r, t in self._wake.items() if t <= now]
        for r in due:
            del self._wake[r]
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

    def send_soon(self, room_id: str, member: str, client_id: str, ts: str, text: str,
                  allowed: bool = True) -> Accepted:
        """Numbered at once, by `Room.send` (its docstring lists the rules).

        No sweep here (unlike the other lookups): a room kept past its close
        refuses a message anyway, and this runs for every message."""
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
            inbox = self._fanout.inbox
            if others and inbox is not None:
                # All of them are here (one node); the node skips any not connected.
                inbox.hear(others, said)
        return got

    async def replay(self, room: str, after: int, limit: int) -> tuple[list[Said], bool]:
        kept = self._history.get(room)
        if not kept:
            return [], True
        # Complete only if nothing between `after` and the oldest kept message was dropped.
        page = list(itertools.islice((s for s in kept if s.seq > after), limit))
        return page, kept[0].seq <= after + 1


class MemoryPairs:
    def __init__(self) -> None:
        self._recent: dict[frozenset[str], float] = {}
        self._again: set[frozenset[str]] = set()

    async def note_pairs(self, pairs: Sequence[frozenset[str]], ttl: float) -> None:
        until = time.time() + ttl
        for p in pairs:
            self._recent[p] = until

    def snapshot(self) -> dict[str, Any]:
        return {"recent": [[sorted(p), t] for p, t in self._recent.items()],
                "again": [sorted(p) for p in self._again]}

    def restore(self, data: dict[str, Any]) -> None:
        self._recent.update({frozenset(p): t for p, t in data["recent"]})
        self._again.update(frozenset(p) for p in data["again"])

    async def recent_pairs(self) -> frozenset[frozenset[str]]:
        now = time.time()
        for p in [p for p, t in self._recent.items() if t <= now]:
            del self._recent[p]
        return frozenset(self._recent)

    async def note_again(self, pair: frozenset[str]) -> None:
        self._again.add(pair)

    async def again_pairs(self) -> frozenset[frozenset[str]]:
        return frozenset(self._again)

    async def drop_again(self, pair: frozenset[str]) -> None:
        self._again.discard(pair)

    async def forget_member(self, member: str) -> None:
        self._again = {p for p in self._again if member not in p}
        self._recent = {p: t for p, t in self._recent.items() if member not in p}


class MemoryKeyRing:
    def __init__(self) -> None:
        self._keys: dict[int, tuple[bytes, float]] = {}
        # Spent bot-barrier proofs: token -> remembered until; the expired are dropped
        # whenever the dict has doubled since the last sweep.
        self._spent: dict[str, float] = {}
        self._sweep_at = SPENT_SWEEP

    async def franking_keys(self) -> dict[int, tuple[bytes, float]]:
        return dict(self._keys)

    def snapshot(self) -> dict[str, Any]:
        return {str(k): [key.hex(), t] for k, (key, t) in self._keys.items()}

    def restore(self, data: dict[str, Any]) -> None:
        self._keys.update({int(k): (bytes.fromhex(key), t) for k, (key, t) in data.items()})

    async def add_franking_key(self, key: bytes, now: float, kid: int | None = None) -> None:
        self._keys[kid if kid is not None else max(self._keys, default=0) + 1] = (key, now)

    async def retire_franking_keys(self, before: float) -> None:
        newest = max(self._keys, default=0)
        for kid in [k for k, (_, t) in self._keys.items() if t < before and k != newest]:
            del self._keys[kid]

    async def spend(self, token: str, until: float) -> bool:
        now = time.time()
        if self._spent.get(token, 0.0) > now:
            return False
        if len(self._spent) >= self._sweep_at:
            self._spent = {t: u for t, u in self._spent.items() if u > now}
            self._sweep_at = max(SPENT_SWEEP, 2 * len(self._spent))
        self._spent[token] = until
        return True


class MemoryCounters:
    def __init__(self) -> None:
        # (name, period, minute or day number) -> count; a few hundred at most.
        self._counts: dict[tuple[str, int, int], int] = {}

    async def add(self, counts: Mapping[str, int], at: float) -> None:
        now = time.time()
        self._forget(now)
        for name, n in counts.items():
            for period in (MINUTE, DAY):
                key = (name, period, int(at // period))
                # As on Redis, where a key whose expiry has passed is gone at once.
                if n and count_expiry(period, key[2]) > now:
                    self._counts[key] = self._counts.get(key, 0) + n

    async def minutes(self, name: str, first: int, count: int) -> list[int]:
        self._forget(time.time())
        return [self._counts.get((name, MINUTE, m), 0) for m in range(first, first + count)]

    async def day(self, names: Sequence[str], at: float) -> list[int]:
        self._forget(time.time())
        return [self._counts.get((name, DAY, int(at // DAY)), 0) for name in names]

    def _forget(self, now: float) -> None:
        for key in [k for k in self._counts if count_expiry(k[1], k[2]) <= now]:
            del self._counts[key]

    def snapshot(self) -> list[list[Any]]:
        self._forget(time.time())
        return [[*k, n] for k, n in self._counts.items()]

    def restore(self, data: list[list[Any]]) -> None:
        self._counts.update({(str(name), int(p), int(i)): int(n) for name, p, i, n in data})


class MemoryBroker:
    """A `Broker` in this process."""

    def __init__(self, history: int = HISTORY) -> None:
        self._fanout = MemoryFanOut()
        # Typed as the interfaces, so that mypy checks each part against its own.
        self._rooms = MemoryRooms(self._fanout, history)
        self._pairs = MemoryPairs()
        self._keys = MemoryKeyRing()
        self._counters = MemoryCounters()
        self.pool: WaitingPool = MemoryPool()
        self.fanout: FanOut = self._fanout
        self.rooms: Rooms = self._rooms
        self.pairs: Pairs = self._pairs
        self.keys: KeyRing = self._keys
        self.counters: Counters = self._counters
        # Nothing is shared outside this process, so nothing can be lost and put back.
        self.on_reset: Callable[[], Awaitable[None]] | None = None

    async def start(self, inbox: Inbox) -> None:
        self._fanout.inbox = inbox

    async def close(self) -> None:
        self._fanout.inbox = None

    async def ready(self) -> bool:
        return True

    def snapshot(self) -> dict[str, Any]:
        """What a restart must not lose: rooms (live, and closed ones still open to
        reports), pairs, franking keys and today's counts; not the waiting pool (its
        members' sockets close with the process) and never a message's text.
        node/restart.py seals it."""
        return {"rooms": self._rooms.snapshot(), "pairs": self._pairs.snapshot(),
                "keys": self._keys.snapshot(), "counters": self._counters.snapshot()}

    def restore(self, data: dict[str, Any]) -> None:
        self._rooms.restore(data["rooms"])
        self._pairs.restore(data["pairs"])
        self._keys.restore(data["keys"])
        # Absent from what a node of an earlier version sealed.
        self._counters.restore(data.get("counters", []))


def _is_a_broker(b: MemoryBroker) -> Broker:
    """Never called: mypy checks here that MemoryBroker is a `Broker`."""
    return b
