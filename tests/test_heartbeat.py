"""A member who goes silent and stops answering pings is dropped; one who talks is not pinged.

The client here is a bare socket speaking RFC 6455 by hand, because the
`websockets` library always answers pings: the test needs a client that
does not.
"""

from __future__ import annotations

import asyncio
import base64
import os
import struct
import time

PING, PONG, CLOSE = 0x9, 0xA, 0x8


class RawSocket:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port: int) -> RawSocket:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        key = base64.b64encode(os.urandom(16)).decode()
        writer.write((f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                      f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                      "Sec-WebSocket-Version: 13\r\n\r\n").encode())
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
        assert head.startswith(b"HTTP/1.1 101"), head
        return cls(reader, writer)

    def send(self, opcode: int, payload: bytes = b"") -> None:
        """A client frame: FIN, masked (RFC 6455 5.3), payload under 126 bytes."""
        mask = os.urandom(4)
        body = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.writer.write(bytes((0x80 | opcode, 0x80 | len(payload))) + mask + body)

    async def frame(self, wait: float) -> tuple[int, bytes] | None:
        """The next server frame as (opcode, payload); None once the server has hung up."""
        try:
            head = await asyncio.wait_for(self.reader.readexactly(2), wait)
            n = head[1] & 0x7F
            if n == 126:
                n = struct.unpack("!H", await self.reader.readexactly(2))[0]
            elif n == 127:
                n = struct.unpack("!Q", await self.reader.readexactly(8))[0]
            return head[0] & 0x0F, await self.reader.readexactly(n)
        except (asyncio.IncompleteReadError, ConnectionError):
            return None


async def test_talking_member_is_not_pinged_and_silent_one_is_dropped(make_server) -> None:
    srv = make_server("--heartbeat", "1")
    ws = await RawSocket.open(srv.port)
    try:
        # Three seconds of traffic (a ping of our own every 0.25 s, which the server
        # answers) and no ping from the server: whatever arrives defers the heartbeat.
        until = time.monotonic() + 3.0
        while time.monotonic() < until:
            ws.send(PING, b"still here")
            got = await ws.frame(wait=2.0)
            assert got == (PONG, b"still here"), got
            await asyncio.sleep(0.25)
        # Now silence, and the server's ping goes unanswered: after about a second the
        # server pings, half a second later it gives up on us and hangs up.
        silent_at = time.monotonic()
        seen: list[int] = []
        while (got := await ws.frame(wait=10.0)) is not None:
            seen.append(got[0])
            if got[0] == CLOSE:
                break
        waited = time.monotonic() - silent_at
        assert PING in seen, seen
        assert 0.9 < waited < 6.0, waited
    finally:
        ws.writer.close()


async def test_member_who_answers_pings_stays_connected(make_server) -> None:
    srv = make_server("--heartbeat", "1")
    ws = await RawSocket.open(srv.port)
    try:
        pings = 0
        until = time.monotonic() + 4.0
        while time.monotonic() < until:
            got = await ws.frame(wait=3.0)
            assert got is not None and got[0] == PING, got  # nothing else, and no hang-up
            pings += 1
            ws.send(PONG, got[1])
        assert pings >= 2
    finally:
        ws.writer.close()
