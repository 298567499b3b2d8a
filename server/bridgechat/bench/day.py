"""`bridgechat bench day`: a conversation day, end to end, against running nodes.

N simulated members, with varied profiles (the `day` pool of `bench matching
--batch`: partial profiles, several languages, stances, popular and rare
prompts), sign up for an event over HTTP, enter its lobby over WebSockets
spread over every `--url` (member i on node i mod the count), wait for the
start, and chat in every room that opens. It reports what the issue asks of
a day: the time from the start to the last room opened, the share of present
members matched (and of the others, how many were told why within 10 s), the
share of rooms crossing two divides or more, message latency p50/p99, lost
messages, errors, and each node's CPU seconds and memory.

The event is `--event SLUG` (made beforehand, e.g. `bridgechat event create`),
or one this command creates through the moderators' API as `--admin`, with
the password read from `--password-file`, starting `--starts-in` seconds on.

Loopback only, as every benchmark here: each member connects from an address
of its own in 127.0.0.0/8. Crossing is worked out with the matcher's own
scoring (bridgechat.matching) from the answers each member signed up with,
so it is exact for the default deck; with another deck, pass it as `--deck`.
"""

from __future__ import annotations

import argparse
import asyncio
import queue
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from bridgechat.bench.client_procs import (
    raise_nofile,
    spawn,
    split,
    stop_workers,
    usable_cpus,
)
from bridgechat.bench.day_members import DRAIN, DayJob, worker
from bridgechat.bench.day_report import summarise
from bridgechat.bench.loopback import NotLoopback
from bridgechat.bench.matching_pool import DAY, make_pool
from bridgechat.bench.process_stats import listening_pids, read_proc
from bridgechat.bench.protocols import ws_url
from bridgechat.deck_file import load_deck
from bridgechat.matching import Ticket

EVENT_PROMPTS = 6  # the deck's first prompts an event made here offers
EVENT_LANGUAGE = "en"


def http_base(url: str) -> str:
    """http://host:port of a node URL, its host checked to be loopback."""
    parts = urlsplit(ws_url(url, "bridgechat"))
    return f"{'https' if parts.scheme == 'wss' else 'http'}://{parts.netloc}"


def body_of(t: Ticket, prompts: list[str]) -> dict[str, Any]:
    """A sign-up's answers from a generated ticket (mode and size are the event's). Every
    member also speaks the event's language (English here): someone who shares no language
    with anyone present can never be matched, and the day's figure is about the batch."""
    chosen = [p for p in t.prompts if p in prompts] or [prompts[0]]
    spoken = list(dict.fromkeys((*t.languages, EVENT_LANGUAGE)))
    return {"prompts": chosen, "languages": spoken,
            "learning": [x for x in t.learning if x not in spoken],
            "profile": dict(t.profile), "lang": EVENT_LANGUAGE,
            "stances": {p: s for p, s in t.stances if p in chosen}}


async def create_event(base: str, origin: str, admin: str, password: str, starts_in: float,
                       prompts: list[str]) -> str:
    """Sign in as an admin and announce an event starting `starts_in` seconds from now."""
    slug = f"bench-day-{uuid.uuid4().hex[:8]}"
    at = (datetime.now(UTC) + timedelta(seconds=starts_in)).replace(microsecond=0)
    headers = {"Origin": origin}
    # unsafe: keep the session cookie of a server named by its IP address (loopback here).
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        async with http.post(f"{base}/api/moderator/login", headers=headers,
                             json={"username": admin, "password": password}) as resp:
            answer = await resp.json(content_type=None)
            if resp.status != 200:
                raise RuntimeError(f"sign-in refused: {answer.get('error')}")
            headers["X-CSRF-Token"] = answer["csrf"]
        async with http.post(f"{base}/api/events", headers=headers, json={
                "slug": slug, "title": {"en": "Bench day"}, "starts": at.isoformat(),
                "tz": "UTC", "length_min": 30, "prompts": prompts}) as resp:
            answer = await resp.json(content_type=None)
            if resp.status != 201:
                raise RuntimeError(f"event refused: {answer.get('error')}: "
                                   f"{answer.get('message')}")
    return slug


async def event_info(base: str, slug: str) -> dict[str, Any]:
    async with aiohttp.ClientSession() as http, http.get(f"{base}/api/e/{slug}") as resp:
        answer: dict[str, Any] = await resp.json(content_type=None)
        if resp.status != 200:
            raise RuntimeError(f"no event {slug!r}: {answer.get('error')}")
        return answer


def when(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="bridgechat bench day", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--members", type=int, default=1000)
    p.add_argument("--url", action="append", required=True,
                   help="a node's URL (repeat for several nodes)")
    p.add_argument("--event", default=None, help="an existing event's slug")
    p.add_argument("--admin", default=None, help="create the event as this admin")
    p.add_argument("--password-file", type=Path, default=None,
                   help="the admin's password (first line)")
    p.add_argument("--starts-in", type=float, default=None,
                   help="seconds from now to the start of an event made here "
                        "(default: 30 + members / 40)")
    p.add_argument("--match-wait", type=float, default=10.0,
                   help="seconds after the start within which a member must have a room or "
                        "a reason")
    p.add_argument("--chat-seconds", type=float, default=20.0)
    p.add_argument("--message-every", type=float, default=2.0)
    p.add_argument("--origin", default=None,
                   help="Origin header (default: each node's own URL; behind a proxy, the "
                        "public URL, e.g. http://127.0.0.1:8080 for deploy/local-cluster.sh)")
    p.add_argument("--procs", type=int, default=usable_cpus())
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--deck", type=Path, default=None)
    p.add_argument("--server-pid", type=int, action="append", default=[],
                   help="another process to report CPU and memory of (Redis, PostgreSQL)")
    p.add_argument("--setup-timeout", type=float, default=120.0)
    p.add_argument("--client-loop", choices=("asyncio", "uvloop"), default="asyncio")
    p.add_argument("--json", default=None, help="also write the figures to this file")
    p.add_argument("--quiet", action="store_true")
    return p


def run(args: argparse.Namespace) -> dict[str, Any]:
    raise_nofile()
    bases = [http_base(u) for u in args.url]
    wss = tuple(ws_url(u, "bridgechat") for u in args.url)
    deck = load_deck(args.deck)
    origin = args.origin or bases[0]

    def say(line: str) -> None:
        if not args.quiet:
            print(line, file=sys.stderr, flush=True)

    slug = args.event
    if slug is None:
        password = args.password_file.read_text().splitlines()[0]
        starts_in = args.starts_in if args.starts_in is not None else 30 + args.members / 40
        slug = asyncio.run(create_event(bases[0], origin, args.admin, password, starts_in,
                                        [p.id for p in deck.prompts[:EVENT_PROMPTS]]))
        say(f"event {slug} starts in {starts_in:.0f} s")
    info = asyncio.run(event_info(bases[0], slug))
    starts, prompts = when(info["starts"]), [p["id"] for p in info["prompts"]]
    pool = make_pool(DAY, args.members, args.seed, prompts, deck.dimensions)
    bodies = [body_of(t, prompts) for t in pool.tickets]
    nodes = {b: listening_pids(urlsplit(b).port or 80) for b in bases}
    procs = max(1, min(args.procs, args.members))
    out, workers = spawn(worker, [
        DayJob(wid, tuple(bases), wss, slug, first, bodies[first:first + n], starts,
               args.match_wait, args.chat_seconds, args.message_every, args.origin,
               args.setup_timeout, args.client_loop == "uvloop")
        for wid, (first, n) in enumerate(split(args.members, procs))])

    def take(deadline: float) -> tuple[Any, ...] | None:
        try:
            item: tuple[Any, ...] = out.get(timeout=max(0.05, min(1.0, deadline - time.time())))
        except queue.Empty:
            return None
        if item[0] == "failed":
            raise RuntimeError(f"client worker {item[1]} failed:\n{item[2]}")
        return item

    watch = [pid for pids in nodes.values() for pid in pids] + args.server_pid
    try:
        ready: dict[int, int] = {}
        began = time.time()
        deadline = max(starts, began + args.setup_timeout) + 30
        progress: dict[int, tuple[int, int, int]] = {}
        while len(ready) < len(workers) and time.time() < deadline:
            item = take(deadline)
            if item is not None and item[0] == "ready":
                ready[item[1]] = item[2]
            elif item is not None and item[0] == "progress":
                progress[item[1]] = item[2:5]
                if len(progress) == len(workers) and item[1] == 0:
                    done = [sum(p[i] for p in progress.values()) for i in range(3)]
                    say(f"[{time.time() - began:5.1f} s] signed up {done[0]}, connected "
                        f"{done[1]}, in the lobby {done[2]}")
        if len(ready) < len(workers):
            raise RuntimeError("client workers did not get ready in time")
        entered = sum(ready.values())
        say(f"{entered} of {args.members} members in the lobby after "
            f"{time.time() - began:.1f} s; the start is in {starts - time.time():.1f} s")
        if time.time() > starts:
            say("warning: the start came before everyone was in the lobby "
                "(raise --starts-in)")
        before = {pid: read_proc(pid) for pid in watch}
        results: dict[int, dict[str, Any]] = {}
        deadline = starts + args.match_wait + args.chat_seconds + DRAIN + 60
        while len(results) < len(workers) and time.time() < deadline:
            item = take(deadline)
            if item is not None and item[0] == "result":
                results[item[1]] = item[2]
        after = {pid: read_proc(pid) for pid in watch}
        if len(results) < len(workers):
            raise RuntimeError("client workers did not report in time")
    finally:
        stop_workers(workers, 10)
    return summarise(args, starts, results, pool.tickets, deck.dimensions, nodes,
                     before, after)


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    if args.members < 2 or args.chat_seconds < 0 or args.message_every <= 0:
        print("--members must be at least 2, --message-every positive", file=sys.stderr)
        return 2
    if args.event is None and (args.admin is None or args.password_file is None):
        print("bench day: name an --event, or an --admin and --password-file to create one",
              file=sys.stderr)
        return 2
    try:
        for url in args.url:
            http_base(url)
    except NotLoopback as exc:
        print(f"bench day: {exc}", file=sys.stderr)
        return 2
    try:
        fig = run(args)
    except (RuntimeError, OSError, aiohttp.ClientError) as exc:
        print(f"bench day failed: {exc}", file=sys.stderr)
        return 1
    ok = fig["errors"] == 0 and fig["lost"] == 0 and fig["matched_share"] == 1.0
    return 0 if ok else 1
