"""`bench relay`'s clients: one worker process's members, their readers, and the sender.

Each worker sets up its share of pairs (every member connecting from its own
loopback address, bridgechat.bench.loopback), reports ready, waits for the
main process's go, sends for the warm-up and the measured window, drains,
and reports its tally. Every loop here ends by a count or a deadline.
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

from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed, WebSocketException

from bridgechat.bench.client_procs import raise_nofile, run_loop
from bridgechat.bench.loopback import open_ws
from bridgechat.bench.protocols import decode_json, pair_up, say_hello, wait_matched

PAD = "x" * 16384
# --text chat: ordinary sentences (a discussion of the deck's first prompt), and the send
# time in letters, so that a message looks like chat to the server's safety checks.
CHAT = ("I think trust grows slowly, when a neighbour helps with small things like parcels "
        "or the bins, and after a while you just know each other well enough to ask more. ")
CHAT_PAD = (CHAT * (16384 // len(CHAT) + 1))[:16384]
LETTERS = "abcdefghijklmnopqrstuvwxyz"


def stamp(ns: int) -> str:
    """The send time (ns) in lower-case letters, base 26."""
    out = []
    while ns:
        ns, r = divmod(ns, 26)
        out.append(LETTERS[r])
    return "".join(reversed(out)) or "a"


def unstamp(text: str) -> int:
    n = 0
    for c in text:
        n = n * 26 + LETTERS.index(c)
    return n
DRAIN = 3.0  # seconds to wait for frames in flight once sending stops
TICK = 0.001  # the open-loop sender's shortest sleep
ROUND = 10_000  # most sends per round of the open-loop sender
GO_WAIT = 60.0  # seconds past the setup timeout that a ready worker waits for "go"


@dataclass(slots=True)
class Job:
    wid: int
    protocol: str
    urls: tuple[str, ...]  # member A of a pair connects to urls[0], member B to urls[-1]
    first_pair: int
    pairs: int
    rate: float  # messages per second from this worker; 0: closed loop
    window: int
    size: int
    origin: str | None
    setup_timeout: float
    uvloop: bool
    text: str = "pad"  # or "chat" (--text)


class Member:
    __slots__ = ("count", "inflight", "last_seq", "peer", "pending", "prefix", "tag", "ws")

    def __init__(self, ws: ClientConnection, tag: str) -> None:
        self.ws = ws
        self.tag = tag
        self.peer: Member = self
        self.prefix = ""
        self.count = 0
        self.inflight = 0
        self.last_seq = 0
        self.pending: dict[str, int] = {}


@dataclass(slots=True)
class Tally:
    sent: int = 0
    recv: int = 0
    sent_in: int = 0  # sent inside the measured window
    recv_in: int = 0  # of those, delivered
    acks: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    lat: array.array[float] = field(default_factory=lambda: array.array("d"))
    ack_lat: array.array[float] = field(default_factory=lambda: array.array("d"))
    max_lag: float = 0.0


class Load:
    """The members of one worker, their readers, and the sender."""

    def __init__(self, job: Job, out: Any) -> None:
        self.job = job
        self.out = out
        self.acks = job.protocol != "bare"
        self.members: list[Member] = []
        self.readers: list[asyncio.Task[None]] = []
        self.t = Tally()
        self.window = (0, 0)
        self.sending = False
        self.stopping = False

    async def setup_pair(self, pair: int, gate: asyncio.Semaphore) -> None:
        job = self.job
        deadline = time.monotonic() + job.setup_timeout
        async with gate:
            socks: list[ClientConnection] = []
            try:
                for role, url in enumerate((job.urls[0], job.urls[-1])):
                    socks.append(await open_ws(url, 2 * pair + role, origin=job.origin,
                                               open_timeout=job.setup_timeout))
                prompts = [await say_hello(ws, job.protocol, deadline) for ws in socks]
                for role, ws in enumerate(socks):
                    await pair_up(ws, job.protocol, pair, role, prompts[role], deadline)
                rooms = [await wait_matched(ws, job.protocol, pair, deadline) for ws in socks]
            except (OSError, TimeoutError, RuntimeError, WebSocketException) as exc:
                self.t.errors[f"setup: {type(exc).__name__}"] += 1
                for ws in socks:
                    with contextlib.suppress(Exception):
                        await asyncio.wait_for(ws.close(), 1.0)
                return
        a, b = Member(socks[0], f"{pair}a"), Member(socks[1], f"{pair}b")
        a.peer, b.peer = b, a
        for m, room in ((a, rooms[0]), (b, rooms[1])):
            if job.protocol == "socketio":
                m.prefix = f'["send",{{"room":"{room}","id":"'
            else:
                m.prefix = f'{{"type":"send","room":"{room}","id":"'
            self.members.append(m)

    async def send_one(self, m: Member) -> None:
        m.count += 1
        mid = f"{m.tag}.{m.count}"
        now = time.monotonic_ns()
        if self.job.text == "chat":
            head = f"t{stamp(now)}|{m.tag}|"
            text = head + CHAT_PAD[:max(0, self.job.size - len(head))]
        else:
            head = f"t{now}|{m.tag}|"
            text = head + PAD[:max(0, self.job.size - len(head))]
        body = f'{m.prefix}{mid}","text":"{text}"}}'
        frame = f"42{m.count}{body}]" if self.job.protocol == "socketio" else body
        if self.acks:
            m.pending[mid] = now
        m.inflight += 1
        t = self.t
        t.sent += 1
        if self.window[0] <= now < self.window[1]:
            t.sent_in += 1
        try:
            await m.ws.send(frame)
        except ConnectionClosed:
            t.errors["closed while sending"] += 1

    def on_message(self, m: Member, text: str, seq: int | None, tag: object) -> None:
        now = time.monotonic_ns()
        t = self.t
        bar = text.index("|", 1)
        sent = unstamp(text[1:bar]) if self.job.text == "chat" else int(text[1:bar])
        t.recv += 1
        if text[bar + 1:text.index("|", bar + 1)] != m.peer.tag:
            t.errors["misrouted"] += 1
        if self.window[0] <= sent < self.window[1]:
            t.recv_in += 1
            t.lat.append((now - sent) / 1e9)
        if seq is not None:
            if seq <= m.last_seq:
                t.errors["out of order"] += 1
            m.last_seq = seq
            if not isinstance(tag, str) or not tag:
                t.errors["no franking tag"] += 1
        m.peer.inflight -= 1

    def on_ack(self, m: Member, mid: object) -> None:
        sent = m.pending.pop(mid, None) if isinstance(mid, str) else None
        if sent is None:
            self.t.errors["unexpected ack"] += 1
            return
        self.t.acks += 1
        if self.window[0] <= sent < self.window[1]:
            self.t.ack_lat.append((time.monotonic_ns() - sent) / 1e9)

    async def read(self, m: Member) -> None:
        proto = self.job.protocol
        closed_loop = self.job.rate <= 0
        try:
            async for raw in m.ws:
                if not isinstance(raw, str):
                    self.t.errors["binary frame"] += 1
                    continue
                if proto == "socketio":
                    if raw.startswith('42["message"'):
                        self.on_message(m, decode_json(raw[2:])[1]["text"], None, None)
                    elif raw.startswith("43"):
                        ack = decode_json(raw[raw.index("["):])
                        self.on_ack(m, ack[0].get("id") if ack else None)
                        continue
                    elif raw == "2":
                        await m.ws.send("3")
                        continue
                    else:
                        continue
                else:
                    frame = decode_json(raw)
                    kind = frame.get("type")
                    if kind == "message" or (proto == "bare" and kind == "send"):
                        self.on_message(m, frame["text"], frame.get("seq"), frame.get("tag"))
                    elif kind == "ack":
                        self.on_ack(m, frame.get("id"))
                        continue
                    elif kind == "error":
                        self.t.errors[f"error frame: {frame.get('code')}"] += 1
                        continue
                    else:
                        continue
                if closed_loop and self.sending:
                    await self.send_one(m.peer)
        except ConnectionClosed:
            pass
        except Exception as exc:  # a reader must report, never die silently
            self.t.errors[f"reader: {type(exc).__name__}"] += 1
        if not self.stopping:
            self.t.errors["connection closed"] += 1

    async def pace(self, start: float, end: float) -> None:
        """Open loop: `rate` sends a second, round-robin over the members, until `end`.

        It sleeps at least TICK between rounds and sends what fell due meanwhile
        (at most ROUND): a shorter sleep returns at once on the loop's millisecond
        clock, and the sender would spin, taking the CPU that this process's
        readers (and the other client processes on the core) need, which shows
        as latency."""
        rate, members, t = self.job.rate, self.members, self.t
        n = 0
        while (now := time.monotonic()) < end:
            due = int((now - start) * rate) - n
            if due > 1:
                t.max_lag = max(t.max_lag, due / rate)
            for _ in range(min(due, ROUND)):
                await self.send_one(members[n % len(members)])
                n += 1
            await asyncio.sleep(max(TICK, start + (n + 1) / rate - time.monotonic()))

    async def drain(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.t.recv >= self.t.sent and not any(m.pending for m in self.members):
                return
            await asyncio.sleep(0.02)

    async def progress(self, until: float) -> None:
        """A ("progress", ...) line for the main process every second until `until`."""
        while time.monotonic() < until:
            await asyncio.sleep(1.0)
            self.out.put(("progress", self.job.wid, self.t.sent, self.t.recv,
                          sum(self.t.errors.values())))

    async def close(self) -> None:
        self.stopping = True
        await asyncio.gather(*(asyncio.wait_for(m.ws.close(), 2.0) for m in self.members),
                             return_exceptions=True)
        for r in self.readers:
            r.cancel()
        await asyncio.gather(*self.readers, return_exceptions=True)

    def result(self) -> dict[str, Any]:
        t = self.t
        lost = max(0, t.sent - t.recv)
        no_ack = sum(len(m.pending) for m in self.members) if self.acks else 0
        errors = Counter(t.errors)
        if lost:
            errors["lost"] += lost
        if no_ack:
            errors["no ack"] += no_ack
        return {"sent": t.sent, "recv": t.recv, "sent_in": t.sent_in, "recv_in": t.recv_in,
                "acks": t.acks, "errors": dict(errors), "lat": t.lat.tobytes(),
                "ack_lat": t.ack_lat.tobytes(), "max_lag": t.max_lag,
                "members": len(self.members)}

    async def main(self, conn: Connection) -> None:
        job = self.job
        gate = asyncio.Semaphore(64)
        await asyncio.gather(*(self.setup_pair(p, gate) for p in
                               range(job.first_pair, job.first_pair + job.pairs)))
        self.readers = [asyncio.create_task(self.read(m)) for m in self.members]
        self.out.put(("ready", job.wid, len(self.members), dict(self.t.errors)))
        loop = asyncio.get_running_loop()
        told = await loop.run_in_executor(None, conn.poll, job.setup_timeout + GO_WAIT)
        cmd = conn.recv() if told else None
        if cmd is None or cmd[0] != "go":
            await self.close()
            return
        go_at, warmup, duration = cmd[1], cmd[2], cmd[3]
        end = go_at + warmup + duration
        self.window = (int((go_at + warmup) * 1e9), int(end * 1e9))
        ticker = asyncio.create_task(self.progress(end + DRAIN))
        await asyncio.sleep(max(0.0, go_at - time.monotonic()))
        self.sending = True
        if job.rate > 0 and self.members:
            await self.pace(go_at, end)
        else:
            for m in self.members:
                for _ in range(job.window):
                    await self.send_one(m)
            await asyncio.sleep(max(0.0, end - time.monotonic()))
        self.sending = False
        await self.drain(DRAIN)
        ticker.cancel()
        self.out.put(("result", job.wid, self.result()))
        await self.close()


def worker(job: Job, conn: Connection, out: Any) -> None:
    """A client process's entry point: run the Load, or report how it failed."""
    raise_nofile()
    try:
        run_loop(Load(job, out).main(conn), job.uvloop)
    except BaseException:
        out.put(("failed", job.wid, traceback.format_exc()))
