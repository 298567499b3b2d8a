"""The waiting pool on Redis: tickets in one hash, who holds one, and the matcher's lock.

| key | type | holds |
| --- | --- | --- |
| bc:tickets | hash | ticket id -> ticket (with profile answers, until matched or left) |
| bc:holders | hash | member id, or `signup:<id>` for an event -> its waiting ticket's id |
| bc:leader | string | the node that runs matching, with a TTL it renews |

Every change to the two hashes is one script, so they never disagree for
long: a holder whose ticket is gone (a script cut short) counts as none.
"""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

from bridgechat.broker.redis_link import P, RedisLink
from bridgechat.matching import Ticket

KEYS = (f"{P}tickets", f"{P}holders")
_enc = msgspec.json.Encoder()
_ticket = msgspec.json.Decoder(Ticket)

# Renew the lock only if we hold it; take it if nobody does.
LEAD = """
local v = redis.call('GET', KEYS[1])
if v == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
if not v then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end
return 0
"""

# One ticket per member (and per sign-up): added only if none of its holders (ARGV[3]
# on) holds one still waiting.
ADD = """
for i = 3, #ARGV do
  local held = redis.call('HGET', KEYS[2], ARGV[i])
  if held and redis.call('HEXISTS', KEYS[1], held) == 1 then return 0 end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
for i = 3, #ARGV do redis.call('HSET', KEYS[2], ARGV[i], ARGV[1]) end
return 1
"""

# Forget each taken ticket's holders, unless one already holds a newer ticket.
FORGET = """
local function forget(id, raw)
  local t = cjson.decode(raw)
  for _, h in ipairs({t['member'], t['holder'] or ''}) do
    if type(h) == 'string' and h ~= '' and redis.call('HGET', KEYS[2], h) == id then
      redis.call('HDEL', KEYS[2], h)
    end
  end
end
"""

REMOVE = FORGET + """
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then return false end
redis.call('HDEL', KEYS[1], ARGV[1])
forget(ARGV[1], raw)
return raw
"""

# All the tickets or none: one script, so no other node takes one of them halfway.
TAKE = FORGET + """
local got = redis.call('HMGET', KEYS[1], unpack(ARGV))
for i = 1, #got do
  if not got[i] then return false end
end
redis.call('HDEL', KEYS[1], unpack(ARGV))
for i = 1, #got do forget(ARGV[i], got[i]) end
return got
"""


class RedisPool:
    def __init__(self, link: RedisLink) -> None:
        self.r = link.client
        # EVALSHA, once loaded: a join or a match sends the script's hash, not its text.
        self.add_script = self.r.register_script(ADD)
        self.remove_script = self.r.register_script(REMOVE)
        self.take_script = self.r.register_script(TAKE)

    async def add_ticket(self, ticket: Ticket) -> bool:
        return bool(await self.add_script(keys=KEYS, args=(ticket.id, _enc.encode(ticket),
                                                           *ticket.holders())))

    async def remove_ticket(self, ticket_id: str) -> Ticket | None:
        raw = await self.remove_script(keys=KEYS, args=(ticket_id,))
        return None if raw is None else _ticket.decode(raw)

    async def take_tickets(self, ticket_ids: Sequence[str]) -> list[Ticket] | None:
        ids = list(dict.fromkeys(ticket_ids))
        if not ids:
            return []
        got = await self.take_script(keys=KEYS, args=ids)
        return None if got is None else [_ticket.decode(raw) for raw in got]

    async def tickets(self) -> list[Ticket]:
        return [_ticket.decode(v) for v in (await self.r.hgetall(f"{P}tickets")).values()]

    async def lead(self, node: str, ttl: float) -> bool:
        return bool(await self.r.eval(LEAD, 1, f"{P}leader", node, int(ttl * 1000)))
