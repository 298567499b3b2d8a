"""This node's member connections: each a pure `Session` and the socket it speaks on.

`Links` is what the broker hands frames to (the `Inbox`): a frame for a
member, a chat message to sign and pass on, or an order to cut a member
off. A message is signed once here, on the node that delivers it, however
many of its members it reaches.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Protocol

from bridgechat.broker import Said
from bridgechat.core import protocol
from bridgechat.core.franking import FrankingKeys
from bridgechat.core.protocol import Code, ProtocolError
from bridgechat.core.session import CATCH_UP, CUT_OFF, REPLACED, Session
from bridgechat.matching import Ticket

log = logging.getLogger(__name__)


class Conn(Protocol):
    """What the node needs of a member's socket."""

    def push(self, frame: bytes) -> None:
        """Queue a frame; never blocks (a slow consumer is dropped instead)."""

    def close_soon(self, code: int, reason: str) -> None:
        """Close once the frames already queued are written."""

    def ping(self) -> None:
        """Send a WebSocket ping (the heartbeat)."""

    def hang_up(self) -> None:
        """Drop the connection at once: the member stopped answering."""


class Link:
    """A connection: its session (the rules) and its socket (the I/O)."""

    __slots__ = ("conn", "origin", "session", "settled", "ticket")

    def __init__(self, session: Session, conn: Conn, origin: str = "") -> None:
        self.session = session
        self.conn = conn
        # The keyed hash of the member's address (privacy/addresses.py), for limits.
        self.origin = origin
        # The waiting ticket this connection put in the pool, withdrawn when it closes.
        self.ticket: Ticket | None = None
        # Set while a frame waits for the chat messages begun before it.
        self.settled: asyncio.Future[None] | None = None

    def send(self, frame: protocol.ServerFrame) -> None:
        self.conn.push(protocol.encode(frame))

    def refuse(self, frame: protocol.ClientFrame, exc: BaseException) -> Code:
        """Answer a refused frame with its `error`; an unexpected failure is logged (the
        frame's type only: the frame may hold a member's words) and says internal_error.
        Returns the code sent (for the metrics)."""
        if not isinstance(exc, ProtocolError):
            log.error("handler failed", exc_info=exc, extra={"frame": type(frame).__name__})
            exc = ProtocolError(Code.INTERNAL_ERROR)
        self.conn.push(self.session.refuse(exc, frame).frame)
        return exc.code

    def one_answered(self) -> None:
        """A chat message begun on this connection has its answer."""
        self.session.inflight -= 1
        if not self.session.inflight and self.settled is not None:
            if not self.settled.done():
                self.settled.set_result(None)
            self.settled = None

    async def all_answered(self) -> None:
        """Until every chat message begun on this connection has its answer."""
        while self.session.inflight:
            if self.settled is None:
                self.settled = asyncio.get_running_loop().create_future()
            await self.settled


class Links:
    """Member id -> the one live connection for that member on this node."""

    def __init__(self, keys: FrankingKeys) -> None:
        self.keys = keys
        self.by_member: dict[str, Link] = {}

    def __contains__(self, member: object) -> bool:
        return member in self.by_member

    def attach(self, member: str, link: Link) -> None:
        """`link` now speaks for `member`; an older connection of theirs is closed."""
        old = self.by_member.get(member)
        if old is not None and old is not link:
            old.conn.close_soon(*old.session.end(REPLACED))
        self.by_member[member] = link

    def detach(self, link: Link) -> bool:
        """The connection closed: False if it no longer spoke for its member."""
        member = link.session.member
        if member is None or self.by_member.get(member) is not link:
            return False
        del self.by_member[member]
        return True

    # -- the broker's Inbox ------------------------------------------------------

    def deliver(self, member: str, frame: bytes) -> None:
        link = self.by_member.get(member)
        if link is not None:
            link.conn.push(frame)

    def hear(self, members: Sequence[str], said: Said) -> None:
        """A chat message for these members: signed (its franking tag) once, here."""
        frame: bytes | None = None
        for m in members:
            link = self.by_member.get(m)
            if link is not None:
                if frame is None:
                    frame = protocol.encode(protocol.Message(
                        room=said.room, seq=said.seq, from_=said.alias, text=said.text,
                        ts=said.ts, tag=self.keys.tag(said.room, said.seq, said.alias,
                                                      said.ts, said.text)))
                link.conn.push(frame)

    def cut(self, member: str, frame: bytes) -> None:
        link = self.by_member.pop(member, None)
        if link is not None:
            link.conn.push(frame)
            link.conn.close_soon(*link.session.end(CUT_OFF))

    def missed(self) -> None:
        """Redis dropped what was published while this node was not subscribed; it is
        in the rooms' history. Every member here is asked to reconnect (1012) and
        `resume` from the last message they have, as after any dropped connection."""
        for link in self.by_member.values():
            link.conn.close_soon(*link.session.end(CATCH_UP))
