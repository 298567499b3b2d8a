"""Pairs on Redis: who met recently, and who asked to meet again.

| key | type | holds |
| --- | --- | --- |
| bc:pairs | zset | "a|b" pairs met recently, scored by when that stops counting |
| bc:again | set | "a|b" pairs who both asked to meet again |
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from bridgechat.broker.redis_link import P, RedisLink


def _pair(p: frozenset[str]) -> str:
    return "|".join(sorted(p))


def _unpair(raw: bytes) -> frozenset[str]:
    return frozenset(raw.decode().split("|"))


class RedisPairs:
    def __init__(self, link: RedisLink) -> None:
        self.r = link.client

    async def note_pairs(self, pairs: Sequence[frozenset[str]], ttl: float) -> None:
        if pairs:
            until = time.time() + ttl
            await self.r.zadd(f"{P}pairs", {_pair(p): until for p in pairs})

    async def recent_pairs(self) -> frozenset[frozenset[str]]:
        await self.r.zremrangebyscore(f"{P}pairs", 0, time.time())
        return frozenset(_unpair(p) for p in await self.r.zrange(f"{P}pairs", 0, -1))

    async def note_again(self, pair: frozenset[str]) -> None:
        await self.r.sadd(f"{P}again", _pair(pair))

    async def again_pairs(self) -> frozenset[frozenset[str]]:
        return frozenset(_unpair(p) for p in await self.r.smembers(f"{P}again"))

    async def drop_again(self, pair: frozenset[str]) -> None:
        await self.r.srem(f"{P}again", _pair(pair))

    async def forget_member(self, member: str) -> None:
        recent = [p for p in await self.r.zrange(f"{P}pairs", 0, -1) if member in _unpair(p)]
        if recent:
            await self.r.zrem(f"{P}pairs", *recent)
        again = [p for p in await self.r.smembers(f"{P}again") if member in _unpair(p)]
        if again:
            await self.r.srem(f"{P}again", *again)
        await self.r.delete(f"{P}mrooms:{member}")
