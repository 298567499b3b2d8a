"""The connections one node holds to Redis, shared by the Redis broker's parts.

`client` is redis-py's pool, for every call but the hot path; `call` and
`call_now` go over the lean pipelined connection of resp.py, which a chat
message's script and every publish take. Both are built from one parsed
URL (redis_url.py), so they sign in alike and use the same database.
"""

from __future__ import annotations

import asyncio
from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

from bridgechat.broker.redis_url import RedisTarget
from bridgechat.broker.resp import Arg, RespLink

# Every key and channel of ours starts with this.
P = "bc:"
POOL = 100  # redis-py connections per node
# Rooms that nobody touches for this long are dropped from Redis (a safety net).
ROOM_TTL = 86400


class RedisStartError(RuntimeError):
    """The broker could not start: the message says which server, and what went wrong."""


class RedisLink:
    def __init__(self, target: RedisTarget) -> None:
        self.target = target
        # Any: redis-py's annotations cannot say that replies are bytes here
        # (no decode_responses), so they would force a cast on every call.
        # A blocking pool: past POOL connections in use (each room change holds one
        # for its WATCH), callers wait their turn instead of failing with
        # MaxConnectionsError, as redis-py's default pool does.
        self.client: Any = aioredis.Redis.from_pool(aioredis.BlockingConnectionPool(
            max_connections=POOL, timeout=5,
            socket_timeout=5, socket_connect_timeout=2, health_check_interval=10,
            # After a Redis restart every pooled connection is stale once: retry on a new one.
            retry=Retry(ExponentialBackoff(cap=0.5, base=0.05), 3),
            retry_on_error=[RedisConnectionError, TimeoutError],
            **target.redis_py_kwargs()))
        self.lean = RespLink(target)

    async def open(self) -> None:
        """Connect both ways now; RedisStartError says why one cannot."""
        where = self.target.where
        try:
            # The lean connection first: its errors name the cause (TLS, AUTH, SELECT).
            await self.lean.connect()
            try:
                await self.lean.call("PING")
            except RedisConnectionError as exc:
                raise RedisStartError(
                    f"cannot use redis at {where}: {exc}, before answering PING (is it a "
                    "TLS-only server (rediss://), or one that wants a client certificate "
                    "(ssl_certfile)?)") from exc
            await self.client.ping()
        except (RedisError, OSError, TimeoutError) as exc:
            raise RedisStartError(f"cannot use redis at {where}: "
                                  f"{exc or type(exc).__name__}") from exc

    def call_now(self, *args: Arg) -> asyncio.Future[Any] | None:
        """A command written on the lean connection at once; None if it is not connected."""
        return self.lean.call_now(*args)

    async def call(self, *args: Arg) -> Any:
        """A command on the lean connection, tried again on a fresh one if it broke."""
        for delay in (0.05, 0.1, 0.2):
            try:
                return await self.lean.call(*args)
            except RedisConnectionError:
                await asyncio.sleep(delay)
        return await self.lean.call(*args)

    async def ping(self, seconds: float) -> bool:
        """Do both connections answer? The lean one is where chat messages go."""
        try:
            lean = await asyncio.wait_for(self.lean.call("PING"), seconds)
            await asyncio.wait_for(self.client.ping(), seconds)
        except (RedisError, OSError, TimeoutError):
            return False
        return bool(lean == b"PONG")

    async def close(self) -> None:
        await self.lean.close()
        await self.client.aclose()
