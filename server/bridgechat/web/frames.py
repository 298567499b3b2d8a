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
