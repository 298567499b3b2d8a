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
    pieces the socket delivers them, and never copies a payload."""

    __slots__ = ("head", "skip")

    def __init__(self) -> None:
        self.head = b""  # a header begun at the end of the last piece
        self.skip = 0  # payload bytes of the current frame still to come

    def feed(self, data: bytes) -> bool:
        """Take the next bytes read; False once a frame without its mask bit has begun."""
        i, n = 0, len(data)
        while i < n:
            if self.skip:
                step = min(self.skip, n - i)
                self.skip -= step
                i += step
                continue
            had = len(self.head)
            head = self.head + data[i:i + 14] if had else data[i:i + 14]
            if len(head) < 2:
                self.head = head
                return True
            if not head[1] & 0x80:
                return False
            size = head[1] & 0x7F
            extra = 2 if size == 126 else 8 if size == 127 else 0
            need = 6 + extra  # two bytes, the extended length, the four of the mask
            if len(head) < need:  # then all the rest of `data` is in `head`
                self.head = head
                return True
            if extra:
                size = int.from_bytes(head[2:2 + extra], "big")
            i += need - had
            self.head = b""
            self.skip = size
        return True
