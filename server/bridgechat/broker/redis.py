"""The Redis broker: what many nodes share, held in Redis's memory only.

Run Redis without persistence (`--save "" --appendonly no`): nothing here
should outlive a restart on disk. Each part is a module of its own, with
the keys it uses (all under the `bc:` prefix) listed at its top:

| part | module |
| --- | --- |
| the URL, read once for every connection | redis_url.py |
| the connections: redis-py's pool and the lean one | redis_link.py, resp.py |
| `pool`: tickets and the matcher's lock | redis_pool.py |
| `fanout`: member channels, presence, heartbeats | redis_fanout.py, redis_envelope.py |
| `rooms`: room state, meta, history | redis_rooms.py |
| a chat message's script (the rules of `Room.send`) | redis_send.py |
| what this node holds, to put back after a reset | redis_held.py |
| `pairs`: recent and meet-again pairs | redis_pairs.py |
| `keys`: franking keys | redis_keys.py |
| `counters`: figures for the moderators' charts | redis_counters.py |

Each node keeps a key of its own, `bc:epoch:<node>`; when a heartbeat finds
it gone, Redis lost its state, and the node puts back what it holds (its
members' rooms, then `on_reset`). A key per node, not one for all: each node
must learn of the reset, or the rooms only it remembered stay lost while its
members reconnect.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from redis.exceptions import RedisError

from bridgechat.broker import Broker, Counters, FanOut, Inbox, KeyRing, Pairs, Rooms, WaitingPool
from bridgechat.broker.redis_counters import RedisCounters
from bridgechat.broker.redis_fanout import RedisFanOut
from bridgechat.broker.redis_held import Held
from bridgechat.broker.redis_keys import RedisKeyRing
from bridgechat.broker.redis_link import P, RedisLink, RedisStartError
from bridgechat.broker.redis_pairs import RedisPairs
from bridgechat.broker.redis_pool import RedisPool
from bridgechat.broker.redis_rooms import RedisRooms
from bridgechat.broker.redis_url import RedisUrlError, parse_redis_url
from bridgechat.jobs import stop

__all__ = ["RedisBroker", "RedisStartError", "RedisUrlError"]

log = logging.getLogger("bridgechat.redis")
HISTORY = 500
HEARTBEAT = 2.0
# A node's epoch key outlives many beats; were it to expire (a node paused for an hour),
# putting back what the node holds again is harmless: only what is missing is restored.
EPOCH_TTL = 3600


class RedisBroker:
    """A `Broker` on Redis. The URL is read at once: RedisUrlError names what in it
    cannot be honoured; `start` raises RedisStartError if Redis cannot be used."""

    def __init__(self, url: str, node: str, history: int = HISTORY) -> None:
        self.node = node
        self.epoch = f"{P}epoch:{node}"
        self.target = parse_redis_url(url)
        self.link = RedisLink(self.target)
        self.held = Held()
        pool = RedisPool(self.link)
        self._fanout = RedisFanOut(self.link, self.held, node, pool)
        # Typed as the interfaces, so that mypy checks each part against its own.
        self.pool: WaitingPool = pool
        self.fanout: FanOut = self._fanout
        self._rooms = RedisRooms(self.link, self.held, history)
        self.rooms: Rooms = self._rooms
        self.pairs: Pairs = RedisPairs(self.link)
        self.keys: KeyRing = RedisKeyRing(self.link)
        self.counters: Counters = RedisCounters(self.link)
        self.on_reset: Callable[[], Awaitable[None]] | None = None
        self._beat: asyncio.Task[None] | None = None

    async def start(self, inbox: Inbox) -> None:
        try:
            await self.link.open()
            await self._fanout.start(inbox)
            await self.link.client.set(self.epoch, "1", ex=EPOCH_TTL)
        except BaseException as exc:
            await self.close()
            if isinstance(exc, (RedisError, OSError)):
                raise RedisStartError(f"cannot use redis at {self.target.where}: "
                                      f"{exc}") from exc
            raise
        self._beat = asyncio.create_task(self._keep_presence())

    async def close(self) -> None:
        if self._beat is not None:
            await stop([self._beat])
            self._beat = None
        await self._fanout.close()
        await self.link.close()

    async def ready(self) -> bool:
        """A PING on the lean connection (where chat messages go) and on redis-py's
        pool, and the subscriber connected."""
        return await self.link.ping(1.0) and self._fanout.listening

    async def _keep_presence(self) -> None:
        """Heartbeat, presence; after a Redis restart, put back what this node knows."""
        delay, ok = HEARTBEAT, True
        while True:
            await asyncio.sleep(delay)
            try:
                # Set again (and its expiry renewed) at each beat: gone means a reset.
                fresh = await self.link.client.set(self.epoch, "1", ex=EPOCH_TTL, get=True) is None
                await self._fanout.beat()
                if not ok:
                    log.info("redis is back")
                ok, delay = True, HEARTBEAT
                if fresh:
                    log.warning("redis lost its state; restoring what this node knows")
                    await self._rooms.restore_held()
                    if self.on_reset is not None:
                        await self.on_reset()
                # After the rooms are back, so that members who reconnect find them.
                self._fanout.catch_up()
            except (RedisError, OSError) as exc:
                ok = False
                log.warning("redis unreachable", extra={"what": type(exc).__name__})
                delay = min(delay * 2, 10.0)


def _is_a_broker(b: RedisBroker) -> Broker:
    """Never called: mypy checks here that RedisBroker is a `Broker`."""
    return b
