"""A member who stops reading is disconnected; their partner is not held up."""

import asyncio
import json
import socket
import time

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed
from wsclient import DIVIDE_A, DIVIDE_B, fresh_lang


async def test_slow_consumer_is_dropped_with_1008_and_sender_keeps_going(make_server) -> None:
    srv = make_server("--outbox-frames", "8", "--send-rate", "2000", "--send-burst", "2000")
    lang = fresh_lang()
    # The reader keeps almost nothing buffered client-side (a small kernel buffer, a
    # one-frame queue), so the server's own buffers are what fill up.
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", srv.port))
    sock.setblocking(False)
    slow = await connect(srv.ws_url, max_queue=1, sock=sock)
    fast = await connect(srv.ws_url)
    for ws, profile in ((slow, DIVIDE_A), (fast, DIVIDE_B)):
        await ws.send(json.dumps({"type": "hello", "v": 1, "token": None}))
        await ws.send(json.dumps({"type": "join", "prompts": ["home"], "languages": [lang],
                                  "profile": profile}))
    room = None
    while room is None:
        frame = json.loads(await asyncio.wait_for(fast.recv(), 10))
        room = frame.get("room") if frame["type"] == "matched" else None
    # `slow` never reads again. `fast` sends large messages as quickly as acks come back.
    text = "€" * 2000  # 6 KB a frame
    started = time.monotonic()
    slowest_ack = 0.0
    # Bounded in time, not count: the eviction lands when the server's buffers fill,
    # plus up to 2 s for a close the slow reader never reads.
    i = 0
    while True:
        assert time.monotonic() - started < 30, "the slow reader was never dropped"
        t0 = time.monotonic()
        await fast.send(json.dumps({"type": "send", "room": room, "id": str(i), "text": text}))
        i += 1
        while True:
            frame = json.loads(await asyncio.wait_for(fast.recv(), 5))
            if frame["type"] in ("ack", "away"):
                break
        slowest_ack = max(slowest_ack, time.monotonic() - t0)
        if frame["type"] == "away":
            break
    assert frame["from"]  # the partner is told the slow member is away
    # Nobody waited for the slow reader: every ack came back promptly.
    assert slowest_ack < 2.0, slowest_ack
    # The slow member's connection was closed by the server with 1008 and a reason.
    try:
        while True:
            await asyncio.wait_for(slow.recv(), 5)
    except ConnectionClosed as closed:
        assert closed.rcvd is None or closed.rcvd.code == 1008
    await fast.close()
