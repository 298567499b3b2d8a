"""Baseline: python-socketio's AsyncServer with its Redis manager, one node per process.

Run two of these on one Redis; a pair's members connect to different
nodes, so every message crosses Redis as in Bridgechat's two-node run.
Events: `join` {pair} puts the socket in the room named by the key and is
acknowledged; `send` {room, id, text} is emitted as `message` to the rest
of the room and acknowledged with {id} (like Bridgechat's `ack`). It runs
on aiohttp, the same HTTP and WebSocket stack as Bridgechat; clients speak
engine.io v4 over its websocket transport only, without compression.

    python bench/socketio_relay.py --port 8111 --redis redis://127.0.0.1:6390/0 [--loop uvloop]
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
from typing import Any

import socketio
from aiohttp import web


def make_app(redis_url: str) -> web.Application:
    manager = socketio.AsyncRedisManager(redis_url)
    sio = socketio.AsyncServer(async_mode="aiohttp", client_manager=manager,
                               transports=["websocket"], logger=False,
                               engineio_logger=False, http_compression=False)
    app = web.Application()
    sio.attach(app)

    @sio.event
    async def join(sid: str, data: dict[str, Any]) -> str:
        await sio.enter_room(sid, str(data["pair"]))
        return "ok"

    @sio.event
    async def send(sid: str, data: dict[str, Any]) -> dict[str, Any]:
        await sio.emit("message", data, room=str(data["room"]), skip_sid=sid)
        return {"id": data["id"]}

    return app


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8111)
    p.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    p.add_argument("--loop", choices=("asyncio", "uvloop"), default="asyncio")
    args = p.parse_args()
    loop: asyncio.AbstractEventLoop | None = None
    if args.loop == "uvloop":
        loop = importlib.import_module("uvloop").new_event_loop()
    web.run_app(make_app(args.redis), host=args.host, port=args.port, print=None,
                access_log=None, loop=loop)


if __name__ == "__main__":
    main()
