"""`bridgechat bench connections`: server memory per idle connection.

Client processes open connections in steps (by default to 1,000, then
5,000, then 10,000 in all); each says hello (Bridgechat), joins under a key
nobody else uses (the bare relay) or connects to the namespace (socket.io)
and then stays idle. After each step the server's RSS from /proc, less its
RSS before the first connection, divided by the connections open, is the
memory per idle connection. Kernel socket buffers are not in RSS.

Loopback only, like `bench relay`: --url must be in 127.0.0.0/8 (or
localhost), and every connection comes from an address of its own in
127.0.0.0/8, as real members' would.

With no `--url` it starts `bridgechat serve` itself (on a fresh data dir,
with the open-file limit raised to the hard limit) and stops it at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing as mp
import os
import queue
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.request
from collections.abc import Iterator
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed, WebSocketException

from bridgechat.bench.client_procs import raise_nofile, run_loop, stop_workers, usable_cpus
from bridgechat.bench.loopback import NotLoopback, open_ws
from bridgechat.bench.process_stats import listening_pids, read_proc
from bridgechat.bench.protocols import PROTOCOLS, say_hello, ws_url

SETTLE = 2.0  # seconds between the last connection of a step and reading RSS
GATE = 100  # connections being opened at once per client process
STEP_WAIT = 120.0  # seconds a step may take, plus one for every 20 connections


async def _hold(ws: ClientConnection) -> None:
    """Answer engine.io pings; ignore everything else; end with the connection."""
    with contextlib.suppress(ConnectionClosed):
        async for raw in ws:
            if raw == "2":
                await ws.send("3")


async def _client(wid: int, procs: int, url: str, protocol: str, steps: int, idle: float,
                  conn: Connection, out: Any) -> None:
    """Hold as many connections as each ("open", n) says, at most `steps` times; end on
    ("stop",) or after `idle` seconds without a command."""
    held: list[tuple[ClientConnection, asyncio.Task[None]]] = []
    loop = asyncio.get_running_loop()
    serial = 0

    async def open_one(gate: asyncio.Semaphore) -> bool:
        nonlocal serial
        serial += 1
        client = (serial - 1) * procs + wid  # its own loopback address among all workers'
        key = f"idle-{wid}-{serial}-{os.getpid()}"
        async with gate:
            try:
                ws = await open_ws(url, client, open_timeout=10)
            except (OSError, TimeoutError, WebSocketException):
                return False
            try:
                await say_hello(ws, protocol, time.monotonic() + 20, key)
            except (OSError, TimeoutError, RuntimeError, WebSocketException):
                await ws.close()
                return False
            held.append((ws, asyncio.create_task(_hold(ws))))
            return True

    for _ in range(steps):
        if not await loop.run_in_executor(None, conn.poll, idle):
            break
        cmd = conn.recv()
        if cmd[0] != "open":
            break
        want, started = int(cmd[1]), time.monotonic()
        gate = asyncio.Semaphore(GATE)
        oks = await asyncio.gather(*(open_one(gate) for _ in range(want - len(held))))
        for ws, task in held[want:]:
            await ws.close()
            task.cancel()
        del held[want:]
        alive = sum(1 for ws, _ in held if ws.close_code is None)
        out.put(("opened", wid, alive, oks.count(False), time.monotonic() - started))
    await asyncio.gather(*(asyncio.wait_for(ws.close(), 5) for ws, _ in held),
                         return_exceptions=True)
    for _, task in held:
        task.cancel()


def _worker(wid: int, procs: int, url: str, protocol: str, steps: int, idle: float,
            use_uvloop: bool, conn: Connection, out: Any) -> None:
    raise_nofile()
    try:
        run_loop(_client(wid, procs, url, protocol, steps, idle, conn, out), use_uvloop)
    except BaseException:
        out.put(("failed", wid, traceback.format_exc()))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(data_dir: Path, loop: str, extra: list[str]) -> tuple[subprocess.Popen[bytes],
                                                                        str]:
    """`bridgechat serve` on a free loopback port, ready within 30 s."""
    port = _free_port()
    log = open(data_dir / "server.log", "ab")  # noqa: SIM115 - handed to the child
    proc = subprocess.Popen(
        [sys.executable, "-m", "bridgechat", "serve", "--host", "127.0.0.1", "--port", str(port),
         "--data-dir", str(data_dir / "data"), "--loop", loop, *extra],
        stdout=log, stderr=subprocess.STDOUT, preexec_fn=raise_nofile)
    log.close()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited early; see {data_dir / 'server.log'}")
        with contextlib.suppress(OSError), urllib.request.urlopen(url + "/healthz", timeout=1):
            return proc, url
        time.sleep(0.1)
    stop_server(proc)
    raise RuntimeError("server not ready in 30 s")


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


@contextlib.contextmanager
def a_server(args: argparse.Namespace, protocol: str, prefix: str
             ) -> Iterator[tuple[str, int, subprocess.Popen[bytes] | None]]:
    """(ws:// URL, server pid, the process if started here): `--url`'s server, its pid from
    `--server-pid` or whoever listens on its port; else one started here (`--loop`,
    `--serve-arg`) in a temporary data dir, stopped and removed on the way out."""
    with contextlib.ExitStack() as stack:
        server: subprocess.Popen[bytes] | None = None
        if args.url is None:
            # tmpfs when there is one: hello writes a member row, and this is not about disk.
            tmp = stack.enter_context(tempfile.TemporaryDirectory(
                prefix=prefix, dir="/dev/shm" if os.path.isdir("/dev/shm") else None))
            server, url = start_server(Path(tmp), args.loop, args.serve_arg)
            stack.callback(stop_server, server)
            pid: int | None = server.pid
        else:
            url, pid = args.url, args.server_pid
            if pid is None:
                found = listening_pids(urlsplit(ws_url(url, protocol)).port or 0)
                pid = found[0] if found else None
        if pid is None:
            raise RuntimeError("cannot tell which process is the server: pass --server-pid")
        yield ws_url(url, protocol), pid, server


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="bridgechat bench connections", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--counts", default="1000,5000,10000",
                   help="connections open in all at each step, ascending")
    p.add_argument("--url", default=None, help="a running server (default: start one)")
    p.add_argument("--server-pid", type=int, default=None,
                   help="with --url: the process to read RSS of (default: the listener)")
    p.add_argument("--protocol", choices=PROTOCOLS, default="bridgechat")
    p.add_argument("--loop", choices=("asyncio", "uvloop"), default="asyncio",
                   help="event loop of the server this starts")
    p.add_argument("--serve-arg", action="append", default=[],
                   help="extra flag for the server this starts (repeatable)")
    p.add_argument("--procs", type=int, default=usable_cpus())
    p.add_argument("--label", default=None)
    p.add_argument("--json", default=None, help="also write the figures to this file")
    return p


def run(args: argparse.Namespace) -> dict[str, Any]:
    counts = sorted({int(c) for c in args.counts.split(",") if c.strip()})
    limit = raise_nofile()
    per_proc = -(-counts[-1] // max(1, args.procs))
    if per_proc + 64 > limit:
        raise RuntimeError(f"open-file limit {limit} is too low for {per_proc} connections "
                           "per client process; raise --procs or the hard limit")
    with a_server(args, args.protocol, "bench-conn-") as (url, pid, _):
        return measure(args, url, pid, counts)


def measure(args: argparse.Namespace, url: str, pid: int, counts: list[int]
            ) -> dict[str, Any]:
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    procs = max(1, args.procs)
    steps = len(counts) + 3  # the warm-up, back to none, each count, and "stop"
    idle = STEP_WAIT + counts[-1] / 20 + SETTLE + 60  # longest a worker waits for a command
    workers: list[tuple[Any, Connection]] = []
    for wid in range(procs):
        mine, theirs = ctx.Pipe()
        proc = ctx.Process(target=_worker, args=(wid, procs, url, args.protocol, steps, idle,
                                                 args.loop == "uvloop", theirs, out),
                           daemon=True)
        proc.start()
        workers.append((proc, mine))

    def step(total: int, timeout: float) -> tuple[int, int, float]:
        """Each client holds its share of `total`; (open, failed, seconds)."""
        for wid, (_, pipe) in enumerate(workers):
            pipe.send(("open", total // procs + (1 if wid < total % procs else 0)))
        got: dict[int, tuple[int, int, float]] = {}
        deadline = time.monotonic() + timeout
        while len(got) < procs and time.monotonic() < deadline:
            try:
                item = out.get(timeout=1.0)
            except queue.Empty:
                continue
            if item[0] == "failed":
                raise RuntimeError(f"client worker {item[1]} failed:\n{item[2]}")
            got[item[1]] = item[2:5]
        if len(got) < procs:
            raise RuntimeError(f"clients did not open {total} connections in {timeout:.0f} s")
        return (sum(g[0] for g in got.values()), sum(g[1] for g in got.values()),
                max(g[2] for g in got.values()))

    rows: list[dict[str, float]] = []
    try:
        step(min(50, counts[0]), STEP_WAIT)  # warm up lazy imports, pools and caches
        step(0, 60)
        time.sleep(SETTLE)
        base = read_proc(pid)
        if base is None:
            raise RuntimeError(f"cannot read /proc/{pid}")
        print(f"bench connections: {args.label or args.protocol} at {url}, server pid {pid}, "
              f"RSS before {base.rss / 2**20:.1f} MiB")
        print(f"{'connections':>11} {'open':>6} {'failed':>6} {'RSS MiB':>8} {'delta MiB':>9} "
              f"{'KiB/conn':>8} {'open s':>7} {'server CPU s':>12}")
        before = base
        for total in counts:
            held, failed, secs = step(total, STEP_WAIT + total / 20)
            time.sleep(SETTLE)
            now = read_proc(pid)
            if now is None:
                raise RuntimeError("the server exited")
            delta = now.rss - base.rss
            row = {"connections": total, "open": held, "failed": failed,
                   "rss_mib": now.rss / 2**20, "delta_mib": delta / 2**20,
                   "kib_per_conn": delta / 1024 / max(1, held), "open_s": secs,
                   "cpu_s": now.cpu - before.cpu}
            before = now
            rows.append(row)
            print(f"{total:>11} {held:>6} {failed:>6} {row['rss_mib']:>8.1f} "
                  f"{row['delta_mib']:>9.1f} {row['kib_per_conn']:>8.1f} {secs:>7.1f} "
                  f"{row['cpu_s']:>12.2f}", flush=True)
    finally:
        stop_workers(workers, 30)
    fig = {"label": args.label or args.protocol, "protocol": args.protocol,
           "loop": args.loop, "rows": rows}
    if args.json:
        Path(args.json).write_text(json.dumps(fig, indent=2) + "\n")
    return fig


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    try:
        counts = [int(c) for c in args.counts.split(",") if c.strip()]
    except ValueError:
        counts = []
    if not counts or min(counts) < 1:
        print("--counts must list whole numbers above zero", file=sys.stderr)
        return 2
    if args.url is not None:
        try:
            ws_url(args.url, args.protocol)
        except NotLoopback as exc:
            print(f"bench connections: {exc}", file=sys.stderr)
            return 2
    try:
        fig = run(args)
    except RuntimeError as exc:
        print(f"bench connections failed: {exc}", file=sys.stderr)
        return 1
    ok = all(r["open"] == r["connections"] and not r["failed"] for r in fig["rows"])
    return 0 if ok else 1
