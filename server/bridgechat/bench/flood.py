"""`bridgechat bench flood`: one address floods the node; do other members notice?

Pairs of members, each from an address of its own, chat at a steady rate
while their message latency is measured: first quietly (the baseline),
then while one more address opens member connections as fast as it can.
The node should refuse that address past its limit (HTTP 429 before the upgrade) and
the chatters' latency should hardly move. Prints both phases side by side
(the ratio is what to compare: absolute times drift on a shared machine).

Loopback only; every loop is bounded in count and time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import tempfile
import time
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from bridgechat.bench.connections import start_server, stop_server
from bridgechat.bench.loopback import open_ws
from bridgechat.bench.protocols import pair_up, recv_json, say_hello, wait_matched, ws_url
from bridgechat.bench.relay_report import percentile

FLOODER = 100_000  # the flooding client's number: an address no chatter uses


class Chat:
    """Pairs chatting; each message carries its send time, read back on arrival."""

    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.lost = 0

    async def pair(self, url: str, pair: int, rate: float, until: float) -> None:
        deadline = time.monotonic() + 30
        sockets = [await open_ws(url, 2 * pair + role, open_timeout=10) for role in (0, 1)]
        try:
            for role, ws in enumerate(sockets):
                prompts = await say_hello(ws, "bridgechat", deadline)
                await pair_up(ws, "bridgechat", pair, role, prompts, deadline)
            rooms = [await wait_matched(ws, "bridgechat", pair, deadline) for ws in sockets]
            await asyncio.gather(self.talk(sockets[0], rooms[0], rate, until),
                                 self.listen(sockets[1], until + 2))
        finally:
            for ws in sockets:
                await ws.close()

    async def talk(self, ws: ClientConnection, room: str, rate: float, until: float) -> None:
        n = 0
        while time.monotonic() < until and n < 100_000:
            n += 1
            await ws.send(json.dumps({"type": "send", "room": room, "id": f"m{n}",
                                      "text": f"{time.perf_counter()!r}"}))
            await asyncio.sleep(1 / rate)

    async def listen(self, ws: ClientConnection, until: float) -> None:
        while time.monotonic() < until:
            try:
                raw = await recv_json(ws, lambda r: r.startswith('{"type":"message"'), until)
            except (TimeoutError, ConnectionClosed):
                return
            self.latencies.append(time.perf_counter() - float(json.loads(raw)["text"]))


async def flood(url: str, count: int, until: float, parallel: int) -> dict[str, int]:
    """Open up to `count` member sockets from one address; tally how each ended."""
    tally = {"admitted": 0, "refused_429": 0, "refused_503": 0, "failed": 0}
    held: list[ClientConnection] = []
    left = iter(range(count))

    async def one() -> None:
        for _ in left:
            if time.monotonic() >= until:
                return
            try:
                ws = await open_ws(url, FLOODER, open_timeout=5)
            except InvalidStatus as e:
                status = e.response.status_code
                tally[f"refused_{status}" if status in (429, 503) else "failed"] += 1
                continue
            except (OSError, InvalidHandshake, TimeoutError):
                tally["failed"] += 1
                continue
            try:
                await asyncio.wait_for(ws.recv(), 0.2)
            except TimeoutError:
                tally["admitted"] += 1  # kept open, never says hello
                held.append(ws)
                continue
            except ConnectionClosed:
                tally["failed"] += 1
                continue
            tally["failed"] += 1

    await asyncio.gather(*(one() for _ in range(parallel)))
    for ws in held:
        await ws.close()
    return tally


def flooder(url: str, count: int, seconds: float, out: Any) -> None:
    """The flood in a process of its own, so its work does not delay the chatters' clock."""
    time.sleep(3)  # while the chatters pair up
    out.send(asyncio.run(flood(url, count, time.monotonic() + seconds, 50)))


async def phase(url: str, pairs: int, rate: float, seconds: float, offset: int,
                flood_count: int) -> dict[str, Any]:
    chat = Chat()
    until = time.monotonic() + seconds + 3  # 3 s to pair up first
    tally: dict[str, int] = {}
    worker = None
    if flood_count:
        receive, send = multiprocessing.Pipe(duplex=False)
        worker = multiprocessing.Process(target=flooder, args=(url, flood_count, seconds, send))
        worker.start()
    await asyncio.gather(*(chat.pair(url, offset + p, rate, until) for p in range(pairs)))
    if worker is not None:
        if receive.poll(30):
            tally.update(receive.recv())
        worker.join(10)
        if worker.is_alive():
            worker.kill()
    xs = sorted(chat.latencies)
    return {"messages": len(xs), "p50_ms": 1000 * percentile(xs, 0.5),
            "p99_ms": 1000 * percentile(xs, 0.99), **tally}


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="bridgechat bench flood", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--pairs", type=int, default=20, help="chatting pairs, each from its own "
                   "addresses")
    p.add_argument("--rate", type=float, default=2.0, help="messages a second per pair")
    p.add_argument("--seconds", type=float, default=10.0, help="length of each phase")
    p.add_argument("--flood", type=int, default=3000,
                   help="connections the flooding address tries to open (at most)")
    p.add_argument("--connections-per-address", type=int, default=None,
                   help="the server's limit (default: its own default, 300)")
    p.add_argument("--loop", default="auto", choices=("auto", "asyncio", "uvloop"))
    p.add_argument("--json", action="store_true", help="print the figures as JSON only")
    return p


def run(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        limit = args.connections_per_address
        proc, http = start_server(Path(tmp), args.loop, [] if limit is None else
                                  ["--connections-per-address", str(limit)])
        try:
            url = ws_url(http, "bridgechat")
            quiet = asyncio.run(phase(url, args.pairs, args.rate, args.seconds, 0, 0))
            loud = asyncio.run(phase(url, args.pairs, args.rate, args.seconds, args.pairs,
                                     args.flood))
        finally:
            stop_server(proc)
    ratio = loud["p99_ms"] / quiet["p99_ms"] if quiet["p99_ms"] else float("nan")
    return {"quiet": quiet, "flood": loud, "p99_ratio": ratio, "pairs": args.pairs,
            "rate": args.rate, "seconds": args.seconds}


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    figures = run(args)
    if args.json:
        print(json.dumps(figures))
        return 0
    q, f = figures["quiet"], figures["flood"]
    print(f"{args.pairs} pairs at {args.rate}/s each, {args.seconds:g} s per phase")
    print(f"{'':24}{'quiet':>10}{'flood':>10}")
    print(f"{'messages received':24}{q['messages']:>10}{f['messages']:>10}")
    print(f"{'latency p50 (ms)':24}{q['p50_ms']:>10.1f}{f['p50_ms']:>10.1f}")
    print(f"{'latency p99 (ms)':24}{q['p99_ms']:>10.1f}{f['p99_ms']:>10.1f}")
    print(f"p99 flood / quiet: {figures['p99_ratio']:.2f}")
    print(f"flooding address: {f.get('admitted', 0)} admitted, "
          f"{f.get('refused_429', 0)} refused with 429, {f.get('refused_503', 0)} with 503, "
          f"{f.get('failed', 0)} failed")
    return 0
