"""`bridgechat bench soak`: a steady, moderate load for minutes; memory and latency over time.

`--pairs` pairs chat at once. Each pair is two new members (each from a
loopback address of its own, bridgechat.bench.loopback) who say hello, join
one prompt and language of their own with opposite profiles, are matched,
and then each sends a message every `--every` seconds (with jitter, a
`typing` before some) for a lifetime drawn between `--life-min` and
`--life-max` seconds; then they wait for their last messages, one of them
says `leave`, both see `closed` and hang up, and a new pair takes the slot.
So members join and leave all the time while the number chatting stays
steady. Every text carries its send time, so the receiving member measures
send-to-delivery latency; each member checks that its partner's messages
arrive once each, in order, and that each of its own sends is acknowledged.

Every `--interval` seconds (60 by default: one row a minute) it prints the
server's RSS (VmRSS from /proc/PID/status) and CPU, the messages delivered
and their latency p50 / p99 / max, and the pairs opened and errors so far.
At the end: memory growth after the first 5 minutes (the RSS at the last
row against the RSS at minute 5; for runs under 10 minutes, at half the
run), and latency drift (p50 and p99 of the first row after that point
against the last row). Every loop is bounded by a count or a deadline.

With no `--url` it starts `bridgechat serve` itself on a fresh data dir
(tmpfs when there is one) and stops it at the end; with `--url` (loopback
only) the server is the process listening on its port, or `--server-pid`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import random
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed, WebSocketException

from bridgechat.bench.client_procs import raise_nofile
from bridgechat.bench.connections import a_server
from bridgechat.bench.loopback import NotLoopback, open_ws
from bridgechat.bench.process_stats import read_proc
from bridgechat.bench.protocols import decode_json, pair_up, say_hello, wait_matched, ws_url
from bridgechat.bench.relay_report import percentile

SETUP_WAIT = 30.0  # seconds a pair may take from connecting to matched
SETTLE_WAIT = 10.0  # seconds a retiring pair waits for its last acks and messages
CLOSE_WAIT = 5.0  # seconds to see `closed` after `leave`
BASELINE_MINUTES = 5.0
PAD = "soak " * 40


@dataclass
class Figures:
    """What the members saw, per row and in all."""

    lat: list[float] = field(default_factory=list)  # this row's latencies, seconds
    delivered: int = 0
    acked: int = 0
    pairs: int = 0
    errors: Counter[str] = field(default_factory=Counter)


class Chatter:
    """One member of a pair: its socket, what it sent, what it has heard from its partner."""

    def __init__(self, ws: ClientConnection, tag: str) -> None:
        self.ws = ws
        self.tag = tag
        self.room = ""
        self.sent = 0  # messages sent; ids are f"{tag}.{n}"
        self.unacked: set[str] = set()
        self.heard = 0  # the partner's messages heard, in order
        self.last_seq = 0
        self.closed = asyncio.Event()


class Soak:
    def __init__(self, args: argparse.Namespace, url: str) -> None:
        self.args = args
        self.url = url
        self.f = Figures()
        self.clients = itertools.count()  # a fresh loopback source address per member
        self.serial = itertools.count()  # a fresh prompt/language per pair
        self.rng = random.Random(args.seed)

    def error(self, kind: str) -> None:
        self.f.errors[kind] += 1

    async def read(self, me: Chatter, peer: Chatter) -> None:
        """Take `me`'s frames until its socket ends: messages, acks, closed, errors."""
        f = self.f
        with contextlib.suppress(ConnectionClosed):
            async for raw in me.ws:
                now = time.monotonic_ns()
                frame: dict[str, Any] = (decode_json(raw) if isinstance(raw, str)
                                         else {"type": "binary"})
                kind = frame.get("type")
                if kind == "message":
                    text, seq = frame.get("text", ""), frame.get("seq", 0)
                    head = text.split("|", 3)
                    expect = f"{peer.tag}.{me.heard + 1}"
                    if len(head) < 3 or head[1] != expect:
                        self.error("message out of order, lost or repeated")
                    if seq <= me.last_seq:
                        self.error("seq not increasing")
                    me.heard += 1
                    me.last_seq = seq
                    f.delivered += 1
                    if len(head) >= 3 and head[0].startswith("t"):
                        f.lat.append((now - int(head[0][1:])) / 1e9)
                elif kind == "ack":
                    if frame.get("id") in me.unacked:
                        me.unacked.discard(frame["id"])
                        f.acked += 1
                    else:
                        self.error("unexpected ack")
                elif kind == "closed":
                    me.closed.set()
                elif kind == "error":
                    self.error(f"error {frame.get('code')}")
                elif kind == "binary":
                    self.error("binary frame")
        me.closed.set()

    async def send(self, me: Chatter) -> None:
        me.sent += 1
        mid = f"{me.tag}.{me.sent}"
        me.unacked.add(mid)
        if self.rng.random() < 0.3:
            await me.ws.send(json.dumps({"type": "typing", "room": me.room}))
        text = f"t{time.monotonic_ns()}|{mid}|{PAD[:self.args.size]}"
        await me.ws.send(json.dumps({"type": "send", "room": me.room, "id": mid, "text": text}))

    async def setup(self, serial: int, socks: list[ClientConnection]) -> list[str]:
        deadline = time.monotonic() + SETUP_WAIT
        for _ in range(2):
            socks.append(await open_ws(self.url, next(self.clients), open_timeout=SETUP_WAIT))
        prompts = [await say_hello(ws, "bridgechat", deadline) for ws in socks]
        for role, ws in enumerate(socks):
            await pair_up(ws, "bridgechat", serial, role, prompts[role], deadline)
        return [await wait_matched(ws, "bridgechat", serial, deadline) for ws in socks]

    async def pair(self, end: float) -> None:
        """One pair's whole life, from connecting to hanging up; bounded in time."""
        serial = next(self.serial)
        socks: list[ClientConnection] = []
        readers: list[asyncio.Task[None]] = []
        try:
            try:
                rooms = await self.setup(serial, socks)
            except (OSError, TimeoutError, RuntimeError, WebSocketException) as exc:
                self.error(f"setup: {type(exc).__name__}")
                return
            self.f.pairs += 1
            a, b = Chatter(socks[0], f"{serial}a"), Chatter(socks[1], f"{serial}b")
            a.room, b.room = rooms
            readers = [asyncio.create_task(self.read(a, b)), asyncio.create_task(self.read(b, a))]
            life = self.rng.uniform(self.args.life_min, self.args.life_max)
            await self.chat((a, b), min(end, time.monotonic() + life))
            await self.retire(a, b)
        finally:
            await asyncio.gather(*(asyncio.wait_for(ws.close(), 2.0) for ws in socks),
                                 return_exceptions=True)
            for r in readers:
                r.cancel()
            await asyncio.gather(*readers, return_exceptions=True)

    async def chat(self, pair: tuple[Chatter, Chatter], until: float) -> None:
        """Each member sends every `--every` seconds (jittered) until `until`."""
        every = self.args.every
        due = [time.monotonic() + self.rng.uniform(0, every) for _ in pair]
        while (now := time.monotonic()) < until and not any(m.closed.is_set() for m in pair):
            i = 0 if due[0] <= due[1] else 1
            if due[i] > now:
                await asyncio.sleep(min(due[i], until) - now)
                continue
            try:
                await self.send(pair[i])
            except ConnectionClosed:
                self.error("closed while sending")
                return
            due[i] = now + every * self.rng.uniform(0.5, 1.5)

    async def retire(self, a: Chatter, b: Chatter) -> None:
        """Wait for the last acks and messages, then `a` leaves; both must see `closed`."""
        deadline = time.monotonic() + SETTLE_WAIT
        while time.monotonic() < deadline and not (a.closed.is_set() or b.closed.is_set()):
            if not (a.unacked or b.unacked) and a.heard == b.sent and b.heard == a.sent:
                break
            await asyncio.sleep(0.05)
        lost = (a.sent - b.heard) + (b.sent - a.heard)
        if lost:
            self.error("not delivered")
        if a.unacked or b.unacked:
            self.error("not acknowledged")
        if a.closed.is_set() or b.closed.is_set():
            self.error("room closed early")
            return
        with contextlib.suppress(ConnectionClosed):
            await a.ws.send(json.dumps({"type": "leave", "room": a.room}))
        try:
            await asyncio.wait_for(asyncio.gather(a.closed.wait(), b.closed.wait()), CLOSE_WAIT)
        except TimeoutError:
            self.error("no closed after leave")

    async def slot(self, end: float, start_after: float) -> None:
        """Pair after pair in one slot until `end`; at most one pair a second."""
        await asyncio.sleep(start_after)
        while time.monotonic() < end:
            began = time.monotonic()
            await self.pair(end)
            await asyncio.sleep(max(0.0, 1.0 - (time.monotonic() - began)))

    async def run(self, pid: int) -> list[dict[str, Any]]:
        args = self.args
        start = time.monotonic()
        end = start + args.minutes * 60
        n = max(1, args.pairs)
        slots = [asyncio.create_task(self.slot(end, i * min(5.0, args.interval) / n))
                 for i in range(n)]
        rows: list[dict[str, Any]] = []
        cpu0 = read_proc(pid)
        last_cpu = cpu0.cpu if cpu0 else 0.0
        print(f"{'min':>6} {'RSS MiB':>8} {'CPU s':>6} {'msgs':>6} {'p50 ms':>7} {'p99 ms':>7} "
              f"{'max ms':>7} {'pairs':>6} {'errors':>6}", flush=True)
        for k in itertools.count(1):
            at = min(end, start + k * args.interval)
            await asyncio.sleep(max(0.0, at - time.monotonic()))
            sample = read_proc(pid)
            if sample is None:
                self.error("server gone")
                break
            lat, self.f.lat = sorted(self.f.lat), []
            row = {"minute": (time.monotonic() - start) / 60, "rss_mib": sample.rss / 2**20,
                   "cpu_s": sample.cpu - last_cpu, "messages": len(lat),
                   "p50_ms": percentile(lat, 0.5) * 1e3, "p99_ms": percentile(lat, 0.99) * 1e3,
                   "max_ms": lat[-1] * 1e3 if lat else float("nan"), "pairs": self.f.pairs,
                   "errors": sum(self.f.errors.values())}
            last_cpu = sample.cpu
            rows.append(row)
            print(f"{row['minute']:>6.2f} {row['rss_mib']:>8.1f} {row['cpu_s']:>6.2f} "
                  f"{row['messages']:>6} {row['p50_ms']:>7.2f} {row['p99_ms']:>7.2f} "
                  f"{row['max_ms']:>7.1f} {row['pairs']:>6} {row['errors']:>6}", flush=True)
            if at >= end:
                break
        # Pairs still chatting retire now; any left after SETTLE_WAIT + CLOSE_WAIT are cut.
        _, pending = await asyncio.wait(slots, timeout=SETTLE_WAIT + CLOSE_WAIT + 10)
        for t in pending:
            t.cancel()
        await asyncio.gather(*slots, return_exceptions=True)
        return rows


def summary(args: argparse.Namespace, rows: list[dict[str, Any]], soak: Soak) -> dict[str, Any]:
    """Memory growth after the first minutes and latency drift; printed and returned."""
    base_min = min(BASELINE_MINUTES, args.minutes / 2)
    after = [i for i, r in enumerate(rows) if r["minute"] >= base_min - 1e-6]
    fig: dict[str, Any] = {"minutes": args.minutes, "pairs": args.pairs, "every_s": args.every,
                           "rows": rows, "pairs_opened": soak.f.pairs,
                           "delivered": soak.f.delivered, "acked": soak.f.acked,
                           "errors": sum(soak.f.errors.values()),
                           "error_kinds": dict(soak.f.errors), "baseline_minute": None}
    print(f"bench soak: {args.pairs} pairs, a message every {args.every:g} s per member, "
          f"{soak.f.pairs} pairs opened, {soak.f.delivered} messages delivered, "
          f"{soak.f.acked} acknowledged")
    if after and len(rows) >= 2:
        b, last = rows[after[0]], rows[-1]
        growth = 100 * (last["rss_mib"] - b["rss_mib"]) / b["rss_mib"]
        first = rows[min(after[0] + 1, len(rows) - 1)]
        fig.update(baseline_minute=b["minute"], rss_base_mib=b["rss_mib"],
                   rss_end_mib=last["rss_mib"], growth_pct=growth,
                   p50_first_ms=first["p50_ms"], p50_last_ms=last["p50_ms"],
                   p99_first_ms=first["p99_ms"], p99_last_ms=last["p99_ms"])
        print(f"memory growth after minute {b['minute']:.1f}: {growth:+.1f} % "
              f"({b['rss_mib']:.1f} -> {last['rss_mib']:.1f} MiB RSS)")
        print(f"latency drift: p50 {first['p50_ms']:.2f} -> {last['p50_ms']:.2f} ms, "
              f"p99 {first['p99_ms']:.2f} -> {last['p99_ms']:.2f} ms "
              f"(minute {first['minute']:.1f} against minute {last['minute']:.1f})")
    else:
        print("memory growth and latency drift: n/a (too few rows)")
    kinds = ", ".join(f"{k}: {v}" for k, v in sorted(soak.f.errors.items()))
    print(f"errors       {fig['errors']}" + (f" ({kinds})" if kinds else ""))
    return fig


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="bridgechat bench soak", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--minutes", type=float, default=30.0, help="how long the load runs")
    p.add_argument("--url", default=None, help="a running server (default: start one)")
    p.add_argument("--server-pid", type=int, default=None,
                   help="with --url: the process to read RSS of (default: the listener)")
    p.add_argument("--pairs", type=int, default=50, help="pairs chatting at once")
    p.add_argument("--every", type=float, default=2.0,
                   help="mean seconds between one member's messages")
    p.add_argument("--life-min", type=float, default=30.0, help="shortest pair life, seconds")
    p.add_argument("--life-max", type=float, default=150.0, help="longest pair life, seconds")
    p.add_argument("--size", type=int, default=100, help="characters of padding per message")
    p.add_argument("--interval", type=float, default=60.0, help="seconds between rows")
    p.add_argument("--loop", choices=("asyncio", "uvloop"), default="asyncio",
                   help="event loop of the server this starts")
    p.add_argument("--serve-arg", action="append", default=[],
                   help="extra flag for the server this starts (repeatable)")
    p.add_argument("--seed", type=int, default=None, help="for repeatable lifetimes")
    p.add_argument("--json", default=None, help="also write the figures to this file")
    return p


def run(args: argparse.Namespace) -> dict[str, Any]:
    raise_nofile()
    with a_server(args, "bridgechat", "bench-soak-") as (url, pid, server):
        print(f"bench soak: {url}, server pid {pid}, {args.minutes:g} min", flush=True)
        soak = Soak(args, url)
        rows = asyncio.run(soak.run(pid))
        fig = summary(args, rows, soak)
        if server is not None and server.poll() is not None:
            fig["errors"] += 1
            print("the server exited during the run", file=sys.stderr)
    if args.json:
        Path(args.json).write_text(json.dumps(fig, indent=2) + "\n")
    return fig


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    if (args.minutes <= 0 or args.pairs < 1 or args.every <= 0 or args.interval <= 0
            or not 0 < args.life_min <= args.life_max):
        print("--minutes, --pairs, --every and --interval must be positive, "
              "and 0 < --life-min <= --life-max", file=sys.stderr)
        return 2
    if args.url is not None:
        try:
            ws_url(args.url, "bridgechat")
        except NotLoopback as exc:
            print(f"bench soak: {exc}", file=sys.stderr)
            return 2
    try:
        fig = run(args)
    except RuntimeError as exc:
        print(f"bench soak failed: {exc}", file=sys.stderr)
        return 1
    return 0 if fig["errors"] == 0 else 1
