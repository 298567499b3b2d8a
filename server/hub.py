"""The hub: this node's members and rooms, wired to the core and the adapters.

Handlers take a decoded frame, ask the pure core (matching, room, franking)
what happens, and push encoded frames through the broker. They raise
`ProtocolError` for anything the member got wrong; the caller turns it into
an `error` frame and the connection keeps its state. Nothing here logs or
stores message text or profile answers.
"""

from __future__ import annotations

import asyncio
import logging
import random
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Protocol, TypeVar

from server import matching, protocol, reasons
from server.aliases import pick_aliases
from server.broker import Broker
from server.deck import Deck, Prompt
from server.franking import KEY_BYTES, FrankingKeys
from server.limits import TokenBucket, WindowCounter
from server.protocol import CloseReason, Code, ProtocolError
from server.room import GONE, Departure, Room
from server.settings import Settings
from server.store import Store, hash_token

log = logging.getLogger("bridgechat.hub")
T = TypeVar("T")
LANGUAGE = re.compile(r"^[a-z]{2}$")
TYPING_EVERY = 1.0


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


@dataclass(slots=True)
class RoomMeta:
    """What a room needs beyond its state machine: for welcome and records."""

    prompt: Prompt
    because: dict[str, list[str]]
    divides: tuple[str, ...]
    again: dict[str, bool] = field(default_factory=dict)
    record: str | None = None


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


class Hub:
    def __init__(self, settings: Settings, store: Store, broker: Broker, deck: Deck) -> None:
        self.settings = settings
        self.store = store
        self.broker = broker
        self.deck = deck
        self.prompts: dict[str, Prompt] = {}
        self.keys = FrankingKeys()
        self.keys.rotate(secrets.token_bytes(KEY_BYTES), time.time())
        self.sessions: dict[str, Session] = {}
        self.rooms: dict[str, Room] = {}
        self.meta: dict[str, RoomMeta] = {}
        self.member_rooms: dict[str, set[str]] = {}
        self.queued: dict[str, matching.Ticket] = {}
        self.blocked: set[frozenset[str]] = set()
        self.again: set[frozenset[str]] = set()
        self.policy = matching.Policy(bridge_wait=settings.bridge_wait,
                                      max_wait=settings.max_wait)
        self.rng = random.Random()
        self._db = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store")
        self.listeners: list[Callable[[str], None]] = []
        self.suspended: dict[str, float] = {}
        self.paused: set[str] = set()
        # Hooks that moderation and privacy modules plug in; None: feature off.
        self.report_sink: ReportSink | None = None
        self.record_sink: RecordSink | None = None
        self.feedback_sink: FeedbackSink | None = None
        self.invite_check: InviteCheck | None = None

    # -- plumbing -------------------------------------------------------------

    async def db(self, fn: Callable[..., T], *args: object) -> T:
        """Run a store call on the store's own thread."""
        return await asyncio.get_running_loop().run_in_executor(self._db, fn, *args)

    async def start(self) -> None:
        await self.db(self.store.seed_prompts, self.deck.prompts)
        self.prompts = {p.id: p for p in await self.db(self.store.active_prompts)}
        await self.broker.start(self.deliver)

    async def stop(self) -> None:
        await self.broker.close()
        self._db.shutdown(wait=True)

    def deliver(self, member: str, frame: bytes) -> None:
        sess = self.sessions.get(member)
        if sess is not None:
            sess.conn.push(frame)

    def changed(self, what: str) -> None:
        """Tell observers (the moderators' view) that the queue or rooms changed."""
        for fn in self.listeners:
            fn(what)

    @staticmethod
    def push(sess: Session, frame: protocol._Out) -> None:
        sess.conn.push(protocol.encode(frame))

    async def publish(self, members: tuple[str, ...] | list[str], frame: protocol._Out) -> None:
        if members:
            await self.broker.publish(members, protocol.encode(frame))

    # -- dispatch -------------------------------------------------------------

    async def handle(self, sess: Session, frame: protocol.ClientFrame) -> None:
        if isinstance(frame, protocol.Hello):
            await self.hello(sess, frame)
            return
        if sess.member is None:
            raise ProtocolError(Code.HELLO_REQUIRED)
        member = sess.member
        match frame:
            case protocol.Join():
                await self.join(sess, member, frame)
            case protocol.LeaveQueue():
                await self.leave_queue(sess, member, frame)
            case protocol.Send():
                await self.send(sess, member, frame)
            case protocol.Typing():
                await self.typing(sess, member, frame)
            case protocol.Resume():
                await self.resume(sess, member, frame)
            case protocol.Leave():
                await self.leave(sess, member, frame)
            case protocol.Block():
                await self.block(sess, member, frame)
            case protocol.Feedback():
                await self.feedback(sess, member, frame)
            case protocol.Report():
                await self.report(sess, member, frame)

    # -- hello and disconnect -------------------------------------------------

    async def hello(self, sess: Session, f: protocol.Hello) -> None:
        if sess.member is not None:
            raise ProtocolError(Code.ALREADY_WELCOMED)
        if f.v != protocol.VERSION:
            raise ProtocolError(Code.UNSUPPORTED_VERSION)
        token: str | None = None
        if f.token is None:
            member, token = secrets.token_urlsafe(18), secrets.token_urlsafe(32)
            await self.db(self.store.create_member, member, hash_token(token), today())
        else:
            row = await self.db(self.store.member_by_token, hash_token(f.token))
            if row is None:
                raise ProtocolError(Code.UNKNOWN_TOKEN)
            if row.suspended_until is not None and row.suspended_until > time.time():
                self.suspended[row.id] = row.suspended_until
                raise ProtocolError(Code.SUSPENDED)
            member = row.id
            await self.db(self.store.touch_member, member, today())
        old = self.sessions.get(member)
        if old is not None:
            old.replaced = True
            old.conn.close_soon(4001, "replaced by a newer connection")
        sess.member = member
        self.sessions[member] = sess
        for room_id in sorted(self.member_rooms.get(member, ())):
            room = self.rooms[room_id]
            if room.rejoin(member):
                alias = room.seats[member].alias
                await self.publish(room.others(member),
                                   protocol.Back(room=room_id, from_=alias))
        self.push(sess, protocol.Welcome(
            member=member, token=token,
            prompts=[protocol.PromptInfo(p.id, p.text, p.lang) for p in self.prompts.values()],
            dimensions=[protocol.DimensionInfo(d.id, d.label, list(d.buckets), d.sensitive)
                        for d in self.deck.dimensions],
            rooms=[self.matched_frame(self.rooms[r], member)
                   for r in sorted(self.member_rooms.get(member, ()))
                   if self.rooms[r].is_open],
        ))

    async def disconnected(self, sess: Session) -> None:
        member = sess.member
        if member is None or sess.replaced or self.sessions.get(member) is not sess:
            return
        del self.sessions[member]
        ticket = self.queued.pop(member, None)
        if ticket is not None:
            await self.broker.remove_ticket(ticket.id)
            self.changed("queue")
        now = time.time()
        for room_id in sorted(self.member_rooms.get(member, ())):
            room = self.rooms[room_id]
            if room.drop(member, now, self.settings.grace_period):
                await self.publish(room.others(member),
                                   protocol.Away(room=room_id, from_=room.seats[member].alias))

    # -- queue ----------------------------------------------------------------

    def check_join(self, f: protocol.Join) -> None:
        for p in f.prompts:
            if p not in self.prompts or p in self.paused:
                raise ProtocolError(Code.UNKNOWN_PROMPT)
        for lang in (*f.languages, *f.learning):
            if not LANGUAGE.match(lang):
                raise ProtocolError(Code.BAD_LANGUAGE)
        for key, bucket in f.profile.items():
            dim = self.deck.dimension(key)
            if dim is None or bucket not in dim.buckets:
                raise ProtocolError(Code.BAD_PROFILE)
        for prompt in f.stances:
            if prompt not in f.prompts:
                raise ProtocolError(Code.BAD_FRAME, "A stance must be on one of your prompts.")

    async def join(self, sess: Session, member: str, f: protocol.Join) -> None:
        if self.suspended.get(member, 0.0) > time.time():
            raise ProtocolError(Code.SUSPENDED)
        if member in self.queued:
            raise ProtocolError(Code.ALREADY_QUEUED)
        self.check_join(f)
        if self.invite_check is not None and not await self.invite_check(f.invite):
            raise ProtocolError(Code.INVITE_REQUIRED)
        ticket = matching.Ticket(
            id=secrets.token_urlsafe(12), member=member,
            prompts=tuple(dict.fromkeys(f.prompts)), languages=tuple(dict.fromkeys(f.languages)),
            since=time.time(), learning=tuple(dict.fromkeys(f.learning)),
            profile=tuple(sorted(f.profile.items())), stances=tuple(sorted(f.stances.items())),
            mode=f.mode, group=f.group,
        )
        self.blocked |= await self.db(self.store.blocks_of, [member])
        self.queued[member] = ticket
        await self.broker.add_ticket(ticket)
        pool = await self.broker.tickets()
        constraints = await self.constraints()
        waiting = sum(1 for t in pool
                      if t.id != ticket.id and matching.compatible(ticket, t, constraints))
        self.push(sess, protocol.Queued(ticket=ticket.id, waiting=waiting,
                                        eta_s=self.settings.bridge_wait if waiting else None))
        self.changed("queue")

    async def leave_queue(self, sess: Session, member: str, f: protocol.LeaveQueue) -> None:
        ticket = self.queued.pop(member, None)
        if ticket is None:
            raise ProtocolError(Code.NOT_QUEUED)
        await self.broker.remove_ticket(ticket.id)
        self.push(sess, protocol.LeftQueue(ticket=ticket.id))
        self.changed("queue")

    async def constraints(self) -> matching.Constraints:
        return matching.Constraints(blocked=frozenset(self.blocked),
                                    recent=await self.broker.recent_pairs(),
                                    again=frozenset(self.again))

    async def match_tick(self) -> None:
        """One batch round over the whole pool."""
        pool = await self.broker.tickets()
        if self.paused:
            pool = [replace(t, prompts=kept) for t in pool
                    if (kept := tuple(p for p in t.prompts if p not in self.paused))]
        if len(pool) < 2:
            return
        result = matching.match_round(pool, time.time(), self.deck.dimensions,
                                      await self.constraints(), self.policy,
                                      seed=self.rng.randrange(2**32))
        for group in result.groups:
            await self.open_room(group)

    async def open_room(self, group: matching.Group) -> None:
        for t in group.tickets:
            await self.broker.remove_ticket(t.id)
            mine = self.queued.get(t.member)
            if mine is not None and mine.id == t.id:
                del self.queued[t.member]
        room_id = secrets.token_urlsafe(12)
        members = [t.member for t in group.tickets]
        now = time.time()
        room = Room.open(room_id, group.prompt, zip(members, pick_aliases(len(members), self.rng),
                                                    strict=True), now)
        prompt = self.prompts.get(group.prompt) or Prompt(group.prompt, group.prompt)
        because = reasons.because(group, self.deck.dimensions, prompt.text)
        self.rooms[room_id] = room
        self.meta[room_id] = RoomMeta(prompt, {m: because for m in members}, group.divides)
        for m in members:
            self.member_rooms.setdefault(m, set()).add(room_id)
        await self.broker.note_pairs(
            [frozenset((a, b)) for i, a in enumerate(members) for b in members[i + 1:]],
            self.settings.repeat_pair_after)
        for m in members:
            await self.broker.publish([m], protocol.encode(self.matched_frame(room, m)))
            # A member whose socket is gone by now is away from the start.
            if m not in self.sessions:
                room.drop(m, now, self.settings.grace_period)
        log.info("room opened", extra={"size": len(members), "divides": len(group.divides)})
        self.changed("queue")
        self.changed("rooms")

    def matched_frame(self, room: Room, member: str) -> protocol.Matched:
        meta = self.meta[room.id]
        return protocol.Matched(
            room=room.id, prompt=protocol.MatchedPrompt(meta.prompt.id, meta.prompt.text),
            members=[protocol.Alias(s.alias) for s in room.seats.values()],
            you=room.seats[member].alias, because=meta.because.get(member, []), ends_at=None,
        )

    # -- rooms ----------------------------------------------------------------

    def room(self, room_id: str) -> Room:
        room = self.rooms.get(room_id)
        if room is None:
            raise ProtocolError(Code.UNKNOWN_ROOM)
        return room

    async def send(self, sess: Session, member: str, f: protocol.Send) -> None:
        room = self.room(f.room)
        seat = room.seat(member)
        text = protocol.clean_text(f.text)
        known = seat.sent.get(f.id)
        if known is None and not sess.bucket.take(time.monotonic()):
            raise ProtocolError(Code.RATE_LIMITED, ref=f.id)
        got = room.send(member, f.id, time.time())
        ts = protocol.iso(got.ts)
        if got.fresh:
            tag = self.keys.tag(room.id, got.seq, seat.alias, ts, text)
            frame = protocol.encode(protocol.Message(
                room=room.id, seq=got.seq, from_=seat.alias, text=text, ts=ts, tag=tag))
            await self.broker.remember(room.id, got.seq, frame)
            await self.broker.publish(room.others(member), frame)
        self.push(sess, protocol.Ack(id=f.id, seq=got.seq, ts=ts))

    async def typing(self, sess: Session, member: str, f: protocol.Typing) -> None:
        room = self.room(f.room)
        seat = room.seat(member)
        now = time.monotonic()
        if now - sess.typed_at >= TYPING_EVERY:
            sess.typed_at = now
            await self.publish(room.others(member), protocol.TypingOut(room=room.id,
                                                                      from_=seat.alias))

    async def resume(self, sess: Session, member: str, f: protocol.Resume) -> None:
        room = self.room(f.room)
        seat = room.seats.get(member)
        if seat is None or seat.state is GONE:
            raise ProtocolError(Code.NOT_IN_ROOM)
        frames, complete = await self.broker.replay(room.id, f.after)
        for frame in frames:
            sess.conn.push(frame)
        if not frames and room.seq > f.after:
            complete = False
        self.push(sess, protocol.Resumed(room=room.id, seq=room.seq, complete=complete))

    async def leave(self, sess: Session, member: str, f: protocol.Leave) -> None:
        room = self.room(f.room)
        await self.depart(room, room.leave(member, "left", time.time()))

    async def block(self, sess: Session, member: str, f: protocol.Block) -> None:
        room = self.room(f.room)
        others = room.others(member)
        room.seat(member)
        for other in others:
            await self.db(self.store.add_block, member, other)
            self.blocked.add(frozenset((member, other)))
        await self.depart(room, room.leave(member, "blocked", time.time()))

    async def depart(self, room: Room, d: Departure) -> None:
        """Tell the leaver and the others; close the room below two members."""
        self.member_rooms.get(d.member, set()).discard(room.id)
        await self.publish([d.member], protocol.Closed(room=room.id, reason=d.reason))
        await self.publish(d.notify, protocol.Left(room=room.id, from_=d.alias))
        if d.closed:
            await self.publish(d.notify, protocol.Closed(room=room.id, reason=d.reason))
            await self.room_closed(room)

    async def room_closed(self, room: Room) -> None:
        for m in room.seats:
            self.member_rooms.get(m, set()).discard(room.id)
        meta = self.meta.get(room.id)
        if meta is not None and self.record_sink is not None:
            meta.record = await self.record_sink(RoomRecord(
                prompt=room.prompt, day=today(), size=len(room.seats), divides=meta.divides,
                seconds=(room.closed_at or time.time()) - room.created, messages=room.seq,
                reason=room.closed or "left"))
        log.info("room closed", extra={"reason": room.closed})
        self.changed("rooms")

    async def feedback(self, sess: Session, member: str, f: protocol.Feedback) -> None:
        room = self.room(f.room)
        if not room.has_member(member):
            raise ProtocolError(Code.NOT_IN_ROOM)
        meta = self.meta[room.id]
        first = member not in meta.again
        meta.again[member] = f.again
        if len(room.seats) == 2 and all(meta.again.get(m) for m in room.seats):
            self.again.add(frozenset(room.seats))
        if first and meta.record is not None and self.feedback_sink is not None:
            await self.feedback_sink(meta.record, f.common_ground, f.again)
        self.push(sess, protocol.Thanks())

    async def report(self, sess: Session, member: str, f: protocol.Report) -> None:
        room = self.room(f.room)
        if not room.has_member(member):
            raise ProtocolError(Code.NOT_IN_ROOM)
        if self.report_sink is None:
            raise ProtocolError(Code.INTERNAL_ERROR, "Reports are not enabled on this server.")
        evidence = self.verify_evidence(room, member, f.messages)
        by_alias = {s.alias: s.member for s in room.seats.values()}
        draft = ReportDraft(
            room=room.id, prompt=room.prompt, reason=f.reason, note=f.note, reporter=member,
            evidence=evidence, authors=tuple(sorted({by_alias[m.from_] for m in evidence})),
        )
        report_id = await self.report_sink(draft)
        self.push(sess, protocol.Reported(report=report_id, verified=len(evidence)))

    def verify_evidence(self, room: Room, reporter: str,
                        raw: list[dict[str, object]]) -> tuple[protocol.Message, ...]:
        """Messages the reporter received in this room whose tags check out, once each."""
        mine = room.seats[reporter].alias
        aliases = {s.alias for s in room.seats.values()}
        kept: dict[int, protocol.Message] = {}
        for obj in raw:
            m = protocol.parse_message(obj)
            if (m.room != room.id or m.from_ == mine or m.from_ not in aliases
                    or m.seq in kept or not 0 < m.seq <= room.seq):
                continue
            if self.keys.verify(m.room, m.seq, m.from_, m.ts, m.text, m.tag):
                kept[m.seq] = m
        return tuple(kept[k] for k in sorted(kept))

    # -- powers for moderators and members' rights ----------------------------

    async def queue_view(self) -> list[QueueEntry]:
        """The waiting pool as moderators see it: no profile values, no member ids."""
        now = time.time()
        entries = [QueueEntry(t.id, t.prompts, t.languages, t.mode, round(now - t.since, 1))
                   for t in await self.broker.tickets()]
        return sorted(entries, key=lambda e: -e.waited_s)

    def live_rooms(self) -> int:
        return sum(1 for r in self.rooms.values() if r.is_open)

    async def end_room(self, room_id: str, reason: CloseReason = "moderator") -> bool:
        room = self.rooms.get(room_id)
        if room is None or not room.is_open:
            return False
        told = room.close(reason, time.time())
        await self.publish(told, protocol.Closed(room=room.id, reason=reason))
        await self.room_closed(room)
        return True

    async def suspend(self, member: str, until: float | None) -> None:
        """Suspend (until a time, inf for good) or lift (None); a suspended member is cut off."""
        await self.db(self.store.set_suspension, member, until)
        if until is None:
            self.suspended.pop(member, None)
            return
        self.suspended[member] = until
        for room_id in sorted(self.member_rooms.get(member, ())):
            await self.end_room(room_id, "suspended")
        await self.cut_off(member, protocol.ProtocolError(Code.SUSPENDED))

    async def cut_off(self, member: str, err: ProtocolError) -> None:
        """Withdraw the member's ticket and close their socket after a clear error."""
        ticket = self.queued.pop(member, None)
        if ticket is not None:
            await self.broker.remove_ticket(ticket.id)
            self.changed("queue")
        sess = self.sessions.pop(member, None)
        if sess is not None:
            sess.replaced = True
            sess.conn.push(protocol.error_frame(err))
            sess.conn.close_soon(4003, err.code.value)

    async def warn(self, member: str, message: str) -> None:
        await self.broker.publish([member], protocol.encode(
            protocol.Notice(level="warning", message=message)))

    async def set_prompt(self, prompt: Prompt, active: bool) -> None:
        """Add, change, retire (active False) a prompt."""
        await self.db(self.store.set_prompt, prompt, active)
        if active:
            self.prompts[prompt.id] = prompt
        else:
            self.prompts.pop(prompt.id, None)

    def pause_prompt(self, prompt_id: str, paused: bool) -> None:
        """A paused prompt stays listed but takes no new members and makes no new rooms."""
        (self.paused.add if paused else self.paused.discard)(prompt_id)

    async def export(self, member: str) -> dict[str, object] | None:
        """Everything held about a member: the store's row and what is in RAM now."""
        stored = await self.db(self.store.export_member, member)
        if stored is None:
            return None
        ticket = self.queued.get(member)
        stored["waiting_ticket"] = None if ticket is None else {
            "prompts": list(ticket.prompts), "languages": list(ticket.languages),
            "learning": list(ticket.learning), "profile": dict(ticket.profile),
            "stances": dict(ticket.stances), "mode": ticket.mode, "group": ticket.group,
        }
        stored["rooms"] = [{"room": r, "alias": self.rooms[r].seats[member].alias}
                           for r in sorted(self.member_rooms.get(member, ()))]
        return stored

    async def erase(self, member: str) -> None:
        """Art. 17: leave every room, drop the ticket and socket, delete every row."""
        for room_id in sorted(self.member_rooms.get(member, ())):
            room = self.rooms[room_id]
            if room.seats[member].state is not GONE and room.is_open:
                await self.depart(room, room.leave(member, "left", time.time()))
        await self.cut_off(member, ProtocolError(Code.UNKNOWN_TOKEN, "Your data was erased."))
        self.blocked = {p for p in self.blocked if member not in p}
        self.again = {p for p in self.again if member not in p}
        self.suspended.pop(member, None)
        await self.db(self.store.erase_member, member)

    # -- housekeeping -----------------------------------------------------------

    async def housekeeping(self) -> None:
        """Expire dropped members past their grace; forget long-closed rooms."""
        now = time.time()
        for room in list(self.rooms.values()):
            if room.is_open:
                for d in room.expire(now):
                    await self.depart(room, d)
            if room.closed_at is not None:
                if now - room.closed_at >= self.settings.grace_period:
                    await self.broker.forget(room.id)
                if now - room.closed_at >= self.settings.report_window:
                    del self.rooms[room.id]
                    self.meta.pop(room.id, None)
