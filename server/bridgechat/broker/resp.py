"""Lean Redis connections for the two hot paths: a chat message's script, and delivery.

redis-py serves every other call. On a message it cost a node about four
times what the message itself costs (measured in an earlier round: a timer per call
for its socket timeout, a connection taken from and given back to the pool,
retry and health-check wrappers, event hooks), and its pub/sub reader woke a
task per message. Here a command is written as it comes, on one connection
shared by all callers, its reply matched in order (Redis answers in order),
and replies are parsed by hiredis, the parser redis-py itself uses. The
subscriber hands each message to the node from inside `data_received`,
without waking a task.

What is given up is handled here instead: a request unanswered for
`TIMEOUT` seconds drops the connection (one watchdog, not a timer per call),
every request in flight then fails with `ConnectionError`, and the next
call connects again. The subscriber reconnects with backoff and subscribes
again to every channel it held. Each connection is opened as the parsed URL
says (redis_url.py), as redis-py opens its own: TLS through the target's
`ssl.SSLContext` on `loop.create_connection`, then AUTH (with the user name,
if any) and SELECT of the database. Only public API is used: asyncio's
Protocol and transports, and hiredis's Reader.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import time
from collections import deque
from collections.abc import Callable
from typing import Any, cast

import hiredis
from redis.exceptions import AuthenticationError, ResponseError
from redis.exceptions import ConnectionError as RedisConnectionError

from bridgechat.broker.redis_url import RedisTarget
from bridgechat.jobs import stop

log = logging.getLogger("bridgechat.redis")
TIMEOUT = 5.0
CONNECT_TIMEOUT = 2.0

Arg = bytes | str | int


def pack(args: tuple[Arg, ...]) -> bytes:
    """One command in RESP: an array of bulk strings. Every command is packed here, whole."""
    enc = [a.encode() if isinstance(a, str) else a if isinstance(a, bytes) else b"%d" % a
           for a in args]
    return b"*%d\r\n" % len(enc) + b"".join([b"$%d\r\n%b\r\n" % (len(b), b) for b in enc])


class _Wire(asyncio.Protocol):
    """Bytes in, replies out: each reply resolves the oldest request waiting, or is pushed."""

    def __init__(self, push: Callable[[Any], bool] | None) -> None:
        self.reader = hiredis.Reader()
        self.waiting: deque[tuple[asyncio.Future[Any], float]] = deque()
        self.push = push
        self.transport: asyncio.Transport | None = None
        self.lost: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses; both have `write`.
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        reader, waiting, push = self.reader, self.waiting, self.push
        reader.feed(data)
        while (reply := reader.gets()) is not False:
            # A subscriber's messages come unasked; `push` takes them and says so.
            if push is not None:
                try:
                    if push(reply):
                        continue
                except Exception:  # one bad delivery must not end the subscription
                    log.exception("delivering a message from redis failed")
                    continue
            if not waiting:
                continue  # a confirmation nobody waits for (resubscribing after a reconnect)
            fut = waiting.popleft()[0]
            if fut.done():
                continue
            if isinstance(reply, hiredis.ReplyError):
                fut.set_exception(ResponseError(str(reply)))
            else:
                fut.set_result(reply)

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        why = f"connection to redis lost: {exc or 'closed by the server'}"
        while self.waiting:
            fut = self.waiting.popleft()[0]
            if not fut.done():
                fut.set_exception(RedisConnectionError(why))
        if not self.lost.done():
            self.lost.set_result(None)

    def request(self, wire: bytes, replies: int = 1) -> asyncio.Future[Any]:
        """Write a command; the future has its last reply (SUBSCRIBE has one per channel)."""
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        if self.transport is None or self.transport.is_closing():
            fut.set_exception(RedisConnectionError("not connected to redis"))
            return fut
        now = time.monotonic()
        for _ in range(replies - 1):
            self.waiting.append((asyncio.get_running_loop().create_future(), now))
        self.waiting.append((fut, now))
        self.transport.write(wire)
        return fut


class RespLink:
    """One pipelined connection: `call` writes at once and awaits its reply in order.

    It connects as the `RedisTarget` says: TLS with its `ssl.SSLContext`, then
    AUTH (with the user name, if any) and SELECT of its database."""

    def __init__(self, target: RedisTarget, push: Callable[[Any], bool] | None = None) -> None:
        self.target = target
        self.push = push
        self.wire: _Wire | None = None
        self._connecting: asyncio.Task[_Wire] | None = None
        self._watchdog: asyncio.Task[None] | None = None

    async def _open(self) -> _Wire:
        loop, t = asyncio.get_running_loop(), self.target
        wire = _Wire(self.push)
        if t.path is not None:
            coro = loop.create_unix_connection(lambda: wire, t.path)
        else:
            coro = loop.create_connection(lambda: wire, t.host, t.port, ssl=t.context)
        try:
            await asyncio.wait_for(coro, CONNECT_TIMEOUT)
        except ssl.SSLCertVerificationError as exc:
            raise RedisConnectionError(
                f"TLS: the server's certificate does not verify ({exc.verify_message}): "
                "give the CA that signed it with ssl_ca_certs=FILE, and check the host "
                "name it was issued for") from exc
        except (OSError, TimeoutError) as exc:
            raise RedisConnectionError(f"cannot connect: {exc or type(exc).__name__}") from exc
        try:
            await self._hello(wire)
        except BaseException as exc:
            if wire.transport is not None:
                wire.transport.close()
            if isinstance(exc, TimeoutError):
                raise RedisConnectionError("no answer to AUTH/SELECT in time") from exc
            raise
        if self._watchdog is None or self._watchdog.done():
            self._watchdog = asyncio.create_task(self._watch())
        return wire

    async def _hello(self, wire: _Wire) -> None:
        """Sign in and choose the database, as redis-py does on its connections."""
        t = self.target
        if t.password:
            user = (t.username,) if t.username else ()
            try:
                await asyncio.wait_for(wire.request(pack(("AUTH", *user, t.password))),
                                       CONNECT_TIMEOUT)
            except ResponseError as exc:
                raise AuthenticationError(f"the password was refused (AUTH): {exc}") from exc
        if t.db:
            try:
                await asyncio.wait_for(wire.request(pack(("SELECT", t.db))), CONNECT_TIMEOUT)
            except ResponseError as exc:
                raise ResponseError(f"database {t.db} was refused (SELECT): {exc}") from exc

    async def connect(self) -> _Wire:
        """The live connection, opening one if needed (callers share one attempt)."""
        wire = self.wire
        if wire is not None and wire.transport is not None:
            return wire
        if self._connecting is None:
            self._connecting = asyncio.create_task(self._open())
        try:
            self.wire = await asyncio.shield(self._connecting)
        finally:
            if self._connecting is not None and self._connecting.done():
                self._connecting = None
        return self.wire

    def call_now(self, *args: Arg) -> asyncio.Future[Any] | None:
        """Write a command now if connected (the future has its reply); None if not."""
        wire = self.wire
        if wire is None or wire.transport is None:
            return None
        return wire.request(pack(args))

    async def call(self, *args: Arg) -> Any:
        wire = self.wire
        if wire is None or wire.transport is None:
            wire = await self.connect()
        return await wire.request(pack(args))

    async def _watch(self) -> None:
        """Drop a connection whose oldest request went unanswered too long."""
        while True:
            await asyncio.sleep(1.0)
            wire = self.wire
            if wire is not None and wire.waiting and wire.transport is not None and (
                    time.monotonic() - wire.waiting[0][1] > TIMEOUT):
                log.warning("redis did not answer in time; reconnecting")
                wire.transport.abort()

    async def close(self) -> None:
        if self._watchdog is not None:
            await stop([self._watchdog])
        if self._connecting is not None:
            self._connecting.cancel()
            with contextlib.suppress(asyncio.CancelledError, RedisConnectionError):
                await self._connecting
        wire, self.wire = self.wire, None
        if wire is not None and wire.transport is not None:
            wire.transport.close()


class Subscriber:
    """Member channels on one connection; `on_message(channel, data)` runs in data_received.

    It holds the set of channels, so that after a lost connection it can
    subscribe to all of them again; `run` keeps it connected until cancelled.
    """

    def __init__(self, target: RedisTarget, on_message: Callable[[bytes, bytes], None],
                 on_back: Callable[[], None] | None = None) -> None:
        self.on_message = on_message
        # Called once subscribed again after a loss: what was published meanwhile is gone.
        self.on_back = on_back
        self.channels: set[bytes] = set()
        self.link = RespLink(target, push=self._push)
        # Connected and subscribed to every channel it holds.
        self.listening = False

    def _push(self, reply: Any) -> bool:
        if isinstance(reply, list) and len(reply) == 3 and reply[0] == b"message":
            self.on_message(reply[1], reply[2])
            return True
        return False

    async def run(self) -> None:
        """Stay connected until cancelled; connect with `link.connect()` first to see errors."""
        delay, again = 0.1, False
        while True:
            try:
                wire = await self.link.connect()
                if self.channels:
                    await wire.request(pack(("SUBSCRIBE", *self.channels)), len(self.channels))
                self.listening, delay = True, 0.1
                if again and self.on_back is not None:
                    self.on_back()
                again = True
                await wire.lost
                self.listening = False
                log.warning("redis subscription lost; reconnecting")
                continue  # at once: messages published meanwhile are lost to us
            except (RedisConnectionError, ResponseError) as exc:
                log.warning("redis subscription lost; retrying",
                            extra={"what": type(exc).__name__, "seconds": delay})
            self.listening = False
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)

    async def subscribe(self, channel: bytes) -> None:
        self.channels.add(channel)
        with contextlib.suppress(RedisConnectionError):
            await self.link.call("SUBSCRIBE", channel)

    async def unsubscribe(self, channel: bytes) -> None:
        self.channels.discard(channel)
        with contextlib.suppress(RedisConnectionError):
            await self.link.call("UNSUBSCRIBE", channel)

    async def close(self) -> None:
        await self.link.close()
