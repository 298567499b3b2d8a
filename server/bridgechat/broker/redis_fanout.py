"""Fan-out on Redis: a channel per member, heard by the node they are connected to.

| key | type | holds |
| --- | --- | --- |
| bc:m:{member} | channel | envelopes for the member (redis_envelope.py) |
| bc:presence:{member} | string | the node holding the member, with a TTL its heartbeat renews |
| bc:nodes | zset | node id -> its last heartbeat |
| bc:node:{id} | set | that node's members, to find them if the node dies |

Publishing goes over the lean connection (resp.py); the subscriber hands
each envelope to the inbox from inside its read, without waking a task.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence

import msgspec
from redis.exceptions import RedisError

from bridgechat.broker import Inbox, Said
from bridgechat.broker.redis_envelope import CUT, FRAME, SAID, body_of, kind_of, seal
from bridgechat.broker.redis_held import Held
from bridgechat.broker.redis_link import P, RedisLink
from bridgechat.broker.redis_pool import RedisPool
from bridgechat.broker.resp import Subscriber
from bridgechat.jobs import stop

log = logging.getLogger("bridgechat.redis")
PRESENCE_TTL = 15
NODE_DEAD_AFTER = 10.0
_said = msgspec.json.Decoder(Said)
_CHANNEL = f"{P}m:".encode()


class RedisFanOut:
    def __init__(self, link: RedisLink, held: Held, node: str, pool: RedisPool) -> None:
        self.link = link
        self.r = link.client
        self.held = held
        self.node = node
        self.pool = pool
        self.inbox: Inbox | None = None
        self.missed = False  # subscribed again after a loss, members not yet told
        self.sub = Subscriber(link.target, self._heard, self._back)
        self._listen: asyncio.Task[None] | None = None

    async def start(self, inbox: Inbox) -> None:
        """Connect the subscriber (its errors raise here), then keep it connected."""
        self.inbox = inbox
        await self.sub.link.connect()
        self._listen = asyncio.create_task(self.sub.run())

    def _back(self) -> None:
        # Told to the node by `catch_up`, from the broker's presence loop once it has
        # put back what Redis lost: members who reconnect then find their rooms.
        self.missed = True

    def catch_up(self) -> None:
        """If the subscription was lost and is back, have this node's members catch up."""
        if self.missed and self.inbox is not None:
            self.missed = False
            self.inbox.missed()

    @property
    def listening(self) -> bool:
        return self.sub.listening

    async def close(self) -> None:
        if self._listen is not None:  # started: this node may be in bc:nodes
            await stop([self._listen])
            self._listen = None
            with contextlib.suppress(RedisError, OSError):
                await self.r.zrem(f"{P}nodes", self.node)
        await self.sub.close()
        self.inbox = None

    def _heard(self, channel: bytes, envelope: bytes) -> None:
        """An envelope for one of our members (runs inside the subscriber's read)."""
        inbox = self.inbox
        if inbox is None or not channel.startswith(_CHANNEL):
            return
        member = channel[len(_CHANNEL):].decode()
        kind = kind_of(envelope)
        if kind == FRAME:
            inbox.deliver(member, body_of(envelope))
        elif kind == SAID:
            try:
                said = _said.decode(body_of(envelope))
            except msgspec.DecodeError:
                log.warning("unreadable message from redis")
                return
            self.held.saw(said.room, said.seq)
            inbox.hear((member,), said)
        elif kind == CUT:
            inbox.cut(member, body_of(envelope))
        else:
            log.warning("unknown envelope kind from redis", extra={"kind": kind.hex()})

    async def subscribe(self, member: str) -> None:
        self.held.members.add(member)
        await self.sub.subscribe(_CHANNEL + member.encode())
        pipe = self.r.pipeline(transaction=False)
        pipe.set(f"{P}presence:{member}", self.node, ex=PRESENCE_TTL)
        pipe.sadd(f"{P}node:{self.node}", member)
        await pipe.execute()

    async def unsubscribe(self, member: str) -> None:
        self.held.members.discard(member)
        await self.sub.unsubscribe(_CHANNEL + member.encode())
        pipe = self.r.pipeline(transaction=False)
        pipe.srem(f"{P}node:{self.node}", member)
        pipe.delete(f"{P}presence:{member}")
        await pipe.execute()

    async def publish(self, members: Sequence[str], frame: bytes) -> None:
        envelope = seal(FRAME, frame)
        if len(members) == 1:
            await self.link.call("PUBLISH", f"{P}m:{members[0]}", envelope)
            return
        await asyncio.gather(*(self.link.call("PUBLISH", f"{P}m:{m}", envelope)
                               for m in members))

    async def cut(self, member: str, frame: bytes) -> None:
        await self.link.call("PUBLISH", f"{P}m:{member}", seal(CUT, frame))

    async def beat(self) -> None:
        """This node's heartbeat, and the presence of its members."""
        pipe = self.r.pipeline(transaction=False)
        pipe.zadd(f"{P}nodes", {self.node: time.time()})
        for m in self.held.members:
            pipe.set(f"{P}presence:{m}", self.node, ex=PRESENCE_TTL)
            pipe.sadd(f"{P}node:{self.node}", m)
        await pipe.execute()

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
            for t in await self.pool.tickets():
                if t.member in out:
                    await self.pool.remove_ticket(t.id)
        return out
