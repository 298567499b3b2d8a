"""This node's state and plumbing, shared by the hub's handler modules.

`Node` holds what one process knows: its live sessions, the store, the
broker, the franking keys mirrored from the broker, and the hooks other
modules plug in (moderation, privacy). The handlers live in hub.py
(sessions and queue), chat.py (rooms) and powers.py (moderators and
members' rights); each is a mixin over this class.
"""

from __future__ import annotations

import asyncio
import logging
import random
import secrets
import time
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Protocol, TypeVar

from bridgechat import matching
from bridgechat.broker import Broker, Said
from bridgechat.core import protocol
from bridgechat.core.deck import Deck, Prompt
from bridgechat.core.franking import KEY_BYTES, FrankingKeys
from bridgechat.core.limits import TokenBucket, WindowCounter
from bridgechat.core.protocol import Code, ProtocolError
from bridgechat.settings import Settings
from bridgechat.store import Store

log = logging.getLogger("bridgechat.hub")
T = TypeVar("T")
# A frame starting with this is an order to this node, never sent to a member:
# cut the member off after sending them the error frame that follows it.
CUT = b"!cut "
POLICY_VIOLATION = 1008  # WebSocket close code


class Conn(Protocol):
    """What the hub needs of a member's connection."""

    def push(self, frame: bytes) -> None:
        """Queue a frame; never blocks (a slow consumer is dropped instead)."""

    def close_soon(self, code: int, reason: str) -> None: ...


@dataclass(slots=True)
class Session:
    """One connection's state; a bad frame never touches it."""

    conn: Conn
    member: str | None = None
    replaced: bool = False
    bucket: TokenBucket = field(default_factory=lambda: TokenBucket(5.0, 30.0))
    bad: WindowCounter = field(default_factory=lambda: WindowCounter(30, 60.0))
    typed_at: float = 0.0
    # A frame's handler is under way (it may be waiting): later frames queue behind it.
    busy: bool = False
    # Sends begun and not yet answered by the broker (server/chat.py), and a
    # future for whoever waits until there are none.
    inflight: int = 0
    _settled: asyncio.Future[None] | None = None
    ticket: matching.Ticket | None = None
    lang: str = "en"

    def one_settled(self) -> None:
        self.inflight -= 1
        if not self.inflight and self._settled is not None:
            if not self._settled.done():
                self._settled.set_result(None)
            self._settled = None

    async def settled(self) -> None:
        """Until every send begun on this connection has its answer."""
        while self.inflight:
            if self._settled is None:
                self._settled = asyncio.get_running_loop().create_future()
            await self._settled


@dataclass(frozen=True, slots=True)
class ReportDraft:
    """A member's report with only the evidence whose franking tags checked out."""

    room: str
    prompt: str
    reason: str
    note: str | None
    reporter: str
    evidence: tuple[protocol.Message, ...]
    # Member ids behind the verified messages: whom a suspension applies to.
    authors: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RoomRecord:
    """What a closed room leaves for aggregate figures: no member ids, no text."""

    prompt: str
    day: str
    size: int
    divides: tuple[str, ...]
    seconds: float
    messages: int
    reason: str


@dataclass(frozen=True, slots=True)
class QueueEntry:
    ticket: str
    prompts: tuple[str, ...]
    languages: tuple[str, ...]
    mode: str
    waited_s: float


ReportSink = Callable[[ReportDraft], Awaitable[str]]
RecordSink = Callable[[RoomRecord], Awaitable[str | None]]
FeedbackSink = Callable[[str, int, bool], Awaitable[None]]
InviteCheck = Callable[[str | None], Awaitable[bool]]


def today() -> str:
    return datetime.now(UTC).date().isoformat()


class Node:
    def __init__(self, settings: Settings, store: Store, broker: Broker, deck: Deck,
                 node_id: str | None = None) -> None:
        self.settings = settings
        self.store = store
        self.broker = broker
        self.deck = deck
        self.id = node_id or secrets.token_hex(6)
        self.prompts: dict[str, Prompt] = {}
        self.paused: set[str] = set()
        self.keys = FrankingKeys()
        self.sessions: dict[str, Session] = {}
        self.suspended: dict[str, float] = {}
        self.policy = matching.Policy(bridge_wait=settings.bridge_wait,
                                      max_wait=settings.max_wait,
                                      stuck_after=settings.stuck_after)
        self.rng = random.Random()
        self._db = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store")
        self.listeners: list[Callable[[str], None]] = []
        # ticket id -> the hint code last told to its member (on the leader)
        self.announced: dict[str, str] = {}
        # ticket id -> blocks touching its member, loaded once per ticket
        self.blocks_cache: dict[str, set[frozenset[str]]] = {}
        # Hooks that moderation and privacy modules plug in; None: feature off.
        self.report_sink: ReportSink | None = None
        self.record_sink: RecordSink | None = None
        self.feedback_sink: FeedbackSink | None = None
        self.invite_check: InviteCheck | None = None

    async def db(self, fn: Callable[..., T], *args: object) -> T:
        """Run a store call on the store's own thread, so the loop never waits on disk."""
        return await asyncio.get_running_loop().run_in_executor(self._db, fn, *args)

    async def start(self) -> None:
        await self.db(self.store.seed_prompts, self.deck.prompts)
        self.prompts = {p.id: self.with_translations(p)
                        for p in await self.db(self.store.active_prompts)}
        await self.broker.start(self.deliver, self.hear)
        await self.sync_keys()

    def with_translations(self, prompt: Prompt) -> Prompt:
        """The deck's translations, where the stored prompt still says what the deck says."""
        ours = self.deck.prompt(prompt.id)
        if ours is not None and ours.text == prompt.text:
            return replace(prompt, translations=ours.translations)
        return prompt

    async def stop(self) -> None:
        await self.broker.close()
        self._db.shutdown(wait=True)

    async def sync_keys(self) -> None:
        """Mirror the shared franking keys; the first node up makes the first key.

        If the broker lost them (a Redis restart), put ours back, so that tags
        already sent still verify.
        """
        keys = await self.broker.franking_keys()
        if not keys:
            for kid, key in self.keys.keys.items():
                await self.broker.add_franking_key(key, self.keys.created[kid], kid)
            if not self.keys.keys:
                await self.broker.add_franking_key(secrets.token_bytes(KEY_BYTES), time.time())
            keys = await self.broker.franking_keys()
        self.keys.load(keys)

    async def restore_shared(self) -> None:
        """The broker lost its state: put back our keys and our members' tickets."""
        await self.sync_keys()
        for sess in self.sessions.values():
            if sess.ticket is not None:
                await self.broker.add_ticket(sess.ticket)
        self.changed("queue")

    async def rotate_keys(self, now: float, retire_before: float) -> None:
        """A fresh key signs from now on; keys older than `retire_before` stop verifying."""
        await self.broker.add_franking_key(secrets.token_bytes(KEY_BYTES), now)
        await self.broker.retire_franking_keys(retire_before)
        await self.sync_keys()

    def deliver(self, member: str, frame: bytes) -> None:
        """A frame for a member connected here (called by the broker)."""
        sess = self.sessions.get(member)
        if sess is None:
            return
        if frame.startswith(CUT):
            del self.sessions[member]
            sess.replaced = True
            sess.conn.push(frame[len(CUT):])
            sess.conn.close_soon(4003, "closed by the server")
            return
        sess.conn.push(frame)

    def hear(self, members: Sequence[str], said: Said) -> None:
        """A message for members (called by the broker): signed here, once per message."""
        frame: bytes | None = None
        for m in members:
            sess = self.sessions.get(m)
            if sess is not None:
                if frame is None:
                    frame = self.signed(said)
                sess.conn.push(frame)

    def signed(self, said: Said) -> bytes:
        """The `message` frame for a numbered message, with its franking tag."""
        return protocol.encode(protocol.Message(
            room=said.room, seq=said.seq, from_=said.alias, text=said.text, ts=said.ts,
            tag=self.keys.tag(said.room, said.seq, said.alias, said.ts, said.text)))

    def refused(self, sess: Session, frame: protocol.ClientFrame, exc: BaseException) -> None:
        """A handler refused a frame (an error frame) or failed (logged; the member is told)."""
        if isinstance(exc, ProtocolError):
            if exc.ref is None:
                exc.ref = getattr(frame, "id", None)
            if exc.code is Code.HELLO_REQUIRED:
                self.bad_frame(sess, exc)
            else:
                sess.conn.push(protocol.error_frame(exc))
            return
        # The frame type only: the frame itself may hold a member's words.
        log.error("handler failed", exc_info=exc, extra={"frame": type(frame).__name__})
        sess.conn.push(protocol.error_frame(ProtocolError(
            Code.INTERNAL_ERROR, ref=getattr(frame, "id", None))))

    @staticmethod
    def bad_frame(sess: Session, err: ProtocolError) -> None:
        """Answer a bad frame; past the limit, say why and close with 1008."""
        if sess.bad.hit(time.monotonic()) > sess.bad.limit:
            sess.conn.push(protocol.error_frame(ProtocolError(Code.TOO_MANY_ERRORS)))
            sess.conn.close_soon(POLICY_VIOLATION, "too many bad frames")
        else:
            sess.conn.push(protocol.error_frame(err))

    def changed(self, what: str) -> None:
        """Tell observers (the moderators' view) that the queue or rooms changed."""
        for fn in self.listeners:
            fn(what)

    @staticmethod
    def push(sess: Session, frame: protocol._Out) -> None:
        sess.conn.push(protocol.encode(frame))

    async def publish(self, members: Sequence[str], frame: protocol._Out) -> None:
        if members:
            await self.broker.publish(members, protocol.encode(frame))

    async def cut_off(self, member: str, err: ProtocolError) -> None:
        """Withdraw the member's ticket and close their socket, on whichever node."""
        for t in await self.broker.tickets():
            if t.member == member:
                await self.broker.remove_ticket(t.id)
                self.changed("queue")
        await self.broker.publish([member], CUT + protocol.error_frame(err))
