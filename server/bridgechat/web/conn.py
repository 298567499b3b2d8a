"""A member's socket with a bounded outbox: what the node pushes frames into."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web

from bridgechat.web.frames import PING, text_frame

log = logging.getLogger(__name__)
# Bytes the transport may hold before frames wait in a member's outbox instead.
HIGH_WATER = 64 * 1024


class WsConn:
    """A member's socket with a bounded outbox.

    Why an outbox: fan-out from one member must never wait on another's slow
    network. A frame goes straight to the socket while nothing is waiting
    before it and the transport holds less than HIGH_WATER bytes; otherwise it
    joins the outbox (at most `limit` frames), which a writer task drains
    with flow control and exists only while there is a backlog. A member
    whose outbox fills up is disconnected instead, with close code 1008 and a
    reason; if even the close cannot be written, the connection is aborted.
    An idle connection holds no task, no queue and no frame.
    """

    __slots__ = ("asked", "evicting", "limit", "outbox", "reader", "transport", "waiting",
                 "writer", "ws")

    def __init__(self, ws: web.WebSocketResponse, limit: int,
                 transport: asyncio.BaseTransport | None) -> None:
        # The task reading this socket, if it closes it itself (see `drain`): whether it
        # waits in `receive()` now, and the close asked of it.
        self.reader: asyncio.Task[Any] | None = None
        self.waiting = False
        self.asked: tuple[int, str] | None = None
        self.ws = ws
        # uvloop's transports are not asyncio.Transport subclasses, but have its methods.
        self.transport: asyncio.Transport | None = transport  # type: ignore[assignment]
        self.limit = limit
        self.outbox: deque[bytes | tuple[int, str]] | None = None
        self.writer: asyncio.Task[None] | None = None
        self.evicting: asyncio.Task[None] | None = None

    def push(self, frame: bytes) -> None:
        if self.evicting is not None:
            return
        t = self.transport
        if self.writer is None and t is not None:
            if t.is_closing() or self.ws.closed:
                return  # a closed connection: the frame goes nowhere
            if t.get_write_buffer_size() < HIGH_WATER:
                t.write(text_frame(frame))
                return
        outbox = self.outbox
        if outbox is None:
            outbox = self.outbox = deque()
        if len(outbox) >= self.limit:
            self.evicting = asyncio.get_running_loop().create_task(
                self.evict("too slow: messages were not read"))
            return
        outbox.append(frame)
        self.wake()

    def close_soon(self, code: int, reason: str) -> None:
        """Close after the frames already queued (so an error frame arrives first)."""
        outbox = self.outbox
        if outbox is None:
            outbox = self.outbox = deque()
        while len(outbox) >= self.limit:
            outbox.popleft()
        outbox.append((code, reason))
        self.wake()

    def ping(self) -> None:
        """The heartbeat's ping, also while a backlog drains: a member reading slowly must
        still get the ping it is asked to answer. It lands between frames: every
        frame, ours or aiohttp's, is written to the transport without yielding to the
        loop part way."""
        t = self.transport
        if t is not None and not t.is_closing():
            t.write(PING)

    def hang_up(self) -> None:
        """No answer to the heartbeat: drop the connection without a closing handshake
        (the peer is not there to answer one), as RFC 6455 7.1.1 allows."""
        log.info("member did not answer the heartbeat")
        if self.transport is not None:
            self.transport.abort()

    def wake(self) -> None:
        if self.writer is None:
            self.writer = asyncio.get_running_loop().create_task(self.drain())

    async def evict(self, reason: str) -> None:
        log.info("slow consumer disconnected", extra={"code": 1008})
        try:
            await asyncio.wait_for(self.ws.close(code=WSCloseCode.POLICY_VIOLATION,
                                                 message=reason.encode()), 2.0)
        except (TimeoutError, ConnectionError, RuntimeError):
            if self.transport is not None:
                self.transport.abort()

    async def stop(self) -> None:
        """The socket is done: stop the backlog writer and any eviction still under way."""
        tasks = [t for t in (self.writer, self.evicting) if t is not None]
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def drain(self) -> None:
        """Write the backlog in order; aiohttp's send_frame waits while the peer is slow."""
        ws, outbox = self.ws, self.outbox
        try:
            while outbox:
                item = outbox.popleft()
                if isinstance(item, tuple):
                    outbox.clear()
                    reader = self.reader
                    if reader is not None:
                        # Closed from here while the reader waits, aiohttp would end the
                        # TCP connection at once, and a member whose frames were still on
                        # the way would get a reset, losing the error before the close
                        # and the close code (a replaced tab would then reconnect and
                        # take the session back). The reader closes instead, reading on
                        # until the member's close: at once if it waits in `receive()`,
                        # else when it is done with the frame in hand.
                        self.asked = item
                        if self.waiting:
                            reader.cancel()
                        return
                    await ws.close(code=item[0], message=item[1].encode())
                    return
                if ws.closed:
                    outbox.clear()
                    return
                await ws.send_frame(item, WSMsgType.TEXT)
                del item  # hold no frame while waiting
        except (ConnectionError, RuntimeError):
            if outbox:
                outbox.clear()
        finally:
            self.writer = None
            self.outbox = None  # an idle connection keeps no deque
