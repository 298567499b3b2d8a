"""The member's WebSocket and the health routes: bytes in to the node, frames out."""

from __future__ import annotations

import logging
import time

from aiohttp import WSMsgType, web

from bridgechat.core import protocol
from bridgechat.web.conn import WsConn
from bridgechat.web.keys import NODE, SETTINGS, SOCKETS
from bridgechat.web.origin import origin_allowed

log = logging.getLogger(__name__)
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; "
       "img-src 'self' data:; media-src 'self' data:; base-uri 'none'; form-action 'self'; "
       "frame-ancestors 'none'")
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
TEXT, BINARY, PING, PONG = WSMsgType.TEXT, WSMsgType.BINARY, WSMsgType.PING, WSMsgType.PONG


async def member_socket(request: web.Request) -> web.WebSocketResponse:
    """/ws: each frame read goes to `Node.receive`; what it answers is pushed by the node."""
    settings, node = request.app[SETTINGS], request.app[NODE]
    if not origin_allowed(request, settings, missing_ok=True):
        raise web.HTTPForbidden(text="This origin may not open a Bridgechat connection.")
    if len(request.app[SOCKETS]) >= settings.max_connections:
        # Refused before the upgrade, so the node keeps descriptors for its store,
        # broker and health checks; the page retries after a while.
        raise web.HTTPServiceUnavailable(text="This server is full. Please try again in a "
                                              "minute.", headers={"Retry-After": "30"})
    # Compression off on purpose: frames are written straight to the transport
    # (web/frames.py), and deflate would cost every message CPU for little gain.
    # No aiohttp heartbeat (it re-arms a timer for every chunk read): the node's
    # sweep pings silent members (Session.liveness). No autoping either, so that a
    # pong reaches the session; pings are answered here.
    ws = web.WebSocketResponse(heartbeat=None, autoping=False, compress=False,
                               max_msg_size=protocol.MAX_MESSAGE_BYTES)
    await ws.prepare(request)
    conn = WsConn(ws, settings.outbox_frames, request.transport)
    link = node.connect(conn)
    request.app[SOCKETS].add(ws)
    try:
        async for msg in ws:
            kind = msg.type
            if kind is TEXT or kind is BINARY:
                pending = node.receive(link, msg.data)
                if pending is not None:
                    await pending
            elif kind is PING or kind is PONG:
                link.session.heard(time.monotonic())
                if kind is PING:
                    await ws.pong(msg.data)
    finally:
        request.app[SOCKETS].discard(ws)
        try:
            await node.disconnected(link)
        except Exception:
            log.exception("disconnect handling failed")
        await conn.stop()
    return ws


async def healthz(request: web.Request) -> web.Response:
    """The process is up and serving (liveness)."""
    return web.json_response({"ok": True})


async def readyz(request: web.Request) -> web.Response:
    """This node can reach what it shares with other nodes (readiness for a proxy)."""
    node = request.app.get(NODE)
    ok = node is not None and await node.shared.broker.ready()
    return web.json_response({"ready": ok}, status=200 if ok else 503)


async def security_headers(request: web.Request, response: web.StreamResponse) -> None:
    for k, v in SECURITY_HEADERS.items():
        response.headers.setdefault(k, v)
