"""HTTP and WebSocket handlers: decode, call the hub, encode. Nothing else."""

from __future__ import annotations

import asyncio
import logging
import time

from aiohttp import WSCloseCode, WSMsgType, web

from server import protocol
from server.hub import Hub
from server.limits import TokenBucket, WindowCounter
from server.node import Session
from server.protocol import Code, ProtocolError
from server.settings import Settings

log = logging.getLogger("bridgechat.web")

HEARTBEAT = 30.0
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
    """A member's socket with a bounded outbox drained by one writer task.

    Why a queue: fan-out from one member must never wait on another's slow
    network. A member whose outbox fills up is disconnected instead, with
    close code 1008 and a reason; if even the close cannot be written, the
    connection is aborted.
    """

    def __init__(self, ws: web.WebSocketResponse, limit: int,
                 transport: asyncio.Transport | None) -> None:
        self.ws = ws
        self.transport = transport
        self.queue: asyncio.Queue[bytes | tuple[int, str]] = asyncio.Queue(limit)
        self.evicting: asyncio.Task[None] | None = None

    def push(self, frame: bytes) -> None:
        if self.evicting is not None:
            return
        try:
            self.queue.put_nowait(frame)
        except asyncio.QueueFull:
            self.evicting = asyncio.get_running_loop().create_task(
                self._evict("too slow: messages were not read"))

    def close_soon(self, code: int, reason: str) -> None:
        """Close after the frames already queued (so an error frame arrives first)."""
        while True:
            try:
                self.queue.put_nowait((code, reason))
                return
            except asyncio.QueueFull:
                self.queue.get_nowait()

    async def _evict(self, reason: str) -> None:
        log.info("slow consumer disconnected", extra={"code": 1008})
        try:
            await asyncio.wait_for(self.ws.close(code=WSCloseCode.POLICY_VIOLATION,
                                                 message=reason.encode()), 2.0)
        except (TimeoutError, ConnectionError, RuntimeError):
            if self.transport is not None:
                self.transport.abort()

    async def run(self) -> None:
        ws, queue = self.ws, self.queue
        while True:
            item = await queue.get()
            if isinstance(item, tuple):
                await ws.close(code=item[0], message=item[1].encode())
                return
            if ws.closed:
                return
            try:
                await ws.send_frame(item, WSMsgType.TEXT)
            except (ConnectionError, RuntimeError):
                return


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
    ws = web.WebSocketResponse(heartbeat=HEARTBEAT, compress=False,
                               max_msg_size=protocol.MAX_MESSAGE_BYTES)
    await ws.prepare(request)
    conn = WsConn(ws, settings.outbox_frames, request.transport)
    sess = Session(conn, bucket=TokenBucket(settings.send_rate, settings.send_burst),
                   bad=WindowCounter(settings.bad_frames_per_minute, 60.0))
    request.app[SOCKETS].add(ws)
    writer = asyncio.create_task(conn.run())
    try:
        async for msg in ws:
            if msg.type is WSMsgType.TEXT:
                await on_text(hub, sess, msg.data)
            elif msg.type is WSMsgType.BINARY:
                on_bad(sess, ProtocolError(Code.BAD_FRAME, "Send JSON text frames, not binary."))
    finally:
        request.app[SOCKETS].discard(ws)
        try:
            await hub.disconnected(sess)
        except Exception:
            log.exception("disconnect handling failed")
        writer.cancel()
        await asyncio.gather(writer, *([conn.evicting] if conn.evicting else []),
                             return_exceptions=True)
    return ws


async def on_text(hub: Hub, sess: Session, data: str) -> None:
    try:
        frame = protocol.decode(data)
    except ProtocolError as err:
        on_bad(sess, err)
        return
    try:
        await hub.handle(sess, frame)
    except ProtocolError as err:
        if err.ref is None:
            err.ref = getattr(frame, "id", None)
        if err.code is Code.HELLO_REQUIRED:
            on_bad(sess, err)
        else:
            sess.conn.push(protocol.error_frame(err))
    except Exception:
        # The frame type only: the frame itself may hold a member's words.
        log.exception("handler failed", extra={"frame": type(frame).__name__})
        sess.conn.push(protocol.error_frame(ProtocolError(
            Code.INTERNAL_ERROR, ref=getattr(frame, "id", None))))


def on_bad(sess: Session, err: ProtocolError) -> None:
    """Answer a bad frame; past the limit, say why and close with 1008."""
    if sess.bad.hit(time.monotonic()) > sess.bad.limit:
        sess.conn.push(protocol.error_frame(ProtocolError(Code.TOO_MANY_ERRORS)))
        sess.conn.close_soon(WSCloseCode.POLICY_VIOLATION, "too many bad frames")
    else:
        sess.conn.push(protocol.error_frame(err))


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
