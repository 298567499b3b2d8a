"""HTTP and WebSocket handlers: decode, call the hub, encode. Nothing else."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import struct
from collections import deque
from typing import Any

import aiohttp
from aiohttp import WSCloseCode, WSMsgType, web
from aiohttp.helpers import DEFAULT_CHUNK_SIZE
from aiohttp.web_request import BaseRequest

from bridgechat.core import protocol
from bridgechat.core.limits import TokenBucket, WindowCounter
from bridgechat.core.protocol import Code, ProtocolError
from bridgechat.node.hub import Hub
from bridgechat.node.node import Session
from bridgechat.settings import Settings

log = logging.getLogger("bridgechat.web")

# aiohttp's parsed-frame queue and parser (private), to handle frames as they are
# parsed. Only on the aiohttp this was written against: with another, frames
# simply take the usual way (correct, a little slower).
_frames: Any = None
if aiohttp.__version__.startswith("3.14."):
    with contextlib.suppress(ImportError):
        _frames = importlib.import_module("aiohttp._websocket.reader")

# Bytes the transport may hold before frames wait in a member's outbox instead.
HIGH_WATER = 64 * 1024
_LEN16 = struct.Struct("!BBH").pack
_LEN64 = struct.Struct("!BBQ").pack
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; "
       "img-src 'self' data:; media-src 'self' data:; base-uri 'none'; form-action 'self'; "
       "frame-ancestors 'none'")
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}

HUB = web.AppKey("hub", Hub)
SETTINGS = web.AppKey("settings", Settings)
SOCKETS: web.AppKey[set[web.WebSocketResponse]] = web.AppKey("sockets")


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

    __slots__ = ("evicting", "limit", "outbox", "transport", "writer", "ws")

    def __init__(self, ws: web.WebSocketResponse, limit: int,
                 transport: asyncio.Transport | None) -> None:
        self.ws = ws
        self.transport = transport
        self.limit = limit
        self.outbox: deque[bytes | tuple[int, str]] | None = None
        self.writer: asyncio.Task[None] | None = None
        self.evicting: asyncio.Task[None] | None = None

    def push(self, frame: bytes) -> None:
        if self.evicting is not None:
            return
        if self.writer is None:
            # Written now if the transport has room: in line, not in a helper,
            # as this runs twice per chat message (bench/cold_path.py).
            t = self.transport
            if t is not None and (t.is_closing() or self.ws.closed):
                return  # a closed connection: the frame goes nowhere
            if t is not None and t.get_write_buffer_size() < HIGH_WATER:
                # RFC 6455 5.2: FIN + text opcode, unmasked (server to client), no
                # extension bits (permessage-deflate is off for this socket).
                n = len(frame)
                if n < 126:
                    t.write(bytes((0x81, n)) + frame)
                elif n < 65536:
                    t.write(_LEN16(0x81, 126, n) + frame)
                else:
                    t.write(_LEN64(0x81, 127, n) + frame)
                return
        outbox = self.outbox
        if outbox is None:
            outbox = self.outbox = deque()
        if len(outbox) >= self.limit:
            self.evicting = asyncio.get_running_loop().create_task(
                self._evict("too slow: messages were not read"))
            return
        outbox.append(frame)
        self._wake()

    def close_soon(self, code: int, reason: str) -> None:
        """Close after the frames already queued (so an error frame arrives first)."""
        outbox = self.outbox
        if outbox is None:
            outbox = self.outbox = deque()
        while len(outbox) >= self.limit:
            outbox.popleft()
        outbox.append((code, reason))
        self._wake()

    def _wake(self) -> None:
        if self.writer is None:
            self.writer = asyncio.get_running_loop().create_task(self._drain())

    async def _evict(self, reason: str) -> None:
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

    async def _drain(self) -> None:
        """Write the backlog in order; aiohttp's send_frame waits while the peer is slow."""
        ws, outbox = self.ws, self.outbox
        try:
            while outbox:
                item = outbox.popleft()
                if isinstance(item, tuple):
                    outbox.clear()
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


if _frames is not None:
    class _Inbox(_frames.WebSocketDataQueue):  # type: ignore[misc]
        """aiohttp's queue of parsed frames that first offers a text frame to `on_text_now`.

        Why: a chat message is begun where its bytes are parsed (numbered at
        once on one node; its Redis script written at once on many, and acked
        from the reply's callback) instead of waking the socket's task for it:
        a future, a loop turn and aiohttp's receive path per message. Only
        with nothing queued before it and no handler under way, so frames are
        still handled in order; anything else is queued and read by
        `member_socket` as usual.
        """

        # Slots: every idle member has one of these.
        __slots__ = ("hub", "sess")

        def feed_data(self, data: Any, size: int) -> None:
            sess = self.sess
            if (sess is not None and data[0] is WSMsgType.TEXT and not self._buffer
                    and on_text_now(self.hub, sess, data[1])):
                return
            super().feed_data(data, size)


class MemberSocket(web.WebSocketResponse):
    """A WebSocket whose text frames may be handled as soon as they are read."""

    inbox: Any = None

    def _post_start(self, request: BaseRequest, protocol: str | None, writer: Any) -> None:
        if _frames is None:
            super()._post_start(request, protocol, writer)
            return
        # aiohttp's own _post_start (web_ws.py, 3.14), with our queue in place of its own.
        self._ws_protocol = protocol
        self._writer = writer
        self._reset_heartbeat()
        self.inbox = _Inbox(request._protocol, DEFAULT_CHUNK_SIZE, loop=self._loop)
        self.inbox.sess = None  # until member_socket sets it: frames take the usual way
        self._reader = self.inbox
        self._parser = _frames.WebSocketReader(
            self.inbox, self._max_msg_size, compress=bool(self._compress),
            decode_text=self._decode_text)
        cb = None if self._heartbeat is None else self._on_data_received
        request.protocol.set_parser(self._parser, data_received_cb=cb)
        request.protocol.keep_alive(False)

    def _on_data_received(self) -> None:
        """Whatever arrives proves the member is there: the next ping moves back.

        aiohttp does this by scheduling a callback for the next loop turn that
        re-times the heartbeat, a handle and a turn per chat message. Moving
        the deadline is enough while the ping timer is armed and no pong is
        awaited: aiohttp's timer, when it fires, sees the later deadline and
        waits again. After a ping (no timer, a pong awaited) it takes
        aiohttp's own way, which also ends the wait for the pong."""
        loop, every = self._loop, self._heartbeat
        if (_frames is None or self._heartbeat_cb is None  # _frames: the aiohttp this knows
                or self._pong_response_cb is not None or loop is None or every is None):
            super()._on_data_received()
        else:
            self._heartbeat_when = loop.time() + every


def origin_allowed(request: web.Request, settings: Settings, *, missing_ok: bool) -> bool:
    origin = request.headers.get("Origin")
    if origin is None:
        return missing_ok
    allowed = {f"{request.scheme}://{request.host}".lower(), *settings.allowed_origins}
    if settings.public_url:
        allowed.add(settings.public_url.rstrip("/").lower())
    return origin.rstrip("/").lower() in allowed


async def member_socket(request: web.Request) -> web.WebSocketResponse:
    settings, hub = request.app[SETTINGS], request.app[HUB]
    if not origin_allowed(request, settings, missing_ok=True):
        raise web.HTTPForbidden(text="This origin may not open a Bridgechat connection.")
    ws = MemberSocket(heartbeat=settings.heartbeat, compress=False,
                      max_msg_size=protocol.MAX_MESSAGE_BYTES)
    await ws.prepare(request)
    conn = WsConn(ws, settings.outbox_frames, request.transport)
    sess = Session(conn, bucket=TokenBucket(settings.send_rate, settings.send_burst),
                   bad=WindowCounter(settings.bad_frames_per_minute, 60.0))
    request.app[SOCKETS].add(ws)
    if ws.inbox is not None:
        ws.inbox.hub, ws.inbox.sess = hub, sess
    try:
        async for msg in ws:
            if msg.type is WSMsgType.TEXT:
                sess.busy = True
                try:
                    await sess.settled()  # sends begun before this frame come first
                    await on_text(hub, sess, msg.data)
                finally:
                    sess.busy = False
            elif msg.type is WSMsgType.BINARY:
                hub.bad_frame(sess, ProtocolError(
                    Code.BAD_FRAME, "Send JSON text frames, not binary."))
    finally:
        request.app[SOCKETS].discard(ws)
        try:
            await hub.disconnected(sess)
        except Exception:
            log.exception("disconnect handling failed")
        await conn.stop()
    return ws


async def on_text(hub: Hub, sess: Session, data: str) -> None:
    try:
        frame = protocol.decode(data)
    except ProtocolError as err:
        hub.bad_frame(sess, err)
        return
    try:
        await hub.handle(sess, frame)
    except Exception as exc:
        hub.refused(sess, frame, exc)


def on_text_now(hub: Hub, sess: Session, data: str) -> bool:
    """Begin a `send` as soon as it is read; False: queue the frame for `on_text`."""
    if sess.busy or sess.member is None:
        return False
    try:
        frame = protocol.decode(data)
    except ProtocolError:
        return False  # answered in order by on_text
    if type(frame) is not protocol.Send:
        return False
    try:
        hub.send_now(sess, sess.member, frame)
    except Exception as exc:
        hub.refused(sess, frame, exc)
    return True


async def healthz(request: web.Request) -> web.Response:
    """The process is up and serving (liveness)."""
    return web.json_response({"ok": True})


async def readyz(request: web.Request) -> web.Response:
    """This node can reach what it shares with other nodes (readiness for a proxy)."""
    hub = request.app.get(HUB)
    ok = hub is not None and await hub.broker.ready()
    return web.json_response({"ready": ok}, status=200 if ok else 503)


async def security_headers(request: web.Request, response: web.StreamResponse) -> None:
    for k, v in SECURITY_HEADERS.items():
        response.headers.setdefault(k, v)
