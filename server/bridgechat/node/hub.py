"""The hub: sessions and the waiting pool, on top of the room handlers.

Handlers take a decoded frame, ask the pure core (matching, room, franking)
what happens, and push encoded frames through the broker. They raise
`ProtocolError` for anything the member got wrong; the caller turns it into
an `error` frame and the connection keeps its state. Nothing here logs or
stores message text or profile answers.
"""

from __future__ import annotations

import logging
import re
import secrets
import time
from dataclasses import replace

from bridgechat import matching
from bridgechat.core import protocol
from bridgechat.core.aliases import pick_aliases
from bridgechat.core.deck import STAGES, Prompt
from bridgechat.core.protocol import Code, ProtocolError
from bridgechat.core.room import Room, RoomMeta, next_stage_at
from bridgechat.matching import reasons
from bridgechat.node.node import (
    FeedbackSink,
    InviteCheck,
    QueueEntry,
    RecordSink,
    ReportDraft,
    ReportSink,
    RoomRecord,
    Session,
    today,
)
from bridgechat.node.powers import Powers
from bridgechat.store import hash_token

log = logging.getLogger("bridgechat.hub")
LANGUAGE = re.compile(r"^[a-z]{2}$")
__all__ = ["FeedbackSink", "Hub", "InviteCheck", "QueueEntry", "RecordSink", "ReportDraft",
           "ReportSink", "RoomRecord", "Session"]


class Hub(Powers):
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
        if f.lang:
            # BCP 47 to its primary language: "pt-BR" -> "pt".
            sess.lang = f.lang.split("-")[0].lower()[:8]
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
        await self.broker.subscribe(member)
        rooms: list[protocol.Matched] = []
        for room_id in sorted(await self.broker.member_rooms(member)):
            room, back = await self.broker.change_room(
                room_id, lambda room: (room, room.rejoin(member)))
            if back:
                await self.publish(room.others(member),
                                   protocol.Back(room=room_id, from_=room.seats[member].alias))
            if room.is_open:
                rooms.append(await self.matched_frame(room, member))
        self.push(sess, protocol.Welcome(
            member=member, token=token,
            prompts=[protocol.PromptInfo(p.id, *p.text_in(sess.lang))
                     for p in self.prompts.values()],
            dimensions=[protocol.DimensionInfo(d.id, d.label_in(sess.lang), list(d.buckets),
                                               d.sensitive) for d in self.deck.dimensions],
            rooms=rooms,
        ))
        for m in rooms:
            meta = await self.broker.meta(m.room)
            if meta is not None:
                self.push(sess, self.stage_frame(m.room, meta, sess.lang))

    async def disconnected(self, sess: Session) -> None:
        member = sess.member
        if member is None or sess.replaced or self.sessions.get(member) is not sess:
            return
        del self.sessions[member]
        await self.broker.unsubscribe(member)
        if sess.ticket is not None and await self.broker.remove_ticket(sess.ticket.id):
            self.changed("queue")
        await self.drop_member(member)

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
        pool = await self.broker.tickets()
        if any(t.member == member for t in pool):
            raise ProtocolError(Code.ALREADY_QUEUED)
        self.check_join(f)
        if self.invite_check is not None and not await self.invite_check(f.invite):
            raise ProtocolError(Code.INVITE_REQUIRED)
        ticket = matching.Ticket(
            id=secrets.token_urlsafe(12), member=member,
            prompts=tuple(dict.fromkeys(f.prompts)), languages=tuple(dict.fromkeys(f.languages)),
            since=time.time(), learning=tuple(dict.fromkeys(f.learning)),
            profile=tuple(sorted(f.profile.items())), stances=tuple(sorted(f.stances.items())),
            mode=f.mode, group=f.group, lang=sess.lang,
        )
        sess.ticket = ticket
        await self.broker.add_ticket(ticket)
        constraints = await self.constraints([*pool, ticket])
        waiting = sum(1 for t in pool if matching.compatible(ticket, t, constraints))
        self.push(sess, protocol.Queued(
            ticket=ticket.id, waiting=waiting,
            eta_s=matching.eta_s(0.0, waiting, ticket.group, self.policy)))
        self.changed("queue")

    async def leave_queue(self, sess: Session, member: str, f: protocol.LeaveQueue) -> None:
        ticket, sess.ticket = sess.ticket, None
        if ticket is None or await self.broker.remove_ticket(ticket.id) is None:
            raise ProtocolError(Code.NOT_QUEUED)
        self.push(sess, protocol.LeftQueue(ticket=ticket.id))
        self.changed("queue")

    async def constraints(self, pool: list[matching.Ticket] | None = None
                          ) -> matching.Constraints:
        """Blocks of the members waiting now (cached per ticket), recent and meet-again pairs."""
        if pool is None:
            pool = await self.broker.tickets()
        cache = self.blocks_cache
        fresh = [t for t in pool if t.id not in cache]
        if fresh:
            found = await self.db(self.store.blocks_of, [t.member for t in fresh])
            for t in fresh:
                cache[t.id] = {p for p in found if t.member in p}
        live = {t.id for t in pool}
        for gone in [k for k in cache if k not in live]:
            del cache[gone]
        blocked = frozenset().union(*cache.values()) if cache else frozenset()
        return matching.Constraints(blocked=blocked, recent=await self.broker.recent_pairs(),
                                    again=await self.broker.again_pairs())

    async def match_tick(self) -> None:
        """One batch round over the whole pool, on the one node that leads."""
        if not await self.broker.lead(self.id, ttl=max(2.0, 8 * self.settings.tick)):
            return
        pool = await self.broker.tickets()
        if self.paused:
            pool = [replace(t, prompts=kept) for t in pool
                    if (kept := tuple(p for p in t.prompts if p not in self.paused))]
        if not pool:
            return
        result = matching.match_round(pool, time.time(), self.deck.dimensions,
                                      await self.constraints(pool), self.policy,
                                      seed=self.rng.randrange(2**32))
        for group in result.groups:
            await self.open_room(group)
        await self.announce(pool, result)

    async def announce(self, pool: list[matching.Ticket], result: matching.RoundResult) -> None:
        """Tell a member nobody can be matched with why, once per reason: `queued` again,
        with a hint in plain words. Nothing else is sent between `queued` and `matched`,
        so a client that expects exactly that order keeps working."""
        seen = self.announced
        for t in pool:
            stuck = result.stuck.get(t.id)
            if stuck is None or seen.get(t.id) == stuck.code:
                continue
            seen[t.id] = stuck.code
            prompt = self.prompts.get(stuck.prompt or "")
            text = prompt.text_in(t.lang)[0] if prompt else None
            hint = protocol.Hint(stuck.code, reasons.suggestion_text(stuck, text, t.lang),
                                 stuck.prompt, stuck.language)
            await self.publish([t.member], protocol.Queued(
                ticket=t.id, waiting=result.waiting.get(t.id, 0),
                eta_s=result.eta.get(t.id), hint=hint))
        live = {t.id for t in pool}
        for gone in [k for k in seen if k not in live]:
            del seen[gone]

    async def open_room(self, group: matching.Group) -> None:
        for t in group.tickets:
            if await self.broker.remove_ticket(t.id) is None:
                # Withdrawn since the round began: put the others back.
                for other in group.tickets:
                    if other is not t:
                        await self.broker.add_ticket(other)
                return
        members = [t.member for t in group.tickets]
        for m in members:
            sess = self.sessions.get(m)
            if sess is not None and sess.ticket is not None and sess.ticket.id in {
                    t.id for t in group.tickets}:
                sess.ticket = None
        now = time.time()
        room = Room.open(secrets.token_urlsafe(12), group.prompt,
                         zip(members, pick_aliases(len(members), self.rng), strict=True), now)
        prompt = self.prompts.get(group.prompt) or Prompt(group.prompt, group.prompt)
        langs = {t.member: t.lang for t in group.tickets}
        because = {m: reasons.because(group, self.deck.dimensions, prompt.text_in(lang)[0],
                                      locale=lang) for m, lang in langs.items()}
        minutes = self.settings.conversation_minutes
        meta = RoomMeta(
            group.prompt, prompt.text, because, group.divides, langs=langs,
            cards={stage: self.rng.randrange(len(self.deck.cards_for(stage)))
                   for stage in STAGES if self.deck.cards_for(stage)},
            ends_at=now + minutes * 60 if minutes > 0 else None)
        await self.broker.create_room(room, meta)
        if meta.ends_at is not None:
            await self.broker.wake_at(room.id, next_stage_at(now, minutes * 60, 0.0))
        pairs = [frozenset((a, b)) for i, a in enumerate(members) for b in members[i + 1:]]
        await self.broker.note_pairs(pairs, self.settings.repeat_pair_after)
        if group.again:
            for pair in pairs:
                await self.broker.drop_again(pair)
        for m in members:
            await self.publish([m], await self.matched_frame(room, m))
            await self.publish([m], self.stage_frame(room.id, meta, langs[m]))
        log.info("room opened", extra={"size": len(members), "divides": len(group.divides)})
        self.changed("queue")
        self.changed("rooms")

    async def matched_frame(self, room: Room, member: str) -> protocol.Matched:
        meta = await self.broker.meta(room.id)
        lang = meta.langs.get(member, "en") if meta else "en"
        prompt = self.prompts.get(room.prompt) or Prompt(
            room.prompt, meta.prompt_text if meta else room.prompt)
        return protocol.Matched(
            room=room.id, prompt=protocol.MatchedPrompt(room.prompt, prompt.text_in(lang)[0]),
            members=[protocol.Alias(s.alias) for s in room.seats.values()],
            you=room.seats[member].alias,
            because=meta.because.get(member, []) if meta else [],
            ends_at=protocol.iso(meta.ends_at) if meta and meta.ends_at else None,
        )

    async def housekeeping(self) -> None:
        """Expire dropped members (on the leader); mirror keys and prompts shared by all."""
        if await self.broker.lead(self.id, ttl=max(2.0, 8 * self.settings.tick)):
            await self.wake_rooms()
        await self.sync_keys()
