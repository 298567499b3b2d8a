"""Faults under load: Redis killed and restarted, then a node killed, while pairs chat.

Two nodes share a real redis-server (persistence off, as deployed). Pairs
of members, one on each node, chat at a steady rate; each member follows
the protocol (docs/protocol.md): it sends with a fresh `id`, counts a
message as sent once its `ack` arrives, and when its socket drops it says
`hello` with its token again (to the other node when its own is gone,
with whatever backoff that takes) and sends `resume` with the last seq it
saw. A message that gets an `error` instead of an `ack` was not sent, and
nothing is expected of it.

Faults, each while the load runs: Redis is killed (SIGKILL: it comes back
empty) and started again on the same port; once both nodes are ready, node
one is killed (SIGKILL) and its members move to node two; node one is then
started again.

The figure: messages acknowledged to their sender that never reached the
partner (live or by `resume`) once the members had the recovery window to
catch up: must be 0. The window is the grace period (`--grace-period`, 60 s
in docs/protocol.md) for a member to come back, plus the nodes' time to
notice Redis again (their backoff, at most 10 s); the test waits at most
that long. Every wait is bounded.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from cluster_util import RedisServer, http_status, redis_binary, wait_status
from conftest import LiveServer
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from wsclient import DIVIDE_A, DIVIDE_B

pytestmark = pytest.mark.skipif(
    redis_binary() is None,
    reason="redis-server is not installed (apt-get install redis-server; CI installs it)")

PAIRS = 6
EVERY = 0.25  # seconds between one member's messages (the limit is 5 a second)
GRACE = 60.0  # --grace-period, as documented
READY_WAIT = 30.0  # a node notices Redis again within its backoff (at most 10 s)
CATCH_UP = 20.0  # after the last fault, time for every acknowledged message to arrive
_addresses = itertools.count(1)


def address() -> str:
    n = next(_addresses)
    return f"127.88.{n // 254 % 254}.{n % 254 + 1}"


@dataclass
class Chatter:
    """One member who follows the protocol, across reconnections."""

    name: str
    node: int
    urls: list[str]
    ws: ClientConnection | None = None
    token: str | None = None
    room: str = ""
    alias: str = ""
    partner: Chatter | None = None
    heard: dict[int, str] = field(default_factory=dict)  # seq -> text, from the partner
    twice: list[int] = field(default_factory=list)  # seqs heard again, outside a replay
    acked: dict[str, tuple[int, str, float]] = field(default_factory=dict)  # id -> seq, text, t
    unanswered: dict[str, str] = field(default_factory=dict)  # id -> text
    refused: list[str] = field(default_factory=list)  # error codes for sends
    incomplete: list[dict[str, Any]] = field(default_factory=list)  # resumed complete: false
    closed: list[dict[str, Any]] = field(default_factory=list)
    reconnects: int = 0
    welcome: dict[str, Any] = field(default_factory=dict)
    replaying: bool = False
    frames: asyncio.Queue[dict[str, Any]] = field(default_factory=asyncio.Queue)

    def last_seq(self) -> int:
        """Where to resume (docs/protocol.md, `resume`): the highest seq with every one
        before it known, own or heard; a message lost on the way leaves a gap there."""
        known = {*self.heard, *(a[0] for a in self.acked.values())}
        n = 0
        while n + 1 in known:
            n += 1
        return n

    def take(self, f: dict[str, Any]) -> None:
        kind = f.get("type")
        if kind == "message" and f.get("room") == self.room:
            if f["seq"] in self.heard and not self.replaying:
                self.twice.append(f["seq"])
            self.heard[f["seq"]] = f["text"]
        elif kind == "ack":
            text = self.unanswered.pop(f["id"], None)
            if text is not None:
                self.acked[f["id"]] = (f["seq"], text, time.monotonic())
        elif kind == "error" and f.get("ref") in self.unanswered:
            self.unanswered.pop(f["ref"])
            self.refused.append(str(f.get("code")))
        elif kind == "closed":
            self.closed.append(f)
        elif kind == "resumed" and f.get("complete") is False:
            self.incomplete.append(f)

    async def read(self, ws: ClientConnection) -> None:
        with contextlib.suppress(ConnectionClosed):
            async for raw in ws:
                f = json.loads(raw)
                self.take(f)
                self.frames.put_nowait(f)

    async def until(self, kind: str, wait: float) -> dict[str, Any]:
        deadline = time.monotonic() + wait
        while (left := deadline - time.monotonic()) > 0:
            with contextlib.suppress(TimeoutError):
                f = await asyncio.wait_for(self.frames.get(), left)
                if f.get("type") == kind or (f.get("type") == "error" and kind != "ack"
                                             and "ref" not in f):
                    return f
        raise TimeoutError(f"{self.name}: no {kind} within {wait} s")

    async def connect(self, node: int, wait: float = 5.0) -> None:
        ws = await connect(self.urls[node], local_addr=(address(), 0), open_timeout=wait,
                           close_timeout=2, compression=None, ping_interval=None)
        self.ws, self.node = ws, node
        self.frames = asyncio.Queue()
        asyncio.get_running_loop().create_task(self.read(ws))
        await ws.send(json.dumps({"type": "hello", "v": 1, "token": self.token}))
        welcome = await self.until("welcome", wait)
        assert welcome["type"] == "welcome", f"{self.name}: hello refused: {welcome}"
        self.welcome = welcome
        self.token = self.token or welcome["token"]
        if self.room:
            assert self.room in [r["room"] for r in welcome.get("rooms", [])], (
                f"{self.name}: room {self.room} not in welcome after a reconnect: {welcome}")

    async def come_back(self, alive: Callable[[int], bool], until: float) -> None:
        """Reconnect (own node first, else the other), then resume after the last seq seen."""
        self.reconnects += 1
        delay = 0.1
        while time.monotonic() < until:
            for node in (self.node, 1 - self.node):
                if not alive(node):
                    continue
                try:
                    await self.connect(node)
                    await self.resume()
                    return
                except (OSError, TimeoutError, ConnectionClosed, AssertionError):
                    if self.ws is not None:
                        await self.ws.close()
            await asyncio.sleep(delay)
            delay = min(2 * delay, 2.0)
        raise AssertionError(f"{self.name} could not reconnect in time")

    async def resume(self) -> None:
        assert self.ws is not None
        self.replaying = True
        try:
            for _ in range(50):  # a page at a time
                await self.ws.send(json.dumps({"type": "resume", "room": self.room,
                                               "after": self.last_seq()}))
                done = await self.until("resumed", 10.0)
                assert done["type"] == "resumed", f"{self.name}: resume refused: {done}"
                if not done.get("more"):
                    return
        finally:
            self.replaying = False

    async def say(self) -> None:
        id_ = uuid.uuid4().hex[:16]
        text = f"{self.name} {len(self.acked)} {id_}"
        self.unanswered[id_] = text
        assert self.ws is not None
        await self.ws.send(json.dumps({"type": "send", "room": self.room, "id": id_,
                                       "text": text}))


async def pair_up(a: Chatter, b: Chatter, prompt_index: int, lang: str) -> None:
    for m, profile in ((a, DIVIDE_A), (b, DIVIDE_B)):
        await m.connect(m.node)
        assert m.ws is not None
        prompts = m.welcome["prompts"]
        await m.ws.send(json.dumps({"type": "join", "languages": [lang], "profile": profile,
                                    "prompts": [prompts[prompt_index % len(prompts)]["id"]]}))
    for m, other in ((a, b), (b, a)):
        matched = await m.until("matched", 20.0)
        assert matched["type"] == "matched", matched
        m.room, m.alias, m.partner = matched["room"], matched["you"], other
    assert a.room == b.room


class Load:
    """Every member sends every EVERY seconds while `on`; drops are followed by a comeback."""

    def __init__(self, members: list[Chatter], nodes: list[LiveServer]) -> None:
        self.members = members
        self.nodes = nodes
        self.on = True
        self.tasks: list[asyncio.Task[None]] = []
        self.comebacks: list[str] = []

    def alive(self, node: int) -> bool:
        proc = self.nodes[node].proc
        return proc is not None and proc.poll() is None

    async def run(self, m: Chatter, stop_at: float) -> None:
        await asyncio.sleep(EVERY * self.members.index(m) / len(self.members))
        while self.on and time.monotonic() < stop_at:
            assert m.ws is not None
            try:
                await m.say()
                await asyncio.sleep(EVERY)
                if m.ws.close_code is not None:
                    raise ConnectionClosed(None, None)
            except ConnectionClosed:
                self.comebacks.append(m.name)
                await m.come_back(self.alive, time.monotonic() + GRACE)

    def start(self, stop_at: float) -> None:
        self.tasks = [asyncio.create_task(self.run(m, stop_at)) for m in self.members]

    async def stop(self) -> None:
        self.on = False
        await asyncio.gather(*self.tasks)


async def wait_ready(node: LiveServer) -> None:
    await asyncio.to_thread(wait_status, node.url + "/readyz", 200, READY_WAIT)


def lost_messages(members: list[Chatter], faults: dict[str, float]) -> list[str]:
    """Acknowledged to the sender, never heard by the partner: one line each, which
    begins with the last fault before its ack."""
    lines = []
    for m in members:
        assert m.partner is not None
        for id_, (seq, text, at) in sorted(m.acked.items(), key=lambda kv: kv[1][0]):
            if m.partner.heard.get(seq) != text:
                after = max(((t, name) for name, t in faults.items() if t <= at),
                            default=(0.0, "no fault"))[1]
                when = ", ".join(f"{at - t:+.2f} s from {name}" for name, t in faults.items())
                lines.append(f"after {after}: {m.name} seq {seq} id {id_} (acked {when}); "
                             f"partner heard {m.partner.heard.get(seq)!r} at that seq")
    return lines


async def test_acknowledged_messages_survive_redis_and_node_restarts(
        make_server: Callable[..., LiveServer], redis_server: RedisServer,
        tmp_path: Path) -> None:
    shared = tmp_path / "shared-data"
    flags = ("--redis", redis_server.url, "--grace-period", str(int(GRACE)))
    nodes = [make_server(*flags, data_dir=shared), make_server(*flags, data_dir=shared)]
    urls = [n.ws_url for n in nodes]
    members: list[Chatter] = []
    for i in range(PAIRS):
        a, b = Chatter(f"p{i}a", 0, urls), Chatter(f"p{i}b", 1, urls)
        await pair_up(a, b, i, f"f{chr(ord('a') + i)}")
        members += [a, b]
    load = Load(members, nodes)
    faults: dict[str, float] = {}
    load.start(time.monotonic() + 120)
    try:
        await asyncio.sleep(3)
        faults["redis kill"] = time.monotonic()
        redis_server.kill()
        await asyncio.sleep(2)
        redis_server.start()
        faults["redis start"] = time.monotonic()
        for n in nodes:
            await wait_ready(n)
        await asyncio.sleep(4)
        faults["node kill"] = time.monotonic()
        nodes[0].kill()
        await asyncio.sleep(4)
        nodes[0].start()
        faults["node start"] = time.monotonic()
        await wait_ready(nodes[0])
        await asyncio.sleep(3)
    finally:
        await load.stop()
    # Catch up: the last answers come in, the members' partners hear the last messages.
    for _ in range(int(CATCH_UP / 0.2)):
        if not (lost_messages(members, faults) or any(m.unanswered for m in members)):
            break
        await asyncio.sleep(0.2)
    acked = sum(len(m.acked) for m in members)
    lost = lost_messages(members, faults)
    by_fault = Counter(line.split(":", 1)[0] for line in lost)
    report = (f"{acked} messages acknowledged, {len(lost)} never delivered {dict(by_fault)}; "
              f"{sum(len(m.refused) for m in members)} refused "
              f"({sorted(set(c for m in members for c in m.refused))}), "
              f"{sum(len(m.unanswered) for m in members)} never answered, "
              f"{len(load.comebacks)} reconnections, "
              f"{sum(len(m.incomplete) for m in members)} incomplete resumes, "
              f"{sum(len(m.twice) for m in members)} messages heard twice")
    print(report)
    for m in members:
        if m.ws is not None:
            await m.ws.close()
    assert acked > PAIRS * 2 * 20, report
    assert not [m.closed for m in members if m.closed], "rooms were closed"
    assert http_status(nodes[1].url + "/healthz") == 200
    assert not lost, report + "\n" + "\n".join(lost[:200])
