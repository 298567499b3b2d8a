"""The server writes text frames itself (bridgechat/web/frames.py): they must be what
RFC 6455 says, in all three length forms, and only on sockets without compression.

The frames are read back with the `websockets` library's own parser, which
shares no code with the server.
"""

from __future__ import annotations

import asyncio
import base64
import os
import random
from collections.abc import Generator

import pytest
from bridgechat.web.frames import MaskScan, text_frame
from websockets.frames import Frame, Opcode


def parse(data: bytes) -> Frame:
    """One server-to-client frame, parsed as a client would (unmasked)."""
    view = memoryview(data)
    pos = 0

    def read_exact(n: int) -> Generator[None, None, bytes]:
        nonlocal pos
        if pos + n > len(view):
            raise EOFError("short frame")
        chunk = bytes(view[pos:pos + n])
        pos += n
        return chunk
        yield  # a generator, as websockets expects

    gen = Frame.parse(read_exact, mask=False)
    try:
        next(gen)
    except StopIteration as done:
        assert pos == len(data), "bytes left over after the frame"
        frame: Frame = done.value
        return frame
    raise AssertionError("the parser wanted more bytes")


@pytest.mark.parametrize("size", [0, 1, 125, 126, 1000, 65535, 65536, 200_000])
def test_every_length_form_parses_back_as_one_final_text_frame(size: int) -> None:
    payload = os.urandom(size)
    frame = parse(text_frame(payload))
    assert frame.opcode is Opcode.TEXT and frame.fin
    assert not (frame.rsv1 or frame.rsv2 or frame.rsv3)  # no extension claimed
    assert frame.data == payload


def test_the_length_form_is_the_shortest_one() -> None:
    assert len(text_frame(b"x" * 125)) == 2 + 125
    assert len(text_frame(b"x" * 126)) == 4 + 126
    assert len(text_frame(b"x" * 65536)) == 10 + 65536


async def test_member_socket_refuses_compression_even_when_offered(server) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    try:
        key = base64.b64encode(os.urandom(16)).decode()
        writer.write((f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
                      "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                      f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                      "Sec-WebSocket-Extensions: permessage-deflate; "
                      "client_max_window_bits\r\n\r\n").encode())
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
    finally:
        writer.close()
    assert head.startswith(b"HTTP/1.1 101"), head
    assert b"sec-websocket-extensions" not in head.lower(), head


def client_frames(sizes: list[int]) -> bytes:
    """Masked client frames of these payload sizes, serialised by `websockets`."""
    out = b""
    for n in sizes:
        out += Frame(Opcode.TEXT, b"x" * n).serialize(mask=True, extensions=[])
        out += Frame(Opcode.PING, b"p").serialize(mask=True, extensions=[])
    return out


def test_the_mask_scan_follows_frames_in_any_pieces_and_stops_at_an_unmasked_one() -> None:
    rng = random.Random(7)
    good = client_frames([0, 1, 125, 126, 127, 65535, 65536, 70000, 3])
    bad = Frame(Opcode.TEXT, b"hello").serialize(mask=False, extensions=[])
    stream = good + bad + good
    for _ in range(200):
        scan, pos = MaskScan(), 0
        while pos < len(stream):
            step = rng.choice((1, 2, 3, 7, 14, 100, 5000, 70000))
            piece = stream[pos:pos + step]
            ok = scan.feed(piece)
            # False exactly when the piece holds the unmasked frame's second byte.
            assert ok is not (pos <= len(good) + 1 < pos + len(piece)), (pos, step)
            if not ok:
                break
            pos += len(piece)
        else:
            raise AssertionError("the unmasked frame was not seen")


def test_the_mask_scan_reads_whole_frames_one_read_each() -> None:
    """The usual read, one whole frame, takes a shorter way; it must agree."""
    sizes = [0, 1, 2, 100, 119, 120, 125, 126, 150, 65535, 65536]
    frames = [Frame(Opcode.TEXT, b"y" * n).serialize(mask=True, extensions=[]) for n in sizes]
    scan = MaskScan()
    assert all(scan.feed(f) for f in frames)
    for n in (5, 120, 126, 150):
        assert not MaskScan().feed(Frame(Opcode.TEXT, b"z" * n).serialize(
            mask=False, extensions=[])), n
    # Two frames in one read, then one split in two: still followed.
    assert scan.feed(frames[3] + frames[8]) and scan.feed(frames[8][:50])
    assert scan.feed(frames[8][50:]) and scan.feed(frames[4])
    unmasked = Frame(Opcode.TEXT, b"hi").serialize(mask=False, extensions=[])
    assert not scan.feed(frames[2] + unmasked)
