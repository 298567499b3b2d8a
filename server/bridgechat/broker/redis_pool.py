"""The waiting pool on Redis: tickets in one hash, and the matcher's lock.

| key | type | holds |
| --- | --- | --- |
| bc:tickets | hash | ticket id -> ticket (with profile answers, until matched or left) |
| bc:leader | string | the node that runs matching, with a TTL it renews |
"""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

from bridgechat.broker.redis_link import P, RedisLink
from bridgechat.matching import Ticket

_enc = msgspec.json.Encoder()
_ticket = msgspec.json.Decoder(Ticket)

# Renew the lock only if we hold it; take it if nobody does.
LEAD = """
local v = redis.call('GET', KEYS[1])
if v == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
if not v then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end
return 0
"""

# All the tickets or none: one script, so no other node takes one of them halfway.
TAKE = """
local got = redis.call('HMGET', KEYS[1], unpack(ARGV))
for i = 1, #got do
  if not got[i] then return false end
end
redis.call('HDEL', KEYS[1], unpack(ARGV))
return got
"""


class RedisPool:
    def __init__(self, link: RedisLink) -> None:
        self.r = link.client

    async def add_ticket(self, ticket: Ticket) -> None:
        await self.r.hset(f"{P}tickets", ticket.id, _enc.encode(ticket))

    async def remove_ticket(self, ticket_id: str) -> Ticket | None:
        async with self.r.pipeline(transaction=True) as pipe:
            pipe.hget(f"{P}tickets", ticket_id)
            pipe.hdel(f"{P}tickets", ticket_id)
            raw, removed = await pipe.execute()
        return _ticket.decode(raw) if raw is not None and removed else None

    async def take_tickets(self, ticket_ids: Sequence[str]) -> list[Ticket] | None:
        ids = list(dict.fromkeys(ticket_ids))
        if not ids:
            return []
        got = await self.r.eval(TAKE, 1, f"{P}tickets", *ids)
        return None if got is None else [_ticket.decode(raw) for raw in got]

    async def tickets(self) -> list[Ticket]:
        return [_ticket.decode(v) for v in (await self.r.hgetall(f"{P}tickets")).values()]

    async def lead(self, node: str, ttl: float) -> bool:
        return bool(await self.r.eval(LEAD, 1, f"{P}leader", node, int(ttl * 1000)))
