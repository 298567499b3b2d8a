"""A chat message on Redis: one script numbers it, keeps it and publishes it.

The script follows the rules listed in the docstring of `Room.send`
(core/room.py), in the order listed there, and its comments carry the same
numbers; tests/test_broker_contract.py checks both brokers against them.
It runs in as few Redis calls as it can (each costs the script a few
microseconds). A client id is remembered in the room hash as the field
"id MEMBER CLIENT_ID" = "SEQ TS", and the room hash's `live` field maps
each seated member (present or away) to their alias.

KEYS: the room hash, the sender's list of remembered ids, the history list.
ARGV: member, client id, ts, text, allowed (1/0), history length, channel
prefix, ttl, room id, ids remembered per member, the SAID envelope kind.
It answers {outcome} or {outcome, value}: an error code (a refusal),
"known" with "SEQ TS", or "fresh" with the new number.
"""

from __future__ import annotations

import hashlib

from bridgechat.broker.redis_envelope import SAID
from bridgechat.broker.redis_link import ROOM_TTL, P
from bridgechat.broker.resp import Arg
from bridgechat.core.protocol import Code, ProtocolError
from bridgechat.core.room import IDS_REMEMBERED, Accepted

SEND = """
local field = 'id ' .. ARGV[1] .. ' ' .. ARGV[2]
local got = redis.call('HMGET', KEYS[1], 'live', 'closed', 'seq', field)
-- 1. unknown_room
if not got[1] then return {'unknown_room'} end
local live = cjson.decode(got[1])
local alias = live[ARGV[1]]
-- 2. not_in_room
if not alias then return {'not_in_room'} end
-- 3. room_closed
if got[2] == '1' then return {'room_closed'} end
-- 4. a known client id: its first number and ts; nothing is kept or sent again
if got[4] then return {'known', got[4]} end
-- 5. rate_limited (a new id only)
if ARGV[5] ~= '1' then return {'rate_limited'} end
-- 6. the next number
local seq = tonumber(got[3]) + 1
redis.call('HSET', KEYS[1], 'seq', seq, field, seq .. ' ' .. ARGV[3])
-- 7. the member's last N client ids are remembered, the oldest forgotten
local ids = redis.call('RPUSH', KEYS[2], field)
if ids == 1 then
  redis.call('EXPIRE', KEYS[2], ARGV[8])
elseif ids > tonumber(ARGV[10]) then
  redis.call('HDEL', KEYS[1], redis.call('LPOP', KEYS[2]))
end
-- 8. kept for resume (the last `history`), then handed to the others, not the sender
local said = cjson.encode({ARGV[9], seq, alias, ARGV[3], ARGV[4]})
local kept = redis.call('RPUSH', KEYS[3], said)
if kept == 1 then
  redis.call('EXPIRE', KEYS[3], ARGV[8])
elseif kept > tonumber(ARGV[6]) then
  redis.call('LPOP', KEYS[3])
end
local envelope = ARGV[11] .. said
for m, _ in pairs(live) do
  if m ~= ARGV[1] then redis.call('PUBLISH', ARGV[7] .. m, envelope) end
end
return {'fresh', seq}
"""
SEND_SHA = hashlib.sha1(SEND.encode()).hexdigest()


def send_args(room_id: str, member: str, client_id: str, ts: str, text: str, allowed: bool,
              history: int) -> tuple[Arg, ...]:
    """The script's numkeys, keys and arguments, for EVALSHA SEND_SHA (or EVAL SEND)."""
    return (3, f"{P}room:{room_id}", f"{P}idq:{room_id}:{member}", f"{P}hist:{room_id}",
            member, client_id, ts, text, 1 if allowed else 0, history, f"{P}m:", ROOM_TTL,
            room_id, IDS_REMEMBERED, SAID)


def answer(got: list[bytes], client_id: str, ts: str) -> Accepted:
    """What the script answered; a refusal raises ProtocolError with its code."""
    outcome = got[0]
    if outcome == b"fresh":
        return Accepted(int(got[1]), ts, fresh=True)
    if outcome == b"known":
        seq, first_ts = got[1].split(b" ", 1)
        return Accepted(int(seq), first_ts.decode(), fresh=False)
    code = Code(outcome.decode())
    raise ProtocolError(code, ref=client_id if code is Code.RATE_LIMITED else None)
