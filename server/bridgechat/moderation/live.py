"""/ws/moderate: the live feed behind the moderators' dashboard.

The node calls `Watch.poke` whenever the queue or the rooms change. A burst
of changes (a round that opens ten rooms) becomes one frame: the first
change after a quiet spell goes out at once, later ones at most every
COALESCE seconds, so a join shows well within a second and a busy pool
does not flood the dashboards. A socket gets `snapshot` before anything
else; a change that happens while its snapshot is being built is sent
again after it.

Charts (charts.py): every read of the pool is also a sample of it for the
current minute, and `minutes` samples it at each minute's start, so the last
hour has a sample per minute even with no dashboard open. A `charts` frame
goes out when a minute begins or a room is opened; `charts` and `shift`
frames that would say nothing new are not sent.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import WSMsgType, web

from bridgechat.moderation import charts, overview
from bridgechat.moderation.auth import AUTH, Auth, problem
from bridgechat.node import Node
from bridgechat.web.conn import WsConn
from bridgechat.web.keys import SETTINGS, SOCKETS
from bridgechat.web.masking import guard_masks
from bridgechat.web.origin import origin_allowed

log = logging.getLogger("bridgechat.moderation")

COALESCE = 0.15
RECHECK = 15.0
REFRESH = 5.0
OUTBOX = 64
# Rooms read to list the longest-running ones; the count is exact regardless.
MAX_ROOMS_READ = 500
# Close code for a socket whose session ended (signed out, expired, account removed).
SESSION_ENDED = 4401
# What the node's listeners are told besides "queue" and "rooms" (node/queue.py).
MATCHED = "matched"
ShiftView = Callable[[], Awaitable[dict[str, Any]]]


def encode(frame: dict[str, Any]) -> bytes:
    return json.dumps(frame, ensure_ascii=False, separators=(",", ":")).encode()


@dataclass(eq=False, slots=True)
class Viewer:
    """One dashboard socket."""

    conn: WsConn
    token_hash: str
    ready: bool = False
    missed: bool = False


class Watch:
    """Every dashboard socket on this node, and what to tell them."""

    def __init__(self, auth: Auth) -> None:
        self.auth = auth
        self.viewers: set[Viewer] = set()
        self.dirty: set[str] = set()
        self.wake = asyncio.Event()
        self.open_reports = 0
        self.samples = charts.Samples()
        # The `shift` object (set by shifts.py), and the last charts and shift sent.
        self.shift_view: ShiftView | None = None
        self.sent: dict[str, dict[str, Any]] = {}

    @property
    def node(self) -> Node:
        return self.auth.node

    def poke(self, what: str) -> None:
        """The node's listener: something about `what` ("queue", "rooms", "matched";
        "charts" and "shift" from this package) changed."""
        self.dirty.add("charts" if what == MATCHED else what)
        self.wake.set()

    def broadcast(self, frame: dict[str, Any]) -> None:
        data = encode(frame)
        for v in self.viewers:
            if v.ready:
                v.conn.push(data)
            else:
                v.missed = True

    def report_opened(self, report_id: str, reason: str, verified: int) -> None:
        self.open_reports += 1
        self.broadcast({"type": "report_opened", "report": report_id, "reason": reason,
                        "verified": verified, "reports": self.open_reports})

    def report_resolved(self, report_id: str) -> None:
        self.open_reports = max(0, self.open_reports - 1)
        self.broadcast({"type": "report_resolved", "report": report_id,
                        "reports": self.open_reports})

    async def queue_frame(self, kind: str) -> dict[str, Any]:
        node = self.node
        tickets = await node.broker.pool.tickets()
        now = time.time()
        self.samples.note(now, tickets)
        frame = overview.queue_frame(kind, tickets, now, node.catalog.paused,
                                     await node.queue.constraints(),
                                     max_wait=node.shared.policy.max_wait)
        frame["balance"] = charts.balance(tickets, node.deck.dimensions)
        return frame

    async def charts_frame(self) -> dict[str, Any]:
        counters, now = self.node.broker.counters, time.time()
        matches = await counters.minutes(charts.ROOMS, charts.first_minute(now), charts.MINUTES)
        rooms, crossing2 = await counters.day([charts.ROOMS, charts.CROSSING2], now)
        return {"type": "charts", **charts.charts(self.samples, now, matches, rooms, crossing2)}

    async def shift_frame(self) -> dict[str, Any] | None:
        return None if self.shift_view is None else {"type": "shift", **await self.shift_view()}

    def send_news(self, frame: dict[str, Any] | None) -> None:
        """Broadcast a charts or shift frame unless it is the one sent last."""
        if frame is not None and self.sent.get(frame["type"]) != frame:
            self.sent[frame["type"]] = frame
            self.broadcast(frame)

    async def rooms_frame(self) -> dict[str, Any]:
        broker = self.node.broker
        ids = await broker.rooms.open_rooms()
        read = [await broker.rooms.room(i) for i in ids[:MAX_ROOMS_READ]]
        rooms = [r for r in read if r is not None]
        frame = overview.rooms_frame(rooms, time.time())
        frame["rooms"] = max(frame["rooms"], len(ids))
        return frame

    async def welcome(self, viewer: Viewer) -> None:
        """Send `snapshot`, then let the viewer have live frames."""
        frame = await self.queue_frame("snapshot")
        rooms = await self.rooms_frame()
        shift = await self.shift_frame()
        frame.update(rooms=rooms["rooms"], live=rooms["live"], reports=self.open_reports,
                     charts=_without_type(await self.charts_frame()),
                     shift=None if shift is None else _without_type(shift))
        viewer.conn.push(encode(frame))
        viewer.ready = True
        if viewer.missed:
            # What went out meanwhile may be newer than this snapshot: send it again.
            self.sent.clear()
            for what in ("queue", "rooms", "charts", "shift"):
                self.poke(what)

    async def run(self) -> None:
        """Forever: wait for a change, send one frame per kind, then pause briefly."""
        while True:
            await self.wake.wait()
            self.wake.clear()
            what, self.dirty = self.dirty, set()
            if self.viewers:
                try:
                    if "queue" in what:
                        self.broadcast(await self.queue_frame("queue_changed"))
                    if "rooms" in what:
                        self.broadcast(await self.rooms_frame())
                    if "charts" in what:
                        self.send_news(await self.charts_frame())
                    if "shift" in what:
                        self.send_news(await self.shift_frame())
                except Exception:
                    log.exception("moderators' feed failed")
            await asyncio.sleep(COALESCE)

    async def refresh(self) -> None:
        """Every REFRESH s: what changed on other nodes reaches this node's dashboards too."""
        if self.viewers:
            self.open_reports = await self.node.db(self.node.store.open_report_count)
            for what in ("queue", "rooms", "charts", "shift"):
                self.poke(what)

    async def minutes(self) -> None:
        """Forever: just after each minute begins, sample the pool and send the charts."""
        while True:
            await asyncio.sleep(60.0 - time.time() % 60.0 + 0.05)
            try:
                tickets = await self.node.broker.pool.tickets()
                now = time.time()
                self.samples.note(now, tickets)
                self.poke("charts")
            except Exception:
                log.exception("sampling the pool failed")

    def end_session(self, token_hash: str) -> None:
        for v in list(self.viewers):
            if v.token_hash == token_hash:
                v.conn.close_soon(SESSION_ENDED, "session ended")
        self.poke("shift")  # one fewer on duty, perhaps

    async def recheck(self) -> None:
        """Close the sockets of sessions that expired or whose account was removed."""
        for token_hash in {v.token_hash for v in self.viewers}:
            if await self.auth.account(token_hash) is None:
                self.end_session(token_hash)


WATCH = web.AppKey("moderation_watch", Watch)


def _without_type(frame: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in frame.items() if k != "type"}


async def moderate_socket(request: web.Request) -> web.WebSocketResponse:
    auth, watch, settings = request.app[AUTH], request.app[WATCH], request.app[SETTINGS]
    who = await auth.current(request)
    if who is None:
        raise problem(401, "not_signed_in", "Sign in as a moderator first.")
    # Browsers always send Origin; its absence means a page elsewhere cannot be ruled out.
    if not origin_allowed(request, settings, missing_ok=False):
        raise problem(403, "bad_origin", "This origin may not open the moderators' feed.")
    ws = web.WebSocketResponse(heartbeat=settings.heartbeat, compress=False, max_msg_size=4096)
    await ws.prepare(request)
    guard_masks(request.transport)
    viewer = Viewer(WsConn(ws, OUTBOX, request.transport), who.token_hash)
    watch.viewers.add(viewer)
    request.app[SOCKETS].add(ws)
    try:
        await watch.welcome(viewer)
        async for msg in ws:
            # The feed is one-way; whatever a dashboard sends is read and ignored.
            if msg.type is WSMsgType.ERROR:
                break
    finally:
        watch.viewers.discard(viewer)
        request.app[SOCKETS].discard(ws)
        await viewer.conn.stop()
    return ws
