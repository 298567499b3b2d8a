"""Counters on Redis: figures summed over every node, for the moderators' charts.

| key | type | holds |
| --- | --- | --- |
| bc:count:{name}:m:{minute} | string | the count in that minute (minutes since the epoch) |
| bc:count:{name}:d:{day} | string | the count on that day (UTC days since the epoch) |

Each key expires at an absolute time (`count_expiry`): a count added late for
an old minute goes at once, and every node agrees when a minute is forgotten.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from bridgechat.broker import DAY, MINUTE, count_expiry
from bridgechat.broker.redis_link import P, RedisLink


def _key(name: str, period: int, index: int) -> str:
    return f"{P}count:{name}:{'m' if period == MINUTE else 'd'}:{index}"


class RedisCounters:
    def __init__(self, link: RedisLink) -> None:
        self.r = link.client

    async def add(self, counts: Mapping[str, int], at: float) -> None:
        """INCRBY and EXPIREAT per key, in one round trip (no transaction is needed:
        each INCRBY is atomic, and the expiry is the same whoever sets it)."""
        todo = [(name, n) for name, n in counts.items() if n]
        if not todo:
            return
        async with self.r.pipeline(transaction=False) as pipe:
            for name, n in todo:
                for period in (MINUTE, DAY):
                    index = int(at // period)
                    key = _key(name, period, index)
                    pipe.incrby(key, n)
                    pipe.expireat(key, int(count_expiry(period, index)))
            await pipe.execute()

    async def minutes(self, name: str, first: int, count: int) -> list[int]:
        if count <= 0:
            return []
        got = await self.r.mget([_key(name, MINUTE, m) for m in range(first, first + count)])
        return [int(v or 0) for v in got]

    async def day(self, names: Sequence[str], at: float) -> list[int]:
        if not names:
            return []
        got = await self.r.mget([_key(name, DAY, int(at // DAY)) for name in names])
        return [int(v or 0) for v in got]
