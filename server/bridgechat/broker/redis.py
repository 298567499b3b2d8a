"""The Redis broker: what many nodes share, held in Redis's memory only.

Run Redis without persistence (`--save "" --appendonly no`): nothing here
should outlive a restart on disk. Layout, all under the `bc:` prefix:

| key | type | holds |
| --- | --- | --- |
| tickets | hash | ticket id -> ticket (with profile answers, until matched or left) |
| leader | string | the node that runs matching, with a TTL it renews |
| m:{member} | channel | frames for a member, heard by the node they are connected to |
| presence:{member} | string | that node's id, with a TTL refreshed by its heartbeat |
| nodes, node:{id} | zset, set | node heartbeats, and each node's members |
| room:{id} | hash | snap, seq (last number), live (alias by id), closed; "id M C" fields |
| meta:{id} | string | what goes with a room (prompt, reasons, stage, feedback) |
| idq:{id}:{m} | list | names of member M's last 100 "id M C" fields, oldest first |
| open, wake | set, zset | open rooms; rooms to look at again (a grace or stage ending), by time |
| mrooms:{member} | set | rooms a member has a seat in |
| hist:{id} | list | messages (`Said` arrays) in seq order, the last N, expiring with the room |
| pairs, again | zset, set | pairs met recently (by expiry), meet-again pairs |
| fkeys | hash | franking keys by id |

A room changes under WATCH/MULTI: load, apply the pure room rule, save; a
concurrent change from another node makes the transaction retry. A chat
message, the one hot path, is a single script (`_SEND`, the rule of
`Room.send`): check the seat, number it once per client id, keep it and
publish it to the other members, in one round trip. Messages travel as
JSON arrays (`Said`) and frames as JSON objects, so the listener tells
them apart by their first byte. Each node
keeps the last snapshot of the rooms it touched, so that after a Redis
restart it can put them back: history is lost then (resume says
`complete: false`), but the conversation goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import msgspec
import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError, ResponseError, WatchError

from bridgechat.broker import Deliver, Hear, Said
from bridgechat.broker.resp import RespLink, Subscriber, bulks
from bridgechat.core.protocol import Code, ProtocolError
from bridgechat.core.room import IDS_REMEMBERED, Accepted, Room, RoomMeta
from bridgechat.matching import Ticket

log = logging.getLogger("bridgechat.redis")
T = TypeVar("T")
R = TypeVar("R")
S = TypeVar("S")
P = "bc:"
HISTORY = 500
HEARTBEAT = 2.0
NODE_DEAD_AFTER = 10.0
PRESENCE_TTL = 15
# Rooms that nobody touches for this long are dropped from Redis (a safety net).
ROOM_TTL = 86400
RETRIES = 50
POOL = 100  # connections to Redis per node
SEND_PARTS = 4096  # (room, member) pairs whose packed send command is kept

_enc = msgspec.json.Encoder()
_ticket = msgspec.json.Decoder(Ticket)
_meta = msgspec.json.Decoder(RoomMeta)
_said = msgspec.json.Decoder(Said)
_live = msgspec.json.Encoder()
_MEMBER_CHANNEL = f"{P}m:".encode()

# Renew the lock only if we hold it; take it if nobody does.
_LEAD = """
local v = redis.call('GET', KEYS[1])
if v == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
if not v then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end
return 0
"""

# Room.send, for a room kept here, in as few Redis calls as it can (each costs
# the script a few microseconds). KEYS: room hash, the sender's id list,
# history. ARGV: member, client id, ts, text, allowed (1/0), history length,
# channel prefix, ttl, room id, ids remembered per member. A client id is
# remembered in the room hash as field "id MEMBER CLIENT_ID" = "SEQ TS".
# Returns {outcome} or {outcome, value}; outcome is an error code, "fresh" or "known".
_SEND = """
local field = 'id ' .. ARGV[1] .. ' ' .. ARGV[2]
local got = redis.call('HMGET', KEYS[1], 'live', 'closed', 'seq', field)
if not got[1] then return {'unknown_room'} end
local live = cjson.decode(got[1])
local alias = live[ARGV[1]]
if not alias then return {'not_in_room'} end
if got[2] == '1' then return {'room_closed'} end
if got[4] then return {'known', got[4]} end
if ARGV[5] ~= '1' then return {'rate_limited'} end
local seq = tonumber(got[3]) + 1
redis.call('HSET', KEYS[1], 'seq', seq, field, seq .. ' ' .. ARGV[3])
local ids = redis.call('RPUSH', KEYS[2], field)
if ids == 1 then
  redis.call('EXPIRE', KEYS[2], ARGV[8])
elseif ids > tonumber(ARGV[10]) then
  redis.call('HDEL', KEYS[1], redis.call('LPOP', KEYS[2]))
end
local said = cjson.encode({ARGV[9], seq, alias, ARGV[3], ARGV[4]})
local kept = redis.call('RPUSH', KEYS[3], said)
if kept == 1 then
  redis.call('EXPIRE', KEYS[3], ARGV[8])
elseif kept > tonumber(ARGV[6]) then
  redis.call('LPOP', KEYS[3])
end
for m, _ in pairs(live) do
  if m ~= ARGV[1] then redis.call('PUBLISH', ARGV[7] .. m, said) end
end
return {'fresh', seq}
"""
_SEND_SHA = hashlib.sha1(_SEND.encode()).hexdigest()

# Put a room back after a Redis reset, unless a node already did.
_RESTORE = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'snap', ARGV[1], 'seq', ARGV[2], 'live', ARGV[3], 'closed', ARGV[4])
redis.call('EXPIRE', KEYS[1], ARGV[5])
return 1
"""


@dataclass(slots=True)
class Known:
    """What this node last saw of a room its members are in, to restore it."""

    snap: bytes
    meta: bytes | None
    seq: int


def _room_fields(room: Room, with_seq: bool) -> dict[str, Any]:
    """The room hash's fields; `seq` only when creating or restoring (sends own it)."""
    fields: dict[str, Any] = {
        "snap": _enc.encode(room.snapshot()),
        "live": _live.encode({s.member: s.alias for s in room.seated()}),
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


def _pair(p: frozenset[str]) -> str:
    return "|".join(sorted(p))


class RedisBroker:
    def __init__(self, url: str, node: str, history: int = HISTORY) -> None:
        self.url = url
        self.node = node
        self._history_len = history
        # Any: redis-py's annotations cannot say that replies are bytes here
        # (no decode_responses), so they would force a cast on every call.
        # A blocking pool: past POOL connections in use (each room change holds one
        # for its WATCH), callers wait their turn instead of failing with
        # MaxConnectionsError, as redis-py's default pool of 100 does.
        self.r: Any = aioredis.Redis.from_pool(aioredis.BlockingConnectionPool.from_url(
            url, max_connections=POOL, timeout=5,
            socket_timeout=5, socket_connect_timeout=2, health_check_interval=10,
            # After a Redis restart every pooled connection is stale once: retry on a new one.
            retry=Retry(ExponentialBackoff(cap=0.5, base=0.05), 3),
            retry_on_error=[RedisConnectionError, TimeoutError]))
        # The hot paths (a message's script, publishing, and hearing what is
        # published) go over lean connections of their own: server/broker/resp.py.
        self._link = RespLink(url)
        # (room, member) -> the send script's packed command before and after
        # the four arguments that change with each message (_send_wire)
        self._send_parts: dict[tuple[str, str], tuple[bytes, bytes]] = {}
        self._sub: Subscriber | None = None
        self._deliver: Deliver | None = None
        self._hear: Hear | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._members: set[str] = set()
        self._known: dict[str, Known] = {}
        self._restore_script = self.r.register_script(_RESTORE)
        self.on_reset: Callable[[], Awaitable[None]] | None = None
        self._ok = False

    # -- lifecycle ------------------------------------------------------------------

    async def start(self, deliver: Deliver, hear: Hear) -> None:
        self._deliver, self._hear = deliver, hear
        await self.r.ping()
        self._sub = Subscriber(self.url, self._heard, self._sub_state)
        self._tasks = [asyncio.create_task(self._sub.run())]
        await asyncio.wait_for(asyncio.shield(self._sub.up), 10)
        await self.r.set(f"{P}epoch", "1", nx=True)
        self._ok = True
        self._tasks.append(asyncio.create_task(self._beat()))

    async def close(self) -> None:
        for t in self._tasks:
            t.cancel()
        for t in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await t
        with contextlib.suppress(RedisError, OSError):
            await self.r.zrem(f"{P}nodes", self.node)
        if self._sub is not None:
            await self._sub.close()
        await self._link.close()
        await self.r.aclose()
        self._deliver = self._hear = None

    async def ready(self) -> bool:
        try:
            await asyncio.wait_for(self.r.ping(), 1.0)
        except (RedisError, OSError, TimeoutError):
            self._ok = False
        return self._ok

    def _sub_state(self, up: bool) -> None:
        if not up:
            self._ok = False

    def _heard(self, channel: bytes, data: bytes) -> None:
        """A frame or message for one of our members (runs inside the subscriber's read)."""
        if not channel.startswith(_MEMBER_CHANNEL):
            return
        member = channel[len(_MEMBER_CHANNEL):].decode()
        if data[:1] == b"[":
            try:
                said = _said.decode(data)
            except msgspec.DecodeError:
                log.warning("unreadable message from redis")
                return
            known = self._known.get(said.room)
            if known is not None and said.seq > known.seq:
                known.seq = said.seq
            if self._hear is not None:
                self._hear((member,), said)
        elif self._deliver is not None:
            self._deliver(member, data)

    async def _beat(self) -> None:
        """Heartbeat, presence; after a Redis restart, put back what this node knows."""
        delay = HEARTBEAT
        while True:
            await asyncio.sleep(delay)
            try:
                fresh = await self.r.set(f"{P}epoch", "1", nx=True)
                pipe = self.r.pipeline(transaction=False)
                pipe.zadd(f"{P}nodes", {self.node: time.time()})
                for m in self._members:
                    pipe.set(f"{P}presence:{m}", self.node, ex=PRESENCE_TTL)
                    pipe.sadd(f"{P}node:{self.node}", m)
                await pipe.execute()
                if not self._ok:
                    log.info("redis is back")
                self._ok, delay = True, HEARTBEAT
                if fresh and self.on_reset is not None:
                    log.warning("redis lost its state; restoring what this node knows")
                    await self.on_reset()
            except (RedisError, OSError) as exc:
                self._ok = False
                log.warning("redis unreachable", extra={"what": type(exc).__name__})
                delay = min(delay * 2, 10.0)

    # -- waiting pool -------------------------------------------------------------

    async def add_ticket(self, ticket: Ticket) -> None:
        await self.r.hset(f"{P}tickets", ticket.id, _enc.encode(ticket))

    async def remove_ticket(self, ticket_id: str) -> Ticket | None:
        async with self.r.pipeline(transaction=True) as pipe:
            pipe.hget(f"{P}tickets", ticket_id)
            pipe.hdel(f"{P}tickets", ticket_id)
            raw, removed = await pipe.execute()
        return _ticket.decode(raw) if raw is not None and removed else None

    async def tickets(self) -> list[Ticket]:
        return [_ticket.decode(v) for v in (await self.r.hgetall(f"{P}tickets")).values()]

    async def lead(self, node: str, ttl: float) -> bool:
        return bool(await self.r.eval(_LEAD, 1, f"{P}leader", node, int(ttl * 1000)))

    # -- fan-out --------------------------------------------------------------------

    async def subscribe(self, member: str) -> None:
        self._members.add(member)
        assert self._sub is not None, "start() first"
        await self._sub.subscribe(_MEMBER_CHANNEL + member.encode())
        pipe = self.r.pipeline(transaction=False)
        pipe.set(f"{P}presence:{member}", self.node, ex=PRESENCE_TTL)
        pipe.sadd(f"{P}node:{self.node}", member)
        await pipe.execute()

    async def unsubscribe(self, member: str) -> None:
        self._members.discard(member)
        if self._sub is not None:
            await self._sub.unsubscribe(_MEMBER_CHANNEL + member.encode())
        pipe = self.r.pipeline(transaction=False)
        pipe.srem(f"{P}node:{self.node}", member)
        pipe.delete(f"{P}presence:{member}")
        await pipe.execute()

    async def publish(self, members: Sequence[str], frame: bytes) -> None:
        if len(members) == 1:
            await self._call("PUBLISH", f"{P}m:{members[0]}", frame)
            return
        await asyncio.gather(*(self._call("PUBLISH", f"{P}m:{m}", frame) for m in members))

    async def _call(self, *args: bytes | str | int) -> Any:
        """A command on the lean connection, tried again on a fresh one if it broke."""
        for delay in (0.05, 0.1, 0.2):
            try:
                return await self._link.call(*args)
            except RedisConnectionError:
                await asyncio.sleep(delay)
        return await self._link.call(*args)

    async def orphans(self) -> list[str]:
        dead = await self.r.zrangebyscore(f"{P}nodes", 0, time.time() - NODE_DEAD_AFTER)
        out: list[str] = []
        for raw in dead:
            node = raw.decode()
            members = [m.decode() for m in await self.r.smembers(f"{P}node:{node}")]
            # Someone already back on another node is not an orphan.
            where = await self.r.mget([f"{P}presence:{m}" for m in members]) if members else []
            out += [m for m, w in zip(members, where, strict=True)
                    if w is None or w.decode() == node]
            await self.r.delete(f"{P}node:{node}")
            await self.r.zrem(f"{P}nodes", node)
        if out:
            # Their tickets can never be matched: nobody would answer.
            for t in await self.tickets():
                if t.member in out:
                    await self.remove_ticket(t.id)
        return out

    # -- rooms ------------------------------------------------------------------------

    def _remember(self, room: Room, meta: bytes | None = None) -> None:
        if any(m in self._members for m in room.seats):
            old = self._known.get(room.id)
            self._known[room.id] = Known(
                _enc.encode(room.snapshot()),
                meta if meta is not None else (old.meta if old else None),
                max(room.seq, old.seq if old else 0))
        else:
            self._known.pop(room.id, None)

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
        self._remember(room, raw_meta)

    async def _restore(self, room_id: str) -> bool:
        """Put back a room this node knew, if Redis lost it; False if we never knew it."""
        known = self._known.get(room_id)
        if known is None:
            return False
        room = Room.restore(msgspec.json.decode(known.snap))
        room.seq = known.seq
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
        self._remember(room)
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
        self._known.pop(room_id, None)

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

    # -- chat messages and history -----------------------------------------------------

    def _send_cmd(self, room_id: str, member: str, client_id: str, ts: str, text: str,
                  allowed: bool) -> tuple[str | int, ...]:
        return (_SEND_SHA, 3, f"{P}room:{room_id}", f"{P}idq:{room_id}:{member}",
                f"{P}hist:{room_id}", member, client_id, ts, text, 1 if allowed else 0,
                self._history_len, f"{P}m:", ROOM_TTL, room_id, IDS_REMEMBERED)

    def _send_wire(self, room_id: str, member: str, client_id: str, ts: str, text: str,
                   allowed: bool) -> bytes:
        """EVALSHA of the send script, packed: what is the same for every message of a
        member in a room (the keys, the constants) is packed once and kept."""
        parts = self._send_parts.get((room_id, member))
        if parts is None:
            if len(self._send_parts) >= SEND_PARTS:
                self._send_parts.clear()
            cmd = ("EVALSHA", *self._send_cmd(room_id, member, "", "", "", allowed))
            parts = self._send_parts[room_id, member] = (
                b"*%d\r\n" % len(cmd) + bulks(cmd[:7]), bulks(cmd[11:]))
        return parts[0] + bulks((client_id, ts, text, 1 if allowed else 0)) + parts[1]

    def _accepted(self, got: list[bytes], room_id: str, client_id: str, ts: str) -> Accepted:
        """What the script answered; a refusal raises ProtocolError."""
        outcome = got[0]
        if outcome == b"fresh":
            seq = int(got[1])
            known = self._known.get(room_id)
            if known is not None and seq > known.seq:
                known.seq = seq
            return Accepted(seq, ts, fresh=True)
        if outcome == b"known":
            seq_b, ts_b = got[1].split(b" ", 1)
            return Accepted(int(seq_b), ts_b.decode(), fresh=False)
        code = Code(outcome.decode())
        raise ProtocolError(code, ref=client_id if code is Code.RATE_LIMITED else None)

    async def send(self, room_id: str, member: str, client_id: str, ts: str, text: str,
                   allowed: bool = True) -> Accepted:
        # Safe to try again after a broken connection: a known client id is not renumbered.
        cmd = self._send_cmd(room_id, member, client_id, ts, text, allowed)
        for attempt in range(2):
            try:
                got = await self._call("EVALSHA", *cmd)
            except ResponseError as exc:
                if not str(exc).startswith("NOSCRIPT"):
                    raise
                got = await self._call("EVAL", _SEND, *cmd[1:])  # and Redis keeps it
            if got[0] == b"unknown_room" and not attempt and await self._restore(room_id):
                continue
            return self._accepted(got, room_id, client_id, ts)
        raise AssertionError("unreachable")

    def send_soon(self, room_id: str, member: str, client_id: str, ts: str, text: str,
                  allowed: bool = True) -> asyncio.Future[Accepted]:
        """`send` with its script written at once and its answer read in a callback.

        Anything but a plain answer (a broken connection, a script Redis lost
        in a restart, a room to put back) goes on the careful way, `send`."""
        first = self._link.call_now(self._send_wire(room_id, member, client_id, ts, text,
                                                    allowed))
        if first is None:
            return asyncio.ensure_future(self.send(room_id, member, client_id, ts, text, allowed))
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
                self.send(room_id, member, client_id, ts, text, allowed))
            careful.add_done_callback(lambda c: _settle(out, c))

        first.add_done_callback(answered)
        return out

    async def replay(self, room: str, after: int) -> tuple[list[Said], bool]:
        kept = [_said.decode(raw) for raw in await self.r.lrange(f"{P}hist:{room}", 0, -1)]
        if not kept:
            return [], True
        # Numbered and kept in one script, so the list is in seq order.
        return [s for s in kept if s.seq > after], kept[0].seq <= after + 1

    # -- pairs ----------------------------------------------------------------------

    async def note_pairs(self, pairs: Sequence[frozenset[str]], ttl: float) -> None:
        if pairs:
            until = time.time() + ttl
            await self.r.zadd(f"{P}pairs", {_pair(p): until for p in pairs})

    async def recent_pairs(self) -> frozenset[frozenset[str]]:
        await self.r.zremrangebyscore(f"{P}pairs", 0, time.time())
        return frozenset(frozenset(p.decode().split("|"))
                         for p in await self.r.zrange(f"{P}pairs", 0, -1))

    async def note_again(self, pair: frozenset[str]) -> None:
        await self.r.sadd(f"{P}again", _pair(pair))

    async def again_pairs(self) -> frozenset[frozenset[str]]:
        return frozenset(frozenset(p.decode().split("|"))
                         for p in await self.r.smembers(f"{P}again"))

    async def drop_again(self, pair: frozenset[str]) -> None:
        await self.r.srem(f"{P}again", _pair(pair))

    async def forget_member(self, member: str) -> None:
        for key, members in ((f"{P}pairs", await self.r.zrange(f"{P}pairs", 0, -1)),
                             (f"{P}again", await self.r.smembers(f"{P}again"))):
            mine = [p for p in members if member in p.decode().split("|")]
            if mine:
                await (self.r.zrem(key, *mine) if key.endswith("pairs")
                       else self.r.srem(key, *mine))
        await self.r.delete(f"{P}mrooms:{member}")

    # -- franking keys --------------------------------------------------------------

    async def franking_keys(self) -> dict[int, tuple[bytes, float]]:
        raw = await self.r.hgetall(f"{P}fkeys")
        out: dict[int, tuple[bytes, float]] = {}
        for kid, value in raw.items():
            created, key = value.split(b" ", 1)
            out[int(kid)] = (bytes.fromhex(key.decode()), float(created))
        return out

    async def add_franking_key(self, key: bytes, now: float, kid: int | None = None) -> None:
        if kid is None:
            kid = int(await self.r.incr(f"{P}fkid"))
        else:
            await self.r.set(f"{P}fkid", max(kid, int(await self.r.get(f"{P}fkid") or 0)))
        await self.r.hset(f"{P}fkeys", str(kid), f"{now} {key.hex()}")

    async def retire_franking_keys(self, before: float) -> None:
        keys = await self.franking_keys()
        newest = max(keys, default=0)
        old = [str(k) for k, (_, t) in keys.items() if t < before and k != newest]
        if old:
            await self.r.hdel(f"{P}fkeys", *old)
