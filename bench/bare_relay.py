"""The ceiling: a bare aiohttp relay that pairs two sockets by key and forwards text.

Same transport settings as Bridgechat's /ws (no compression, 30 s heartbeat,
64 KiB frames), nothing else: no parsing after the first frame, no queue,
no acknowledgement. The first frame is `{"type":"join","pair":KEY}`; the
relay answers `queued`, and `matched` to both once a second socket joins
with the same key; every later text frame goes to the peer verbatim.

    python bench/bare_relay.py --port 8101 [--loop uvloop]
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json

from aiohttp import WSMsgType, web

WAITING = web.AppKey("waiting", dict[str, web.WebSocketResponse])
PEERS = web.AppKey("peers", dict[web.WebSocketResponse, web.WebSocketResponse])
QUEUED = '{"type":"queued"}'


async def relay(request: web.Request) -> web.WebSocketResponse:
    ws = web.WebSocketResponse(heartbeat=30.0, compress=False, max_msg_size=64 * 1024)
    await ws.prepare(request)
    waiting, peers = request.app[WAITING], request.app[PEERS]
    key: str | None = None
    try:
        async for msg in ws:
            if msg.type is not WSMsgType.TEXT:
                continue
            peer = peers.get(ws)
            if peer is not None:
                await peer.send_str(msg.data)
            elif key is None:
                key = str(json.loads(msg.data)["pair"])
                other = waiting.pop(key, None)
                await ws.send_str(QUEUED)
                if other is None or other.closed:
                    waiting[key] = ws
                    continue
                peers[ws], peers[other] = other, ws
                matched = json.dumps({"type": "matched", "room": key}, separators=(",", ":"))
                await other.send_str(matched)
                await ws.send_str(matched)
    finally:
        if key is not None and waiting.get(key) is ws:
            del waiting[key]
        peer = peers.pop(ws, None)
        if peer is not None:
            peers.pop(peer, None)
    return ws


def make_app() -> web.Application:
    app = web.Application()
    app[WAITING] = {}
    app[PEERS] = {}
    app.router.add_get("/ws", relay)
    return app


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8101)
    p.add_argument("--loop", choices=("asyncio", "uvloop"), default="asyncio")
    args = p.parse_args()
    loop: asyncio.AbstractEventLoop | None = None
    if args.loop == "uvloop":
        loop = importlib.import_module("uvloop").new_event_loop()
    web.run_app(make_app(), host=args.host, port=args.port, print=None, access_log=None,
                loop=loop)


if __name__ == "__main__":
    main()
