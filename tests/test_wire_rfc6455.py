"""RFC 6455 at the edges, over a raw socket (issue 16, finding 9): the version a server
speaks, close codes that may not be sent, the documented 64 KiB line, and no versions in
the `Server` header."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import struct
import urllib.request
from typing import Any

from conftest import LiveServer
from modclient import Mod


def masked(opcode: int, payload: bytes) -> bytes:
    """One final client frame, masked as RFC 6455 5.3 requires."""
    key = os.urandom(4)
    n = len(payload)
    head = bytes([0x80 | opcode])
    if n < 126:
        head += bytes([0x80 | n])
    elif n < 65536:
        head += bytes([0x80 | 126]) + struct.pack("!H", n)
    else:
        head += bytes([0x80 | 127]) + struct.pack("!Q", n)
    return head + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


async def handshake(port: int, version: str = "13", path: str = "/ws", extra: str = ""
                    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter, bytes]:
    """`extra`: more header lines, each ending in CRLF."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write((f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                  f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                  f"Sec-WebSocket-Version: {version}\r\n{extra}\r\n").encode())
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    return reader, writer, head


async def read_frame(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    b0, b1 = await asyncio.wait_for(reader.readexactly(2), 5)
    n = b1 & 0x7F
    if n == 126:
        n = struct.unpack("!H", await reader.readexactly(2))[0]
    elif n == 127:
        n = struct.unpack("!Q", await reader.readexactly(8))[0]
    return b0 & 0x0F, await asyncio.wait_for(reader.readexactly(n), 5)


async def test_another_version_gets_426_naming_13(server: Any) -> None:
    _, writer, head = await handshake(server.port, version="8")
    writer.close()
    assert head.startswith(b"HTTP/1.1 426 ")
    assert b"Sec-WebSocket-Version: 13" in head


async def closing_with(port: int, code: int) -> int:
    """The close code the server answers a close frame carrying `code` with."""
    reader, writer, head = await handshake(port)
    assert head.startswith(b"HTTP/1.1 101 ")
    writer.write(masked(0x8, struct.pack("!H", code) + b"bye"))
    await writer.drain()
    opcode, payload = await read_frame(reader)
    writer.close()
    assert opcode == 0x8
    return int(struct.unpack("!H", payload[:2])[0])


async def test_a_close_code_that_may_not_be_sent_is_answered_with_1002(server: Any) -> None:
    for bad in (5000, 999, 1004, 1006, 1015, 2000):
        assert await closing_with(server.port, bad) == 1002, bad
    for good in (1000, 1001, 3000, 4999):
        assert await closing_with(server.port, good) == 1000, good


async def test_64_kib_exactly_is_answered_and_one_byte_more_closes_with_1009(
        server: Any) -> None:
    """docs/protocol.md: over 16 KiB is `too_large`; over 64 KiB closes with 1009."""
    reader, writer, _ = await handshake(server.port)
    writer.write(masked(0x1, b" " * 65536))
    await writer.drain()
    opcode, payload = await read_frame(reader)
    assert opcode == 0x1 and json.loads(payload)["code"] == "too_large"
    writer.write(masked(0x1, b" " * 65537))
    await writer.drain()
    opcode, payload = await read_frame(reader)
    writer.close()
    assert opcode == 0x8 and struct.unpack("!H", payload[:2])[0] == 1009


def test_no_version_in_the_server_header(server: Any) -> None:
    with urllib.request.urlopen(server.url + "/", timeout=5) as r:
        assert r.headers["Server"] == "Bridgechat"
        assert "Content-Security-Policy" in r.headers


def unmasked(opcode: int, payload: bytes) -> bytes:
    """One final client frame without its mask, which RFC 6455 5.1 forbids."""
    assert len(payload) < 126
    return bytes([0x80 | opcode, len(payload)]) + payload


async def test_an_unmasked_frame_is_answered_with_1002_and_the_socket_closes(
        server: Any) -> None:
    """RFC 6455 5.1: the server must close the connection; the frame is not acted on."""
    hello = json.dumps({"type": "hello", "v": 1}).encode()
    reader, writer, head = await handshake(server.port)
    assert head.startswith(b"HTTP/1.1 101 ")
    writer.write(masked(0x1, hello))
    opcode, payload = await read_frame(reader)
    assert opcode == 0x1 and json.loads(payload)["type"] == "welcome"
    # The unmasked frame comes in two pieces, split inside its header.
    frame = unmasked(0x1, json.dumps({"type": "ping"}).encode())
    writer.write(frame[:1])
    await writer.drain()
    await asyncio.sleep(0.05)
    writer.write(frame[1:])
    await writer.drain()
    opcode, payload = await read_frame(reader)
    assert opcode == 0x8 and struct.unpack("!H", payload[:2])[0] == 1002
    assert await asyncio.wait_for(reader.read(), 5) == b""  # nothing else, then closed
    writer.close()
    # The server goes on: a new socket is welcomed.
    reader, writer, _ = await handshake(server.port)
    writer.write(masked(0x1, hello))
    opcode, payload = await read_frame(reader)
    writer.close()
    assert opcode == 0x1 and json.loads(payload)["type"] == "welcome"


async def test_the_moderators_feed_closes_on_an_unmasked_frame_too(
        moderated_srv: LiveServer) -> None:
    async with Mod(moderated_srv.url) as mod:
        await mod.login("mo")
        port = moderated_srv.port
        reader, writer, head = await handshake(
            port, path="/ws/moderate",
            extra=f"Cookie: {mod.cookie}\r\nOrigin: http://127.0.0.1:{port}\r\n")
        assert head.startswith(b"HTTP/1.1 101 "), head
        opcode, payload = await read_frame(reader)
        assert opcode == 0x1 and json.loads(payload)["type"] == "snapshot"
        writer.write(unmasked(0x1, b"{}"))
        await writer.drain()
        while opcode != 0x8:  # the feed may still be sending updates
            opcode, payload = await read_frame(reader)
        writer.close()
        assert struct.unpack("!H", payload[:2])[0] == 1002
