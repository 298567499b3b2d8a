"""One node: its parts, the dispatch table, and the one entry point for a frame.

The parts, each small and named for what it does:
- `links`: this node's connections (a pure Session and a socket each), the broker's inbox;
- `members`: hello, goodbye, and members' rights (export, erase, suspension);
- `queue`: the waiting pool and the batch rounds that open rooms;
- `chat`: what a member does in a room;
- `life`: a room's stages, departures, clock and close;
- `desk`: what moderators do to the live node.

`receive` is where every frame a member sends enters: the session applies
its rules, then the frame's handler from the dispatch table runs. A chat
message is begun without a coroutine (no task, no wait on one node).
"""

from __future__ import annotations

import random
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any

from bridgechat import matching
from bridgechat.broker import Broker
from bridgechat.core import protocol
from bridgechat.core.checks import SafetyChecks
from bridgechat.core.contact import ContactCheck, regions_for
from bridgechat.core.deck import Deck
from bridgechat.core.franking import KEY_BYTES, FrankingKeys
from bridgechat.core.session import Limits, Reply, Session
from bridgechat.core.watch import WatchList
from bridgechat.metrics.meters import NodeMetrics
from bridgechat.node.chat import Chat
from bridgechat.node.desk import ModeratorActions
from bridgechat.node.lifecycle import RoomLife
from bridgechat.node.links import Conn, Link, Links
from bridgechat.node.lobby import EventLobby
from bridgechat.node.members import Members
from bridgechat.node.parts import Catalog, Hooks, Shared, StoreThread
from bridgechat.node.queue import WaitingQueue
from bridgechat.settings import Settings
from bridgechat.store import Store

Handler = Callable[[Link, str, Any], Awaitable[None]]


class Node:
    def __init__(self, settings: Settings, store: Store, broker: Broker, deck: Deck,
                 node_id: str | None = None) -> None:
        self.metrics = metrics = NodeMetrics()
        self.shared = shared = Shared(
            id=node_id or secrets.token_hex(6), settings=settings, store=store,
            db=StoreThread(metrics.database.observe), broker=broker, deck=deck,
            catalog=Catalog(deck), keys=FrankingKeys(), hooks=Hooks(), rng=random.Random(),
            policy=matching.Policy(bridge_wait=settings.bridge_wait,
                                   max_wait=settings.max_wait, stuck_after=settings.stuck_after),
            metrics=metrics)
        # The adapters and shared state, named here for the moderation and privacy packages.
        self.id, self.settings, self.store, self.db = shared.id, settings, store, shared.db
        self.broker, self.deck, self.keys = broker, deck, shared.keys
        self.hooks, self.catalog = shared.hooks, shared.catalog
        self.limits = Limits(send_rate=settings.send_rate, send_burst=settings.send_burst,
                             first_day_burst=settings.first_day_burst,
                             bad_per_minute=settings.bad_frames_per_minute,
                             hello_within=settings.hello_timeout)
        # The safety checks every chat message passes (docs/safety.md), built once.
        contact = (ContactCheck(regions_for(deck.languages()))
                   if deck.safety.hold_contact_details
                   or any(d.minors for d in deck.dimensions) else None)
        watch = WatchList(deck.safety.watch)
        self.checks = (SafetyChecks(contact, watch if watch.size else None)
                       if contact is not None or watch.size else None)
        self.links = Links(shared.keys)
        # Every open connection here, welcomed or not (for the heartbeat's sweep).
        self.connections: set[Link] = set()
        metrics.read_connections(self.connections.__len__)
        self.life = RoomLife(shared)
        self.chat = Chat(shared, self.life, self.links)
        self.queue = WaitingQueue(shared, self.life, self.links)
        self.members = Members(shared, self.life, self.links, self.queue)
        self.desk = ModeratorActions(shared, self.queue)
        self.lobby = EventLobby(shared, self.links, self.queue)
        self.queue.before_round = self.lobby.split
        self.handlers: dict[type, Handler] = {
            protocol.Join: self.queue.join,
            protocol.LeaveQueue: self.queue.leave_queue,
            protocol.Typing: self.chat.typing,
            protocol.Resume: self.chat.resume,
            protocol.Leave: self.chat.leave,
            protocol.Block: self.chat.block,
            protocol.Feedback: self.chat.feedback,
            protocol.Report: self.chat.report,
            protocol.Extend: self.chat.extend,
            protocol.Contact: self.chat.contact,
            protocol.Lobby: self.lobby.enter,
        }

    # -- a member's connection ------------------------------------------------

    def connect(self, conn: Conn, origin: str = "") -> Link:
        """A new connection; `origin` is its address's keyed hash (never the address)."""
        link = Link(Session(self.limits, time.monotonic(), self.checks), conn, origin)
        self.connections.add(link)
        return link

    def sweep(self) -> None:
        """The heartbeat of every connection here, in one pass (the rule: Session.liveness)."""
        now, every = time.monotonic(), self.shared.settings.heartbeat
        for link in list(self.connections):
            due = link.session.liveness(now, every)
            if due == "ping":
                link.conn.ping()
            elif due == "hang up":
                link.conn.hang_up()
            elif due is not None:
                self.answer(link, due)

    def receive(self, link: Link, data: str | bytes) -> Awaitable[None] | None:
        """A frame read from the member's socket. Returns what the caller must await
        before reading the next frame (None: nothing), so frames are answered in order."""
        session = link.session
        got = session.receive(data, time.monotonic())
        if got is None:
            return None
        if isinstance(got, Reply):
            self.answer(link, got)
            return None
        if isinstance(got, protocol.Send):
            if session.held is not None or session.flagged:
                return self.carry_out(link, got)
            try:
                self.chat.send(link, session.member or "", got)
            except Exception as exc:
                self.metrics.refused(link.refuse(got, exc))
            return None
        return self.carry_out(link, got)

    def answer(self, link: Link, reply: Reply) -> None:
        """What the session answered by itself: always an error frame, perhaps a close."""
        self.metrics.error_frame(reply.frame)
        link.conn.push(reply.frame)
        if reply.close is not None:
            link.conn.close_soon(*reply.close)

    async def carry_out(self, link: Link, frame: protocol.ClientFrame) -> None:
        try:
            if link.session.must_wait(frame):
                await link.all_answered()  # chat messages begun before this frame come first
            if type(frame) is protocol.Hello:
                await self.members.hello(link, frame)
            elif type(frame) is protocol.Send:
                await self.chat.send_checked(link, link.session.member or "", frame)
            else:
                await self.handlers[type(frame)](link, link.session.member or "", frame)
        except Exception as exc:
            self.metrics.refused(link.refuse(frame, exc))

    async def disconnected(self, link: Link) -> None:
        self.connections.discard(link)
        await self.members.gone(link)

    # -- life of the node -----------------------------------------------------

    async def start(self) -> None:
        shared = self.shared
        await shared.db(shared.store.seed_prompts, shared.deck.prompts)
        shared.catalog.load(await shared.db(shared.store.active_prompts))
        shared.broker.on_reset = self.restore_shared
        await shared.broker.start(self.links)
        await self.sync_keys()

    async def stop(self) -> None:
        await self.shared.broker.close()
        self.shared.db.close()

    async def housekeeping(self) -> None:
        """Expire dropped members (on the leader); mirror the keys shared by all; tell
        lobby members the present count."""
        shared = self.shared
        if await shared.broker.pool.lead(shared.id, ttl=max(2.0, 8 * shared.settings.tick)):
            await self.life.wake()
        await self.sync_keys()
        await self.lobby.refresh()

    async def sync_keys(self) -> None:
        """Mirror the shared franking keys; the first node up makes the first key.

        If the broker lost them (a Redis restart), put ours back, so that tags
        already sent still verify."""
        ring, keys = self.shared.broker.keys, self.shared.keys
        shared_keys = await ring.franking_keys()
        if not shared_keys:
            for kid, key in keys.keys.items():
                await ring.add_franking_key(key, keys.created[kid], kid)
            if not keys.keys:
                await ring.add_franking_key(secrets.token_bytes(KEY_BYTES), time.time())
            shared_keys = await ring.franking_keys()
        keys.load(shared_keys)

    async def rotate_keys(self, now: float, retire_before: float) -> None:
        """A fresh key signs from now on; keys older than `retire_before` stop verifying."""
        ring = self.shared.broker.keys
        await ring.add_franking_key(secrets.token_bytes(KEY_BYTES), now)
        await ring.retire_franking_keys(retire_before)
        await self.sync_keys()

    async def restore_shared(self) -> None:
        """The broker lost its state: put back our keys and our members' tickets."""
        await self.sync_keys()
        for link in self.links.by_member.values():
            if link.ticket is not None:
                await self.shared.broker.pool.add_ticket(link.ticket)
        self.shared.hooks.changed("queue")
