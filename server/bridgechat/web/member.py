"""The member's WebSocket and the health routes: bytes in to the node, frames out."""

from __future__ import annotations

import asyncio
import logging
import time

from aiohttp import WSMsgType, web

from bridgechat.core import protocol
from bridgechat.web.conn import WsConn
from bridgechat.web.keys import GATE, NODE, SETTINGS, SOCKETS
from bridgechat.web.masking import guard_masks
from bridgechat.web.origin import origin_allowed

log = logging.getLogger(__name__)
# worker-src: the bot barrier's puzzle runs in a Web Worker of ours (client_web/pow.js).
CSP = ("default-src 'self'; script-src 'self'; worker-src 'self'; style-src 'self'; "
       "connect-src 'self'; "
       "img-src 'self' data:; media-src 'self' data:; base-uri 'none'; form-action 'self'; "
       "frame-ancestors 'none'")
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
TEXT, BINARY, PING, PONG = WSMsgType.TEXT, WSMsgType.BINARY, WSMsgType.PING, WSMsgType.PONG
CLOSE = WSMsgType.CLOSE
NORMAL, PROTOCOL_ERROR = 1000, 1002


def may_close_with(code: int) -> bool:
    """A close code a peer may send (RFC 6455 7.4.1-2; 1005 means it sent none)."""
    return code in (1000, 1001, 1002, 1003, 1005, 1007, 1008, 1009, 1010, 1011, 1012,
                    1013, 1014) or 3000 <= code <= 4999


async def member_socket(request: web.Request) -> web.WebSocketResponse:
    """/ws: each frame read goes to `Node.receive`; what it answers is pushed by the node."""
    settings, node = request.app[SETTINGS], request.app[NODE]
    if not origin_allowed(request, settings, missing_ok=True):
        raise web.HTTPForbidden(text="This origin may not open a Bridgechat connection.")
    if request.headers.get("Sec-WebSocket-Version", "13") != "13":
        # RFC 6455 4.4: say which version we speak, rather than upgrading anyway.
        raise web.HTTPUpgradeRequired(text="This server speaks WebSocket version 13.",
                                      headers={"Sec-WebSocket-Version": "13"})
    gate = request.app[GATE]
    refusal, key = gate.admit(gate.address_of(request))
    if refusal is not None:
        # Before the upgrade: a flood's refusals then cost the node a few hundred bytes
        # each, and other members hardly notice (docs/security.md has the figures).
        raise refusal
    # Compression off on purpose: frames are written straight to the transport
    # (web/frames.py), and deflate would cost every message CPU for little gain.
    # No aiohttp heartbeat (it re-arms a timer for every chunk read): the node's
    # sweep pings silent members (Session.liveness). No autoping either, so that a
    # pong reaches the session; pings are answered here.
    # No autoclose: a close frame's code is checked here (RFC 6455 7.4), and one that
    # may not be sent is answered with 1002. aiohttp refuses a message of max_msg_size
    # bytes or more, and the documented limit is "over 64 KiB": hence the + 1.
    ws = web.WebSocketResponse(heartbeat=None, autoping=False, autoclose=False,
                               compress=False, max_msg_size=protocol.MAX_MESSAGE_BYTES + 1)
    await ws.prepare(request)
    guard_masks(request.transport)  # web/masking.py: RFC 6455 5.1, which aiohttp skips
    conn = WsConn(ws, settings.outbox_frames, request.transport)
    link = node.connect(conn, key)
    request.app[SOCKETS].add(ws)
    try:
        conn.reader = reading = asyncio.current_task()
        while True:
            if conn.asked is not None:  # asked for while a frame was in hand
                await ws.close(code=conn.asked[0], message=conn.asked[1].encode())
                break
            conn.waiting = True
            try:
                msg = await ws.receive()
            except asyncio.CancelledError:
                if conn.asked is None or reading is None:
                    raise  # the server is stopping
                reading.uncancel()  # a close another part asked for (WsConn.drain)
                continue
            finally:
                conn.waiting = False
            kind = msg.type
            if kind is TEXT or kind is BINARY:
                pending = node.receive(link, msg.data)
                if pending is not None:
                    await pending
            elif kind is PING or kind is PONG:
                link.session.heard(time.monotonic())
                if kind is PING:
                    await ws.pong(msg.data)
            else:
                if kind is CLOSE:
                    await ws.close(code=NORMAL if may_close_with(msg.data) else PROTOCOL_ERROR)
                break
    finally:
        gate.leave(key)
        request.app[SOCKETS].discard(ws)
        try:
            await node.disconnected(link)
        except Exception:
            log.exception("disconnect handling failed")
        if conn.evicting is not None:  # dropped as too slow (counted here, off the hot path)
            node.metrics.evictions.inc()
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
    response.headers["Server"] = "Bridgechat"  # no versions to look up exploits for
