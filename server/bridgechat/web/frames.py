"""RFC 6455 framing of one server-to-client text frame, written straight to the transport.

Why not aiohttp's `send_str`: that is a coroutine, a task switch per frame,
twice per chat message (the ack and the partner's copy). The framing of an
unmasked, unfragmented text frame is three fixed forms, done here in one
function on public API only (`asyncio.Transport.write`). It is correct only
on sockets with permessage-deflate off, which `member_socket` sets
(`compress=False`; tests/test_ws_framing.py checks both).
"""

from __future__ import annotations

import struct

LEN16 = struct.Struct("!BBH").pack
LEN64 = struct.Struct("!BBQ").pack
FIN_TEXT = 0x81  # RFC 6455 5.2: FIN, no RSV bits (no extension), opcode 1 (text)
# RFC 6455 5.5.2: a ping (FIN, opcode 9) with no payload, for the heartbeat.
PING = bytes((0x89, 0))


def text_frame(payload: bytes) -> bytes:
    """The whole frame for `payload`: the three length forms of RFC 6455 5.2, unmasked
    (5.1: a server never masks)."""
    n = len(payload)
    if n < 126:
        return bytes((FIN_TEXT, n)) + payload
    if n < 65536:
        return LEN16(FIN_TEXT, 126, n) + payload
    return LEN64(FIN_TEXT, 127, n) + payload


# RFC 6455 5.5.1: a close frame (FIN, opcode 8) with code 1002, protocol error.
CLOSE_PROTOCOL_ERROR = bytes((0x88, 2)) + (1002).to_bytes(2, "big")


class MaskScan:
    """Follows a client's frames by their headers alone, skipping their payloads, to tell
    when one comes unmasked (RFC 6455 5.1: the server must then close the connection).

    aiohttp reads client frames whether masked or not, and has no public option to
    refuse them; this reads only the few header bytes of each frame, in whatever
    pieces the socket delivers them (a read is copied only when a header was split
    between two reads). The usual read, one whole frame, costs two comparisons: 0.2 µs
    under timeit, about 1.4 µs in a busy node (docs/performance.md)."""

    __slots__ = ("head", "skip")

    def __init__(self) -> None:
        self.head = b""  # a header begun at the end of the last piece
        self.skip = 0  # payload bytes of the current frame still to come

    def feed(self, data: bytes) -> bool:
        """Take the next bytes read; False once a frame without its mask bit has begun."""
        n = len(data)
        if n > 7 and not (self.skip or self.head):
            # Most reads are one whole masked frame of under 64 KiB: two comparisons.
            second = data[1]
            if 0x80 <= second < 0xFE:
                if second - 0x7A == n:  # the length, plus 2 and the mask's 4
                    return True
            elif second == 0xFE and (data[2] << 8 | data[3]) + 8 == n:
                return True
        if self.head:  # rare: a header split between two reads
            data, self.head = self.head + data, b""
        i, n = self.skip, len(data)
        while i < n:  # a frame's header begins at i
            if n - i < 2:
                break
            second = data[i + 1]
            if not second & 0x80:
                return False
            size = second & 0x7F
            need = 6 if size < 126 else 8 if size == 126 else 14  # with the 4 of the mask
            if n - i < need:
                break
            if size >= 126:
                size = int.from_bytes(data[i + 2:i + need - 4], "big")
            i += need + size
        else:
            self.skip = i - n
            return True
        self.head, self.skip = data[i:], 0
        return True
