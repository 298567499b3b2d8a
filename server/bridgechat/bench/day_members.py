"""`bench day`'s clients: one worker process's members, from sign-up to the last message.

Each member signs up over HTTP, opens a WebSocket, says hello, enters the
event's lobby (docs/events.md), and reads until the end. When its room opens
it sends a message every `message_every` seconds for `chat_seconds`; every
text carries its send time on the machine's monotonic clock (shared by all
processes), so the receiving member's process measures the latency. Each
member connects from a loopback address of its own (bridgechat.bench.loopback),
so the nodes' per-address limits apply as they would to real members.

The worker reports "ready" once its members are in the lobby (or failed),
then its tally when the day is over. Every loop ends by a count or a deadline.
"""

from __future__ import annotations

import array
import asyncio
import contextlib
import time
import traceback
from collections import Counter
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

import aiohttp
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed, WebSocketException

from bridgechat.bench.client_procs import raise_nofile, run_loop
from bridgechat.bench.loopback import open_ws, source_address
from bridgechat.bench.protocols import decode_json, recv_json, say_hello
from bridgechat.bench.relay_load import CHAT, stamp, unstamp

SETUP_AT_ONCE = 100  # members signing up and connecting at the same time, per worker
PROGRESS_EVERY = 5.0  # seconds between a worker's progress reports during the set-up
DRAIN = 3.0  # seconds to wait for messages in flight once the chat is over


@dataclass(slots=True)
class DayJob:
    wid: int
    http: tuple[str, ...]  # node base URLs; member i uses http[i % len]
    ws: tuple[str, ...]  # the same nodes' WebSocket URLs
    slug: str
    first: int  # the global number of this worker's first member
    bodies: list[dict[str, Any]]  # each member's sign-up answers
    starts: float  # the event's start, wall clock
    match_wait: float  # seconds after the start a member waits for a room
    chat_seconds: float
    message_every: float
    origin: str | None
    setup_timeout: float
    uvloop: bool


@dataclass(slots=True)
class Seat:
    """What one member saw: whether it got into the lobby, its room, its messages."""

    n: int
    entered: bool = False
    matched_at: float | None = None  # wall clock
    room: str | None = None
    you: str = ""
    others: tuple[str, ...] = ()
    hint: str | None = None  # the plain-words reason's code, if it was told one
    told: bool = False  # a `queued` came after the start (a room later, or a reason)
    acked: int = 0
    got: Counter[str] = field(default_factory=Counter)  # from alias -> messages received


class Day:
    def __init__(self, job: DayJob) -> None:
        self.job = job
        self.seats = [Seat(job.first + i) for i in range(len(job.bodies))]
        self.socks: dict[int, ClientConnection] = {}
        self.errors: Counter[str] = Counter()
        self.lat = array.array("d")
        self.tasks: list[asyncio.Task[None]] = []
        self.stopping = False
        self.signed = 0  # progress: sign-ups done, sockets open
        self.opened = 0

    async def sign_up(self, seat: Seat, body: dict[str, Any], base: str) -> str | None:
        connector = aiohttp.TCPConnector(local_addr=(source_address(seat.n), 0),
                                         force_close=True)
        headers = {"Origin": self.job.origin or base}
        async with aiohttp.ClientSession(connector=connector) as http, http.post(
                f"{base}/api/e/{self.job.slug}/signup", json=body, headers=headers,
                timeout=aiohttp.ClientTimeout(total=self.job.setup_timeout)) as resp:
            answer = await resp.json(content_type=None)
            if resp.status != 201:
                self.errors[f"sign-up {resp.status} {answer.get('error')}"] += 1
                return None
            return str(answer["token"])

    async def enter(self, seat: Seat, body: dict[str, Any], gate: asyncio.Semaphore) -> None:
        job = self.job
        node = seat.n % len(job.http)
        deadline = time.monotonic() + job.setup_timeout
        async with gate:
            try:
                token = await self.sign_up(seat, body, job.http[node])
                if token is None:
                    return
                self.signed += 1
                ws = await open_ws(job.ws[node], seat.n, open_timeout=job.setup_timeout,
                                   origin=job.origin or job.http[node])
                self.socks[seat.n] = ws
                self.opened += 1
                await say_hello(ws, "bridgechat", deadline)
                await ws.send(f'{{"type":"lobby","event":"{job.slug}","signup":"{token}"}}')
                # After the start, a late arrival is queued at once instead.
                raw = await recv_json(ws, lambda r: r.startswith(('{"type":"lobby"',
                                                                  '{"type":"queued"',
                                                                  '{"type":"error"')), deadline)
            except (OSError, TimeoutError, RuntimeError, WebSocketException,
                    aiohttp.ClientError) as exc:
                self.errors[f"setup: {type(exc).__name__}"] += 1
                return
            frame = decode_json(raw)
            if frame["type"] == "error":
                self.errors[f"lobby refused: {frame.get('code')}"] += 1
                return
            seat.entered = True
            self.tasks.append(asyncio.create_task(self.read(seat, ws)))

    async def read(self, seat: Seat, ws: ClientConnection) -> None:
        try:
            async for raw in ws:
                if isinstance(raw, str):
                    self.on_frame(seat, ws, decode_json(raw))
        except ConnectionClosed:
            pass
        if not self.stopping:
            self.errors["connection closed by the server"] += 1

    def on_frame(self, seat: Seat, ws: ClientConnection, frame: dict[str, Any]) -> None:
        kind = frame.get("type")
        if kind == "message":
            text, sender = str(frame.get("text", "")), str(frame.get("from", ""))
            if sender == seat.you or not text.startswith("t"):
                return
            seat.got[sender] += 1
            bar = text.find("|")
            with contextlib.suppress(ValueError):
                self.lat.append((time.monotonic_ns() - unstamp(text[1:bar])) / 1e9)
        elif kind == "ack":
            seat.acked += 1
        elif kind == "matched" and seat.room is None:
            seat.matched_at = time.time()
            seat.room, seat.you = str(frame["room"]), str(frame["you"])
            seat.others = tuple(str(m["alias"]) for m in frame.get("members", [])
                                if m.get("alias") != seat.you)
            self.tasks.append(asyncio.create_task(self.chat(seat, ws)))
        elif kind == "queued" and time.time() >= self.job.starts:
            seat.told = True
            hint = frame.get("hint")
            if isinstance(hint, dict):
                seat.hint = str(hint.get("code"))
        elif kind == "error":
            self.errors[f"error {frame.get('code')}"] += 1

    async def chat(self, seat: Seat, ws: ClientConnection) -> None:
        job = self.job
        count = int(job.chat_seconds / job.message_every)
        head = f'{{"type":"send","room":"{seat.room}","id":"'
        # Spread the members' first messages over one interval, not all at once.
        await asyncio.sleep(job.message_every * (seat.n % 97) / 97)
        for k in range(count):
            text = f"t{stamp(time.monotonic_ns())}|{CHAT[:80]}"
            try:
                await ws.send(f'{head}{k}","text":"{text}"}}')
            except ConnectionClosed:
                self.errors["closed while sending"] += 1
                return
            await asyncio.sleep(job.message_every)

    async def run(self, out: Any) -> None:
        job = self.job
        gate = asyncio.Semaphore(SETUP_AT_ONCE)
        setup = asyncio.gather(*(self.enter(seat, body, gate)
                                 for seat, body in zip(self.seats, job.bodies, strict=True)))
        while not setup.done():
            await asyncio.wait([setup], timeout=PROGRESS_EVERY)
            out.put(("progress", job.wid, self.signed, self.opened,
                     sum(s.entered for s in self.seats)))
        await setup
        out.put(("ready", job.wid, sum(s.entered for s in self.seats), dict(self.errors)))
        end = job.starts + job.match_wait + job.chat_seconds + DRAIN
        await asyncio.sleep(max(0.0, end - time.time()))
        self.stopping = True
        for ws in self.socks.values():
            with contextlib.suppress(Exception):
                await asyncio.wait_for(ws.close(), 1.0)
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        seats = [(s.n, s.entered, s.matched_at, s.room, s.you, s.others, s.hint, s.told,
                  s.acked, dict(s.got)) for s in self.seats]
        out.put(("result", job.wid, {"seats": seats, "errors": dict(self.errors),
                                     "lat": self.lat.tolist()}))


def worker(job: DayJob, pipe: Connection, out: Any) -> None:
    """A client process: its members' whole day, then its tally on `out`."""
    raise_nofile()
    try:
        run_loop(Day(job).run(out), job.uvloop)
    except Exception:
        out.put(("failed", job.wid, traceback.format_exc()))
    finally:
        pipe.close()
