"""`bridgechat bench relay`: a load generator that speaks the real protocol.

Pairs of members say hello, join one prompt and language of their own with
opposite profiles (so each pair is matched with itself on the next tick),
then send `send` frames at a fixed total rate (`--rate`, open loop) or as
fast as delivery allows (`--rate 0`, `--window` messages in flight per
member). Every text carries its send time on the shared monotonic clock,
so the receiving member's process measures send-to-delivery latency. The
clients are spread over `--procs` processes; each runs its share of pairs.

The same client drives the baselines in bench/: `--protocol bare` (a relay
that pairs two sockets by key and forwards text verbatim) and `--protocol
socketio` (python-socketio spoken over the engine.io v4 websocket
transport with this same `websockets` client, so only the server differs).

The server's CPU seconds and memory come from /proc/PID/stat and status,
for `--server-pid` (repeatable: both nodes and Redis) or else the process
listening on each URL's port. Nothing here needs psutil.
"""

from __future__ import annotations

import argparse
import array
import asyncio
import contextlib
import importlib
import json
import multiprocessing as mp
import os
import queue
import resource
import string
import sys
import time
import traceback
from collections import Counter
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import msgspec
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, WebSocketException

PROTOCOLS = ("bridgechat", "bare", "socketio")
PROFILE_A = {"age_band": "18-29", "area": "urban", "origin": "newcomer"}
PROFILE_B = {"age_band": "60+", "area": "rural", "origin": "born_here"}
LANGS = tuple(a + b for a in string.ascii_lowercase for b in string.ascii_lowercase)
PAD = "x" * 16384
DRAIN = 3.0  # seconds to wait for frames in flight once sending stops
TICK = 0.001  # the open-loop sender's shortest sleep
CLK_TCK = os.sysconf("SC_CLK_TCK")
_json = msgspec.json.Decoder()


# -- /proc: CPU seconds and memory of a process, who listens on a port ------------

@dataclass(frozen=True, slots=True)
class ProcSample:
    cpu: float  # user + system seconds, all threads
    rss: int  # bytes
    hwm: int  # peak RSS, bytes


def read_proc(pid: int) -> ProcSample | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    # Fields after the command name, which may hold spaces: state is field 3,
    # utime and stime are fields 14 and 15 (proc(5)).
    rest = stat[stat.rindex(")") + 2:].split()
    cpu = (int(rest[11]) + int(rest[12])) / CLK_TCK
    mem = {k: int(v.split()[0]) * 1024 for k, _, v in
           (line.partition(":") for line in status.splitlines()) if k in ("VmRSS", "VmHWM")}
    return ProcSample(cpu, mem.get("VmRSS", 0), mem.get("VmHWM", 0))


def usable_cpus() -> int:
    """Cores this process may run on (taskset narrows them), not the machine's."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def stop_workers(workers: list[tuple[Any, Any]], wait: float) -> None:
    """Ask each client process to stop, then make sure it has."""
    for _, pipe in workers:
        with contextlib.suppress(OSError):
            pipe.send(("stop",))
    for proc, _ in workers:
        proc.join(wait)
        if proc.is_alive():
            proc.terminate()
            proc.join(5)

def machine_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of the whole machine, from /proc/stat."""
    try:
        first = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    except OSError:
        return 0, 0
    ticks = [int(x) for x in first[:8]]
    idle = ticks[3] + ticks[4]
    return sum(ticks) - idle, sum(ticks)


def listening_pids(port: int) -> list[int]:
    """Processes holding a listening TCP socket on `port` (needs to read their /proc/*/fd)."""
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                cols = line.split()
                if len(cols) > 9 and cols[3] == "0A" and int(cols[1].rsplit(":", 1)[1], 16) == port:
                    inodes.add(f"socket:[{cols[9]}]")
    pids: list[int] = []
    if not inodes:
        return pids
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            if any(os.readlink(fd) in inodes for fd in (entry / "fd").iterdir()):
                pids.append(int(entry.name))
    return pids


def raise_nofile() -> int:
    """Lift this process's open-file limit to the hard limit (children inherit it)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 20)
    if soft < want:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


# -- the wire: one small adapter per protocol ------------------------------------

def ws_url(url: str, protocol: str) -> str:
    """A ws:// URL for the protocol's endpoint; http(s) and bare host:port are accepted."""
    if "://" not in url:
        url = "http://" + url
    parts = urlsplit(url)
    scheme = {"http": "ws", "https": "wss"}.get(parts.scheme, parts.scheme)
    path = parts.path if parts.path not in ("", "/") else (
        "/socket.io/" if protocol == "socketio" else "/ws")
    query = parts.query
    if protocol == "socketio" and "EIO=" not in query:
        query = "EIO=4&transport=websocket"
    return f"{scheme}://{parts.netloc}{path}" + (f"?{query}" if query else "")


async def recv_json(ws: ClientConnection, want: Callable[[str], bool], deadline: float) -> str:
    """The next text frame for which `want` is true; others pass; bounded by `deadline`."""
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("no expected frame in time")
        raw = await asyncio.wait_for(ws.recv(), left)
        if isinstance(raw, str):
            if raw == "2":  # engine.io ping
                await ws.send("3")
            elif want(raw):
                return raw


async def say_hello(ws: ClientConnection, protocol: str, deadline: float,
                    idle_key: str | None = None) -> list[str]:
    """Open the session: hello (Bridgechat), engine.io open + connect (socket.io); for an
    idle bare connection, a join under `idle_key`. Returns Bridgechat's prompt ids."""
    if protocol == "bridgechat":
        await ws.send('{"type":"hello","v":1,"token":null}')
        raw = await recv_json(ws, lambda r: r.startswith('{"type":"welcome"')
                              or r.startswith('{"type":"error"'), deadline)
        frame = _json.decode(raw)
        if frame["type"] != "welcome":
            raise RuntimeError(f"hello refused: {frame.get('code')}")
        return [p["id"] for p in frame["prompts"]]
    if protocol == "socketio":
        await recv_json(ws, lambda r: r.startswith("0{"), deadline)
        await ws.send("40")
        await recv_json(ws, lambda r: r.startswith("40"), deadline)
        return []
    if idle_key is not None:
        await ws.send(json.dumps({"type": "join", "pair": idle_key}))
        await recv_json(ws, lambda r: r.startswith('{"type":"queued"'), deadline)
    return []


async def pair_up(ws: ClientConnection, protocol: str, pair: int, role: int,
                  prompts: Sequence[str]) -> None:
    """Ask to be matched: Bridgechat's join, socket.io's join event, bare's join."""
    if protocol == "bridgechat":
        if not prompts:
            raise RuntimeError("welcome listed no prompts")
        prompt = prompts[pair % len(prompts)]
        lang = LANGS[(pair // len(prompts)) % len(LANGS)]
        await ws.send(json.dumps({"type": "join", "prompts": [prompt], "languages": [lang],
                                  "profile": PROFILE_A if role == 0 else PROFILE_B}))
    elif protocol == "socketio":
        await ws.send(f'420["join",{{"pair":"p{pair}"}}]')
    else:
        await ws.send(json.dumps({"type": "join", "pair": f"p{pair}"}))


async def wait_matched(ws: ClientConnection, protocol: str, pair: int, deadline: float) -> str:
    """The room to send into: Bridgechat's `matched`, bare's `matched`, socket.io's join ack."""
    if protocol == "socketio":
        await recv_json(ws, lambda r: r.startswith("430"), deadline)
        return f"p{pair}"
    raw = await recv_json(ws, lambda r: r.startswith('{"type":"matched"')
                          or r.startswith('{"type":"error"'), deadline)
    frame = _json.decode(raw)
    if frame["type"] != "matched":
        raise RuntimeError(f"join refused: {frame.get('code')}")
    return str(frame["room"])


# -- one worker process -----------------------------------------------------------

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

    async def connect(self, url: str) -> ClientConnection:
        extra = {"Origin": self.job.origin} if self.job.origin else None
        return await connect(url, compression=None, ping_interval=None, max_size=2**20,
                             open_timeout=self.job.setup_timeout, additional_headers=extra)

    async def setup_pair(self, pair: int, gate: asyncio.Semaphore) -> None:
        job = self.job
        deadline = time.monotonic() + job.setup_timeout
        async with gate:
            socks: list[ClientConnection] = []
            try:
                for url in (job.urls[0], job.urls[-1]):
                    socks.append(await self.connect(url))
                prompts = [await say_hello(ws, job.protocol, deadline) for ws in socks]
                for role, ws in enumerate(socks):
                    await pair_up(ws, job.protocol, pair, role, prompts[role])
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
        sent = int(text[1:bar])
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
                        self.on_message(m, _json.decode(raw[2:])[1]["text"], None, None)
                    elif raw.startswith("43"):
                        ack = _json.decode(raw[raw.index("["):])
                        self.on_ack(m, ack[0].get("id") if ack else None)
                        continue
                    elif raw == "2":
                        await m.ws.send("3")
                        continue
                    else:
                        continue
                else:
                    frame = _json.decode(raw)
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
        """Open loop: `rate` sends a second, round-robin over the members.

        It sleeps at least TICK between rounds and sends what fell due meanwhile:
        a shorter sleep returns at once on the loop's millisecond clock, and the
        sender would spin, taking the CPU that this process's readers (and the
        other client processes on the core) need, which shows as latency."""
        rate, members, t = self.job.rate, self.members, self.t
        n = 0
        while True:
            now = time.monotonic()
            if now >= end:
                return
            due = int((now - start) * rate) - n
            if due > 1:
                t.max_lag = max(t.max_lag, due / rate)
            for _ in range(min(due, 10_000)):
                await self.send_one(members[n % len(members)])
                n += 1
            await asyncio.sleep(max(TICK, start + (n + 1) / rate - time.monotonic()))

    async def drain(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.t.recv >= self.t.sent and not any(m.pending for m in self.members):
                return
            await asyncio.sleep(0.02)

    async def progress(self) -> None:
        while True:
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
        cmd = await loop.run_in_executor(None, conn.recv)
        if cmd[0] != "go":
            await self.close()
            return
        go_at, warmup, duration = cmd[1], cmd[2], cmd[3]
        end = go_at + warmup + duration
        self.window = (int((go_at + warmup) * 1e9), int(end * 1e9))
        ticker = asyncio.create_task(self.progress())
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


def run_loop(main: Coroutine[Any, Any, None], use_uvloop: bool) -> None:
    """asyncio.run, on uvloop when asked and installed."""
    if use_uvloop:
        with contextlib.suppress(ImportError):
            loop_mod = importlib.import_module("uvloop")
            loop: asyncio.AbstractEventLoop = loop_mod.new_event_loop()
            with asyncio.Runner(loop_factory=lambda: loop) as runner:
                runner.run(main)
            return
    asyncio.run(main)


def _worker(job: Job, conn: Connection, out: Any) -> None:
    raise_nofile()
    try:
        run_loop(Load(job, out).main(conn), job.uvloop)
    except BaseException:
        out.put(("failed", job.wid, traceback.format_exc()))


# -- the main process: start workers, time the window, read /proc, report ---------

def percentile(sorted_xs: Sequence[float], q: float) -> float:
    if not sorted_xs:
        return float("nan")
    return sorted_xs[min(len(sorted_xs) - 1, max(0, round(q * len(sorted_xs) + 0.5) - 1))]


def split(total: int, parts: int) -> list[tuple[int, int]]:
    """(first, count) for each part, as even as can be."""
    out, first = [], 0
    for i in range(parts):
        n = total // parts + (1 if i < total % parts else 0)
        out.append((first, n))
        first += n
    return [p for p in out if p[1] > 0]


def server_pids(args: argparse.Namespace) -> list[int]:
    if args.server_pid:
        return list(dict.fromkeys(args.server_pid))
    found: list[int] = []
    for url in args.url:
        port = urlsplit(ws_url(url, args.protocol)).port
        if port is not None:
            found += listening_pids(port)
    return list(dict.fromkeys(found))


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="bridgechat bench relay", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--url", action="append", required=True,
                   help="server URL (repeat for two nodes: a pair's members go to the first "
                        "and the last)")
    p.add_argument("--pairs", type=int, default=100)
    p.add_argument("--rate", type=float, default=1000.0,
                   help="messages per second in all (0: as fast as delivery allows)")
    p.add_argument("--duration", type=float, default=10.0, help="measured seconds")
    p.add_argument("--warmup", type=float, default=1.0, help="seconds of load before measuring")
    p.add_argument("--window", type=int, default=1,
                   help="with --rate 0: messages in flight per member")
    p.add_argument("--size", type=int, default=100, help="characters of text per message")
    p.add_argument("--procs", type=int, default=usable_cpus(),
                   help="client processes (default: one per core this process may use: "
                        "two on one core would wait for each other's time slice)")
    p.add_argument("--protocol", choices=PROTOCOLS, default="bridgechat")
    p.add_argument("--server-pid", type=int, action="append", default=[],
                   help="process to read CPU and memory of (repeatable; default: "
                        "whoever listens on each URL's port)")
    p.add_argument("--origin", default=None, help="Origin header to send (default: none)")
    p.add_argument("--setup-timeout", type=float, default=60.0)
    p.add_argument("--client-loop", choices=("asyncio", "uvloop"), default="asyncio")
    p.add_argument("--label", default=None, help="name for this run in --json output")
    p.add_argument("--json", default=None, help="also write the figures to this file")
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    return p


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Run one benchmark and return its figures (also printed)."""
    raise_nofile()
    urls = tuple(ws_url(u, args.protocol) for u in args.url)
    pids = server_pids(args)
    procs = max(1, min(args.procs, args.pairs))
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    workers: list[tuple[Any, Connection]] = []
    for wid, (first, n) in enumerate(split(args.pairs, procs)):
        mine, theirs = ctx.Pipe()
        job = Job(wid, args.protocol, urls, first, n, args.rate * n / args.pairs, args.window,
                  args.size, args.origin, args.setup_timeout, args.client_loop == "uvloop")
        proc = ctx.Process(target=_worker, args=(job, theirs, out), daemon=True)
        proc.start()
        workers.append((proc, mine))

    def say(line: str) -> None:
        if not args.quiet:
            print(line, file=sys.stderr, flush=True)

    def take(deadline: float) -> tuple[Any, ...] | None:
        wait = max(0.05, min(1.0, deadline - time.monotonic()))
        try:
            item: tuple[Any, ...] = out.get(timeout=wait)
        except queue.Empty:
            return None
        if item[0] == "failed":
            raise RuntimeError(f"client worker {item[1]} failed:\n{item[2]}")
        return item

    try:
        ready: dict[int, tuple[int, dict[str, int]]] = {}
        deadline = time.monotonic() + args.setup_timeout + 30
        started = time.monotonic()
        while len(ready) < len(workers) and time.monotonic() < deadline:
            item = take(deadline)
            if item is not None and item[0] == "ready":
                ready[item[1]] = (item[2], item[3])
        if len(ready) < len(workers):
            raise RuntimeError("client workers did not get ready in time")
        members = sum(r[0] for r in ready.values())
        if not members:
            errs: Counter[str] = Counter()
            for r in ready.values():
                errs.update(r[1])
            raise RuntimeError(f"no pair was matched: {dict(errs)}")
        say(f"setup: {members // 2} of {args.pairs} pairs matched in "
            f"{time.monotonic() - started:.1f} s")
        go_at = time.monotonic() + 0.3
        for _, pipe in workers:
            pipe.send(("go", go_at, args.warmup, args.duration))
        watch = pids + [p.pid for p, _ in workers if p.pid is not None]
        time.sleep(max(0.0, go_at + args.warmup - time.monotonic()))
        before = {pid: read_proc(pid) for pid in watch}
        busy0, total0 = machine_ticks()
        t0 = time.monotonic()
        results: dict[int, dict[str, Any]] = {}
        counts: dict[int, tuple[int, int, int]] = {}
        deadline = go_at + args.warmup + args.duration + DRAIN + 30
        last = 0.0
        while len(results) < len(ready) and time.monotonic() < deadline:
            item = take(deadline)
            if item is None:
                continue
            if item[0] == "progress":
                counts[item[1]] = item[2:5]
                now = time.monotonic()
                if now - last >= 1.0 and len(counts) == len(ready):
                    last = now
                    sent, got, bad = (sum(c[i] for c in counts.values()) for i in range(3))
                    say(f"[{now - go_at:5.1f} s] sent {sent}  delivered {got}  errors {bad}")
            elif item[0] == "result":
                results[item[1]] = item[2]
        t1 = time.monotonic()
        after = {pid: read_proc(pid) for pid in watch}
        busy1, total1 = machine_ticks()
        if len(results) < len(ready):
            raise RuntimeError("client workers did not report in time")
    finally:
        stop_workers(workers, 10)

    return summarise(args, results, pids, before, after, t1 - t0,
                     (busy1 - busy0) / max(1, total1 - total0))


def summarise(args: argparse.Namespace, results: dict[int, dict[str, Any]], pids: list[int],
              before: dict[int, ProcSample | None], after: dict[int, ProcSample | None],
              elapsed: float, machine_busy: float) -> dict[str, Any]:
    """Merge the workers' figures with the server's /proc readings; print them."""
    lat: array.array[float] = array.array("d")
    ack_lat: array.array[float] = array.array("d")
    errors: Counter[str] = Counter()
    tot: Counter[str] = Counter()
    for r in results.values():
        lat.frombytes(r["lat"])
        ack_lat.frombytes(r["ack_lat"])
        errors.update(r["errors"])
        for k in ("sent", "recv", "sent_in", "recv_in", "acks", "members"):
            tot[k] += r[k]
    lats, acks = sorted(lat), sorted(ack_lat)
    server: dict[str, dict[str, float]] = {}
    cpu = 0.0
    for pid in pids:
        a, b = before.get(pid), after.get(pid)
        if a is not None and b is not None:
            server[str(pid)] = {"cpu_s": b.cpu - a.cpu, "rss_mib": b.rss / 2**20,
                                "hwm_mib": b.hwm / 2**20}
            cpu += b.cpu - a.cpu
    client_cpu = sum((b.cpu - a.cpu) for pid, (a, b) in
                     ((p, (before.get(p), after.get(p))) for p in before if p not in pids)
                     if a is not None and b is not None)
    ms = 1000.0
    fig: dict[str, Any] = {
        "label": args.label or args.protocol, "protocol": args.protocol, "urls": len(args.url),
        "pairs": tot["members"] // 2, "rate": args.rate, "duration": args.duration,
        "size": args.size, "procs": len(results),
        "delivered": tot["recv_in"], "msgs_per_s": tot["recv_in"] / args.duration,
        "p50_ms": percentile(lats, 0.50) * ms, "p95_ms": percentile(lats, 0.95) * ms,
        "p99_ms": percentile(lats, 0.99) * ms, "max_ms": (lats[-1] * ms) if lats else 0.0,
        "ack_p50_ms": percentile(acks, 0.50) * ms, "ack_p99_ms": percentile(acks, 0.99) * ms,
        "errors": sum(errors.values()), "error_kinds": dict(errors),
        "server": server, "server_cpu_s": cpu if server else None,
        "msgs_per_cpu_s": (tot["recv_in"] / cpu) if server and cpu > 0 else None,
        "client_cpu_s": client_cpu, "machine_busy": machine_busy, "elapsed_s": elapsed,
        "others_cpu_s": max(0.0, machine_busy * (os.cpu_count() or 1) * elapsed
                            - cpu - client_cpu),
        "max_lag_s": max((r["max_lag"] for r in results.values()), default=0.0),
    }
    print_figures(fig)
    if args.json:
        Path(args.json).write_text(json.dumps(fig, indent=2) + "\n")
    return fig


def print_figures(f: dict[str, Any]) -> None:
    rate = "as fast as delivered" if f["rate"] <= 0 else f"{f['rate']:.0f} msg/s offered"
    print(f"bench relay: {f['label']} ({f['protocol']}, {f['urls']} node(s)), {f['pairs']} pairs,"
          f" {rate}, {f['duration']:.0f} s measured, {f['size']} chars, {f['procs']} client procs")
    print(f"throughput   {f['msgs_per_s']:.0f} msg/s delivered ({f['delivered']} messages)")
    print(f"latency      p50 {f['p50_ms']:.2f} ms  p95 {f['p95_ms']:.2f} ms  "
          f"p99 {f['p99_ms']:.2f} ms  max {f['max_ms']:.1f} ms")
    if f["protocol"] != "bare":
        print(f"ack latency  p50 {f['ack_p50_ms']:.2f} ms  p99 {f['ack_p99_ms']:.2f} ms")
    kinds = ", ".join(f"{k}: {v}" for k, v in sorted(f["error_kinds"].items()))
    print(f"errors       {f['errors']}" + (f" ({kinds})" if kinds else ""))
    if f["server"]:
        for pid, s in f["server"].items():
            print(f"server       pid {pid}: {s['cpu_s']:.2f} CPU s "
                  f"({100 * s['cpu_s'] / max(1e-9, f['elapsed_s']):.0f}% of a core), "
                  f"RSS {s['rss_mib']:.1f} MiB (peak {s['hwm_mib']:.1f})")
        print(f"efficiency   {f['msgs_per_cpu_s']:.0f} messages per server CPU-second "
              f"({f['server_cpu_s']:.2f} CPU s in {f['elapsed_s']:.1f} s)")
    else:
        print("server       CPU and memory: n/a (pass --server-pid, or run where /proc "
              "shows the listening process)")
    print(f"client       {f['client_cpu_s']:.2f} CPU s; machine busy "
          f"{100 * f['machine_busy']:.0f}% (other processes {f['others_cpu_s']:.2f} CPU s); "
          f"sender lag at most {1000 * f['max_lag_s']:.0f} ms")


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    if args.pairs < 1 or args.duration <= 0 or args.rate < 0 or args.window < 1:
        print("--pairs, --duration and --window must be positive, --rate at least 0",
              file=sys.stderr)
        return 2
    try:
        fig = run(args)
    except RuntimeError as exc:
        print(f"bench relay failed: {exc}", file=sys.stderr)
        return 1
    return 0 if fig["errors"] == 0 else 1
