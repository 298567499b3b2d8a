"""A member who stops reading is disconnected with 1008; their partner is not held up."""

import asyncio
import json
import socket
import time

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed
from wsclient import DIVIDE_A, DIVIDE_B, fresh_lang

POLICY_VIOLATION = 1008


class LogTail:
    """The server's JSON log lines written since the last look."""

    def __init__(self, path) -> None:
        self.path, self.offset = path, 0

    def new(self) -> list[dict]:
        with open(self.path, "rb") as f:
            f.seek(self.offset)
            data = f.read()
        complete = data[: data.rfind(b"\n") + 1]
        self.offset += len(complete)
        lines = []
        for raw in complete.splitlines():
            try:
                line = json.loads(raw)
            except ValueError:
                continue
            if isinstance(line, dict):
                lines.append(line)
        return lines


async def test_slow_consumer_is_dropped_with_1008_and_sender_keeps_going(make_server) -> None:
    srv = make_server("--outbox-frames", "8", "--send-rate", "2000", "--send-burst", "2000")
    log = LogTail(srv.log_path)
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
    frames = []
    while not frames or frames[-1]["type"] != "matched":
        frames.append(json.loads(await asyncio.wait_for(fast.recv(), 10)))
    types = [f["type"] for f in frames]
    assert types[0] == "welcome" and set(types[1:-1]) == {"queued"}, frames
    room = frames[-1]["room"]
    frame = json.loads(await asyncio.wait_for(fast.recv(), 5))
    assert frame["type"] == "stage" and frame["room"] == room, frame
    # `slow` reads nothing now. `fast` sends large messages as quickly as acks come back,
    # until the server says (in its log) that it is closing the slow member's socket.
    text = "€" * 2000  # 6 KB a frame
    started = time.monotonic()
    slowest_ack = 0.0
    i = 0
    evicted = False
    while not evicted:
        assert time.monotonic() - started < 30, "the slow reader was never dropped"
        t0 = time.monotonic()
        await fast.send(json.dumps({"type": "send", "room": room, "id": str(i), "text": text}))
        i += 1
        frame = json.loads(await asyncio.wait_for(fast.recv(), 5))
        assert frame["type"] == "ack", frame
        slowest_ack = max(slowest_ack, time.monotonic() - t0)
        evicted = any(line.get("code") == POLICY_VIOLATION for line in log.new())
    # Nobody waited for the slow reader: every ack came back promptly.
    assert slowest_ack < 2.0, slowest_ack

    # The slow member now reads everything the server had buffered for them, and then
    # the close: 1008 with a reason in words (the server waits 2 s for it to be read).
    try:
        while True:
            await asyncio.wait_for(slow.recv(), 5)
    except ConnectionClosed as closed:
        assert closed.rcvd is not None, f"no close frame, the connection was cut: {closed}"
        assert closed.rcvd.code == POLICY_VIOLATION, closed.rcvd
        reason = closed.rcvd.reason
        assert "slow" in reason.lower() and " " in reason.strip(), closed.rcvd

    # The partner is told the slow member is away, and may go on in the room.
    frame = json.loads(await asyncio.wait_for(fast.recv(), 5))
    assert frame["type"] == "away" and frame["room"] == room and frame["from"], frame
    await fast.send(json.dumps({"type": "send", "room": room, "id": "after", "text": "hi"}))
    frame = json.loads(await asyncio.wait_for(fast.recv(), 5))
    assert frame["type"] == "ack" and frame["id"] == "after", frame
    await fast.close()
