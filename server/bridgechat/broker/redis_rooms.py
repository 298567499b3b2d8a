"""Rooms on Redis: their state, what goes with them, and their messages.

| key | type | holds |
| --- | --- | --- |
| bc:room:{id} | hash | snap, seq (last number), live (alias by id), closed; "id M C" fields |
| bc:meta:{id} | string | what goes with a room (prompt, reasons, stage, feedback) |
| bc:idq:{id}:{m} | list | names of member M's last 100 "id M C" fields, oldest first |
| bc:hist:{id} | list | messages (`Said` arrays) in seq order, the last N, expiring with the room |
| bc:open, bc:wake | set, zset | open rooms; rooms to look at again, by time |
| bc:mrooms:{member} | set | rooms a member has a seat in |

A room changes under WATCH/MULTI: load, apply the pure room rule, save; a
concurrent change from another node makes the transaction retry. A chat
message is the send script (redis_send.py), one round trip on the lean
connection. Each node keeps the last snapshot of the rooms its members are
in (redis_held.py), so that after a Redis restart it can put them back:
history is lost then (resume says `complete: false`), but the conversation
goes on.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

import msgspec
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError, WatchError

from bridgechat.broker import Said
from bridgechat.broker.redis_held import Held
from bridgechat.broker.redis_link import ROOM_TTL, P, RedisLink
from bridgechat.broker.redis_send import SEND, SEND_SHA, answer, send_args
from bridgechat.core.protocol import Code, ProtocolError
from bridgechat.core.room import Accepted, Room, RoomMeta

log = logging.getLogger("bridgechat.redis")
T = TypeVar("T")
R = TypeVar("R")
S = TypeVar("S")
RETRIES = 50

_enc = msgspec.json.Encoder()
_meta = msgspec.json.Decoder(RoomMeta)
_said = msgspec.json.Decoder(Said)

# Put a room back after a Redis reset, unless a node already did.
RESTORE = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'snap', ARGV[1], 'seq', ARGV[2], 'live', ARGV[3], 'closed', ARGV[4])
redis.call('EXPIRE', KEYS[1], ARGV[5])
return 1
"""


def _room_fields(room: Room, with_seq: bool) -> dict[str, Any]:
    """The room hash's fields; `seq` only when creating or restoring (sends own it)."""
    fields: dict[str, Any] = {
        "snap": _enc.encode(room.snapshot()),
        "live": _enc.encode({s.member: s.alias for s in room.seated()}),
        "closed": 0 if room.is_open else 1,
    }
    if with_seq:
        fields["seq"] = room.seq
    return fields


def _room(snap: bytes, seq: bytes | None) -> Room:
    room = Room.restore(msgspec.json.decode(snap))
    room.seq = int(seq or 0)
    return room


def _settle(out: asyncio.Future[T], done: asyncio.Future[T]) -> None:
    """Give `out` what `done` ended with."""
    if out.done():
        return
    if done.cancelled():
        out.cancel()
    elif (exc := done.exception()) is not None:
        out.set_exception(exc)
    else:
        out.set_result(done.result())


class RedisRooms:
    def __init__(self, link: RedisLink, held: Held, history: int) -> None:
        self.link = link
        self.r = link.client
        self.held = held
        self.history = history
        self._restore_script = self.r.register_script(RESTORE)

    async def create_room(self, room: Room, meta: RoomMeta) -> None:
        raw_meta = _enc.encode(meta)
        pipe = self.r.pipeline(transaction=True)
        pipe.hset(f"{P}room:{room.id}", mapping=_room_fields(room, with_seq=True))
        pipe.expire(f"{P}room:{room.id}", ROOM_TTL)
        pipe.set(f"{P}meta:{room.id}", raw_meta, ex=ROOM_TTL)
        pipe.sadd(f"{P}open", room.id)
        for m in room.seats:
            pipe.sadd(f"{P}mrooms:{m}", room.id)
        await pipe.execute()
        self.held.remember(room, raw_meta)

    async def _restore(self, room_id: str) -> bool:
        """Put back a room this node knew, if Redis lost it; False if we never knew it."""
        known = self.held.rooms.get(room_id)
        if known is None:
            return False
        room = _room(known.snap, b"%d" % known.seq)
        fields = _room_fields(room, with_seq=True)
        if await self._restore_script(keys=[f"{P}room:{room_id}"], args=[
                fields["snap"], fields["seq"], fields["live"], fields["closed"], ROOM_TTL]):
            pipe = self.r.pipeline(transaction=False)
            if known.meta is not None:
                pipe.set(f"{P}meta:{room_id}", known.meta, nx=True, ex=ROOM_TTL)
            if room.is_open:
                pipe.sadd(f"{P}open", room_id)
            for s in room.seated():
                pipe.sadd(f"{P}mrooms:{s.member}", room_id)
            await pipe.execute()
            log.info("room restored after a redis reset")
        return True

    async def restore_held(self) -> None:
        """Put back every room this node knew, at once, after Redis lost them: a member
        who says hello finds their rooms even before anyone speaks in them."""
        for room_id in list(self.held.rooms):
            await self._restore(room_id)

    async def _load(self, room_id: str) -> Room | None:
        snap, seq = await self.r.hmget(f"{P}room:{room_id}", "snap", "seq")
        return None if snap is None else _room(snap, seq)

    async def room(self, room_id: str) -> Room | None:
        room = await self._load(room_id)
        if room is None and await self._restore(room_id):
            room = await self._load(room_id)
        return room

    async def meta(self, room_id: str) -> RoomMeta | None:
        raw = await self.r.get(f"{P}meta:{room_id}")
        return None if raw is None else _meta.decode(raw)

    async def change_room(self, room_id: str, fn: Callable[[Room], T]) -> T:
        key = f"{P}room:{room_id}"

        async def load(pipe: Any) -> Room | None:
            snap, seq = await pipe.hmget(key, "snap", "seq")
            return None if snap is None else _room(snap, seq)

        def apply(room: Room, pipe: Any) -> tuple[T, Room]:
            was_open = room.is_open
            result = fn(room)
            if was_open and not room.is_open:
                pipe.srem(f"{P}open", room_id)
            pipe.hset(key, mapping=_room_fields(room, with_seq=False))
            return result, room

        result, room = await self._transact(key, load, apply, lambda: self._restore(room_id))
        self.held.remember(room)
        return result

    async def change_meta(self, room_id: str, fn: Callable[[RoomMeta], T]) -> T:
        key = f"{P}meta:{room_id}"

        async def load(pipe: Any) -> RoomMeta | None:
            raw = await pipe.get(key)
            return None if raw is None else _meta.decode(raw)

        def apply(meta: RoomMeta, pipe: Any) -> tuple[T, None]:
            result = fn(meta)
            pipe.set(key, _enc.encode(meta), keepttl=True)
            return result, None

        async def missing() -> bool:
            return False

        result, _ = await self._transact(key, load, apply, missing)
        return result

    async def _transact(self, key: str, load: Callable[[Any], Awaitable[S | None]],
                        apply: Callable[[S, Any], tuple[T, R]],
                        restore: Callable[[], Awaitable[bool]]) -> tuple[T, R]:
        """Load under WATCH, apply a pure change, write unless another node got there first.

        `apply` queues its writes on the transaction; a ProtocolError from it
        leaves everything untouched. A missing key is restored once if we can."""
        for _ in range(RETRIES):
            async with self.r.pipeline(transaction=True) as pipe:
                try:
                    await pipe.watch(key)
                    value = await load(pipe)
                    if value is None:
                        await pipe.unwatch()
                        if not await restore():
                            raise ProtocolError(Code.UNKNOWN_ROOM)
                        continue
                    pipe.multi()
                    result, extra = apply(value, pipe)
                    await pipe.execute()
                    return result, extra
                except WatchError:
                    continue
                except RedisConnectionError:
                    # A pooled connection from before a Redis restart: the next one is fresh.
                    await asyncio.sleep(0.05)
                    continue
        raise ProtocolError(Code.INTERNAL_ERROR, "The conversation is too busy; try again.")

    async def member_rooms(self, member: str) -> set[str]:
        return {r.decode() for r in await self.r.smembers(f"{P}mrooms:{member}")}

    async def unseat(self, room_id: str, members: Sequence[str]) -> None:
        if members:
            pipe = self.r.pipeline(transaction=False)
            for m in members:
                pipe.srem(f"{P}mrooms:{m}", room_id)
            await pipe.execute()

    async def end_room(self, room_id: str, keep_history: float, keep_room: float) -> None:
        room = await self._load(room_id)
        pipe = self.r.pipeline(transaction=False)
        pipe.srem(f"{P}open", room_id)
        pipe.expire(f"{P}hist:{room_id}", max(1, int(keep_history)))
        pipe.expire(f"{P}room:{room_id}", max(1, int(keep_room)))
        pipe.expire(f"{P}meta:{room_id}", max(1, int(keep_room)))
        # A closed room numbers nothing more: the client ids it knew are of no use.
        lists = [f"{P}idq:{room_id}:{m}" for m in (room.seats if room else ())]
        for key in lists:
            pipe.lrange(key, 0, -1)
        if lists:
            pipe.delete(*lists)
        fields = [f for got in (await pipe.execute())[4:4 + len(lists)] for f in got]
        if fields:
            await self.r.hdel(f"{P}room:{room_id}", *fields)
        self.held.forget(room_id)

    async def open_rooms(self) -> list[str]:
        return [r.decode() for r in await self.r.smembers(f"{P}open")]

    async def wake_at(self, room_id: str, until: float) -> None:
        await self.r.zadd(f"{P}wake", {room_id: until}, lt=True)
        await self.r.zadd(f"{P}wake", {room_id: until}, nx=True)

    async def due_rooms(self, now: float) -> list[str]:
        async with self.r.pipeline(transaction=True) as pipe:
            pipe.zrangebyscore(f"{P}wake", 0, now)
            pipe.zremrangebyscore(f"{P}wake", 0, now)
            due, _ = await pipe.execute()
        return [r.decode() for r in due]

    # -- chat messages: Room.send's rules, as the send script runs them -----------------

    def _accepted(self, got: list[bytes], room_id: str, client_id: str, ts: str) -> Accepted:
        accepted = answer(got, client_id, ts)
        if accepted.fresh:
            self.held.saw(room_id, accepted.seq)
        return accepted

    async def _send(self, room_id: str, member: str, client_id: str, ts: str, text: str,
                    allowed: bool) -> Accepted:
        """The careful way: connect if need be, load the script if Redis lost it, put
        the room back if Redis lost it. Safe to try again after a broken connection:
        a known client id is not numbered again."""
        args = send_args(room_id, member, client_id, ts, text, allowed, self.history)
        for attempt in range(2):
            try:
                got = await self.link.call("EVALSHA", SEND_SHA, *args)
            except ResponseError as exc:
                if not str(exc).startswith("NOSCRIPT"):
                    raise
                got = await self.link.call("EVAL", SEND, *args)  # and Redis keeps it
            if got[0] == b"unknown_room" and not attempt and await self._restore(room_id):
                continue
            return self._accepted(got, room_id, client_id, ts)
        raise AssertionError("unreachable")

    def send_soon(self, room_id: str, member: str, client_id: str, ts: str, text: str,
                  allowed: bool = True) -> asyncio.Future[Accepted]:
        """The script written at once (so messages begun in turn are numbered in turn),
        its answer read in a callback.

        Anything but a plain answer (a broken connection, a script Redis lost
        in a restart, a room to put back) goes the careful way, `_send`."""
        first = self.link.call_now("EVALSHA", SEND_SHA, *send_args(
            room_id, member, client_id, ts, text, allowed, self.history))
        if first is None:
            return asyncio.ensure_future(
                self._send(room_id, member, client_id, ts, text, allowed))
        out: asyncio.Future[Accepted] = asyncio.get_running_loop().create_future()

        def answered(f: asyncio.Future[Any]) -> None:
            if out.done():
                return
            if not f.cancelled() and f.exception() is None and f.result()[0] != b"unknown_room":
                try:
                    out.set_result(self._accepted(f.result(), room_id, client_id, ts))
                except ProtocolError as err:
                    out.set_exception(err)
                return
            careful = asyncio.ensure_future(
                self._send(room_id, member, client_id, ts, text, allowed))
            careful.add_done_callback(lambda c: _settle(out, c))

        first.add_done_callback(answered)
        return out

    async def replay(self, room: str, after: int, limit: int) -> tuple[list[Said], bool]:
        key = f"{P}hist:{room}"
        oldest = await self.r.lindex(key, 0)
        if oldest is None:
            return [], True
        first = _said.decode(oldest).seq
        # Numbered and kept in one script, one entry per seq: seq after+1 is at
        # index after+1-first, so only the page is read, not the whole history.
        start = max(0, after + 1 - first)
        page = [_said.decode(raw) for raw in await self.r.lrange(key, start, start + limit - 1)]
        return [s for s in page if s.seq > after], first <= after + 1
