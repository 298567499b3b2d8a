"""Refusing unmasked client frames (RFC 6455 5.1), in front of aiohttp's protocol.

aiohttp's reader takes a client's frames masked or not, and offers no public way
to refuse the unmasked ones. `guard_masks` puts a small protocol between the
socket and aiohttp's own, with asyncio's public `Transport.set_protocol`: every
byte still goes on to aiohttp, read once by `MaskScan` on the way, until a frame
comes unmasked. Then nothing more goes on; the client gets a close frame with
1002 and the socket closes, which aiohttp sees as any lost connection.
"""

from __future__ import annotations

import asyncio

from bridgechat.web.frames import CLOSE_PROTOCOL_ERROR, MaskScan

__all__ = ["MaskGuard", "guard_masks"]


class MaskGuard(asyncio.Protocol):
    """The member socket's protocol while it speaks WebSocket: `inner` is aiohttp's."""

    def __init__(self, inner: asyncio.Protocol, transport: asyncio.Transport) -> None:
        self.inner, self.transport = inner, transport
        self.scan = MaskScan()
        self.refused = False

    def data_received(self, data: bytes) -> None:
        if self.refused:
            return
        if self.scan.feed(data):
            self.inner.data_received(data)
            return
        self.refused = True
        self.transport.write(CLOSE_PROTOCOL_ERROR)
        self.transport.close()

    def eof_received(self) -> bool | None:
        return self.inner.eof_received()

    def connection_lost(self, exc: Exception | None) -> None:
        self.inner.connection_lost(exc)

    def pause_writing(self) -> None:
        self.inner.pause_writing()

    def resume_writing(self) -> None:
        self.inner.resume_writing()


def guard_masks(transport: asyncio.Transport | None) -> bool:
    """Put a `MaskGuard` in front of the socket's protocol, just after the upgrade
    (a client sends no frame before it reads 101, so the scan starts at a frame's
    first byte). False if the socket is gone, or its protocol is not one it can stand
    in front of; the wire tests of unmasked frames then fail, so a change in aiohttp
    is not silent."""
    if transport is None:
        return False
    inner = transport.get_protocol()
    if not isinstance(inner, asyncio.Protocol) or isinstance(inner, MaskGuard):
        return False
    transport.set_protocol(MaskGuard(inner, transport))
    return True
