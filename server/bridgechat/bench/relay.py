"""`bridgechat bench relay`: a load generator that speaks the real protocol.

Pairs of members say hello, join one prompt and language of their own with
opposite profiles (so each pair is matched with itself on the next tick),
then send `send` frames at a fixed total rate (`--rate`, open loop) or as
fast as delivery allows (`--rate 0`, `--window` messages in flight per
member). Every text carries its send time on the shared monotonic clock,
so the receiving member's process measures send-to-delivery latency. The
clients are spread over `--procs` processes; each runs its share of pairs.

A node's bot barrier (`--bot-barrier`) is met as a member's page meets it:
each `challenge` is solved (altcha's solver, in the client process) and the
join sent again with its proof. That lengthens the setup, never the measured
window; with `auto` and many pairs the cost rises with the joins a minute, so
for large runs raise the node's `--bot-barrier-per-minute` or set `off`.

Loopback only: every --url must be in 127.0.0.0/8 (or localhost), and
each member connects from an address of its own in 127.0.0.0/8, so the
server's per-address limits apply as they would to real members.

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
import queue
import sys
import time
from collections import Counter
from typing import Any
from urllib.parse import urlsplit

from bridgechat.bench.client_procs import (
    raise_nofile,
    spawn,
    split,
    stop_workers,
    usable_cpus,
)
from bridgechat.bench.loopback import NotLoopback
from bridgechat.bench.process_stats import listening_pids, machine_ticks, read_proc
from bridgechat.bench.protocols import PROTOCOLS, ws_url
from bridgechat.bench.relay_load import DRAIN, Job, worker
from bridgechat.bench.relay_report import summarise


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
    p.add_argument("--text", choices=("pad", "chat"), default="pad",
                   help="pad: the send time in digits, then x's (a long number in every "
                        "message); chat: ordinary sentences, the send time in letters")
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
    out, workers = spawn(worker, [
        Job(wid, args.protocol, urls, first, n, args.rate * n / args.pairs, args.window,
            args.size, args.origin, args.setup_timeout, args.client_loop == "uvloop", args.text)
        for wid, (first, n) in enumerate(split(args.pairs, procs))])

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


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    if args.pairs < 1 or args.duration <= 0 or args.rate < 0 or args.window < 1:
        print("--pairs, --duration and --window must be positive, --rate at least 0",
              file=sys.stderr)
        return 2
    try:
        for url in args.url:
            ws_url(url, args.protocol)
    except NotLoopback as exc:
        print(f"bench relay: {exc}", file=sys.stderr)
        return 2
    try:
        fig = run(args)
    except RuntimeError as exc:
        print(f"bench relay failed: {exc}", file=sys.stderr)
        return 1
    return 0 if fig["errors"] == 0 else 1
