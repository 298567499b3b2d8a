"""What is measured by asking: readiness and the waiting pool when scraped; the event
loop's lag and Redis's latency by a background task (only while metrics are on)."""

from __future__ import annotations

import asyncio
import contextlib
import time

from bridgechat.broker import Broker
from bridgechat.metrics.meters import NodeMetrics

# A scrape waits at most this long for the broker; past it, the node counts as not ready.
SCRAPE_BUDGET = 2.0
# The loop's lag is sampled this often; Redis is pinged every PING_EVERY samples (5 s).
LAG_EVERY = 0.5
PING_EVERY = 10


class Probes:
    def __init__(self, metrics: NodeMetrics, broker: Broker, redis: bool) -> None:
        self.metrics = metrics
        self.broker = broker
        self.redis = redis  # a memory broker has no latency worth a histogram

    async def ready(self) -> bool:
        """The broker's readiness (/readyz); on Redis, a PING whose round trip is timed."""
        began = time.perf_counter()
        try:
            ok = await asyncio.wait_for(self.broker.ready(), SCRAPE_BUDGET)
        except Exception:
            ok = False
        if ok and self.redis:
            self.metrics.redis.observe(time.perf_counter() - began)
        return ok

    async def refresh(self) -> None:
        """Just before a scrape: is the node ready, how many wait."""
        metrics = self.metrics
        ok = await self.ready()
        metrics.ready.set(1 if ok else 0)
        if ok:
            with contextlib.suppress(Exception):
                pool = await asyncio.wait_for(self.broker.pool.tickets(), SCRAPE_BUDGET)
                metrics.waiting.set(len(pool))

    async def watch(self, every: float = LAG_EVERY) -> None:
        """Forever: how late the loop wakes a sleeping task; now and then, a Redis PING."""
        loop = asyncio.get_running_loop()
        lag, samples = self.metrics.loop_lag, 0
        while True:
            began = loop.time()
            await asyncio.sleep(every)
            lag.observe(max(0.0, loop.time() - began - every))
            samples += 1
            if self.redis and samples % PING_EVERY == 0:
                await self.ready()
