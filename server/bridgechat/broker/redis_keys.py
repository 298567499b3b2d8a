"""Franking keys on Redis, shared so that any node can verify any node's tags;
the bot barrier's spent proofs, so that each is good once on any node.

| key | type | holds |
| --- | --- | --- |
| bc:fkeys | hash | key id -> "CREATED HEXKEY" |
| bc:fkid | string | the last key id given out |
| bc:spent:TOKEN | string | a spent bot-barrier proof, until its expiry (and some) |
"""

from __future__ import annotations

from bridgechat.broker.redis_link import P, RedisLink


class RedisKeyRing:
    def __init__(self, link: RedisLink) -> None:
        self.r = link.client

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

    async def spend(self, token: str, until: float) -> bool:
        """SET NX with an absolute expiry: one node wins, however many try at once."""
        done = await self.r.set(f"{P}spent:{token}", b"1", nx=True,
                                pxat=max(1, int(until * 1000)))
        return bool(done)
