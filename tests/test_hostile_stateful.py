"""A stateful property test: random sequences of valid and hostile frames against a live server.

Each sequence (a hypothesis example) gets a fresh well-behaved pair A and B,
matched in room R, and a hostile member H, matched in room R2 with a quiet
partner K who only reads; and a stranger S who connects only when a hostile
action needs it. Its actions, in a random order:

- A or B send (a new id each time), resend an earlier id, type, `resume`
  after the last message seen, drop their socket while the partner sends and
  come back with their token and `resume`, or replace their connection by a
  new one (the old one is closed with 4001);
- H or S send frames fuzzed from every client frame type (wrong fields, wrong
  rooms, other members' rooms, junk values, lone surrogates, invisible and
  over-long texts), raw junk (bad JSON, binary, deep nesting, over 16 KiB,
  over 64 KiB, invalid UTF-8), bursts of sends and of bad frames; H drops and
  comes back; S says hello, perhaps with H's token.

After every sequence these must hold (the invariants of issue 16):
- no crash: the server process is alive, `/healthz` answers 200, and its log
  has no traceback;
- every frame any member receives is a JSON text object with a string `type`
  that docs/protocol.md names, and every `error` has a `code` from the table
  in docs/protocol.md and a plain-words `message`; the server closes a
  connection only with a code that the frames sent on it call for;
- nothing lost or duplicated for members who follow the protocol: each of A
  and B receives every acknowledged message of the other exactly once, in
  order of seq, with the text sent; a resend is acknowledged with its first
  seq and never relayed twice; distinct messages get distinct seqs; `resume`
  replays exactly what was missed; K receives H's acknowledged messages once
  each, in order;
- other members unaffected: A and B get no error, nothing from anyone but
  each other, no `closed`, and still chat both ways at the end.

Members are fresh for each sequence and come from a pool matched in batches
(one matching tick for many pairs). Every connection comes from a loopback
address of its own, so the server's per-address limits do not come into it.
Every wait is bounded.
"""

from __future__ import annotations

import asyncio
import itertools
import re
import urllib.request
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import ROOT, LiveServer
from hostile_peer import Peer, Watch, junk_frames, next_address, raw_payloads
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from wsclient import DIVIDE_A, DIVIDE_B, marker

WAIT = 5.0  # bound on every wait for an answer
BATCH = 12  # pairs matched at once when the pool runs dry
# Languages of the pool's pairs; hostile joins use "zz" and "zy" (hostile_peer.LANGS), so a
# hostile member waiting in the queue is never matched with a pool member.
POOL_LANGS = [a + b for a in "abcdefghijklmnopqrstuvwxy" for b in "abcdefghijklmnopqrstuvwxyz"]


def documented_error_codes() -> frozenset[str]:
    """The codes in the table under "## Error codes" in docs/protocol.md."""
    text = (ROOT / "docs" / "protocol.md").read_text(encoding="utf-8")
    table = text.split("## Error codes", 1)[1].split("\n## ", 1)[0]
    codes = frozenset(re.findall(r"^\| `([a-z_]+)` \|", table, re.M))
    assert "bad_json" in codes and "rate_limited" in codes, "error table not found"
    return codes


class Harness:
    """One event loop for the whole module, the live server, and a pool of matched pairs."""

    def __init__(self, server: LiveServer) -> None:
        self.server = server
        self.runner = asyncio.Runner()
        self.watch = Watch(documented_error_codes())
        self.combos = itertools.count()
        self.pool: list[tuple[Peer, Peer]] = []
        self.log_at = len(server.log())

    def peer(self, name: str, hostile: bool = False) -> Peer:
        return Peer(name, self.server.ws_url, next_address, self.watch, hostile)

    async def refill(self) -> None:
        """BATCH new pairs, each on a prompt and language of its own, matched on one tick."""
        peers = [self.peer(f"pool{i}") for i in range(2 * BATCH)]
        await asyncio.gather(*(p.open() for p in peers))
        await asyncio.gather(*(p.hello(None) for p in peers))
        prompts = [p["id"] for p in peers[0].welcome["prompts"]]
        for i in range(BATCH):
            k = next(self.combos) % (len(prompts) * len(POOL_LANGS))
            prompt, lang = prompts[k % len(prompts)], POOL_LANGS[k // len(prompts)]
            for p, profile in ((peers[2 * i], DIVIDE_A), (peers[2 * i + 1], DIVIDE_B)):
                await p.send({"type": "join", "prompts": [prompt], "languages": [lang],
                              "profile": profile})
        matched = await asyncio.gather(*(p.wait(lambda f: f["type"] == "matched", WAIT * 3)
                                         for p in peers))
        for i in range(BATCH):
            a, b = peers[2 * i], peers[2 * i + 1]
            assert matched[2 * i]["room"] == matched[2 * i + 1]["room"], (matched[2 * i],
                                                                        matched[2 * i + 1])
            for p, m, other in ((a, matched[2 * i], b), (b, matched[2 * i + 1], a)):
                p.room, p.alias, p.partner = m["room"], m["you"], other
            self.pool.append((a, b))

    async def take_pair(self) -> tuple[Peer, Peer]:
        if not self.pool:
            await self.refill()
        return self.pool.pop()

    async def healthy(self) -> None:
        proc = self.server.proc
        assert proc is not None and proc.poll() is None, (
            f"the server exited:\n{self.server.log()[-4000:]}")

        def get() -> int:
            with urllib.request.urlopen(self.server.url + "/healthz", timeout=WAIT) as r:
                return int(r.status)
        assert await asyncio.to_thread(get) == 200
        log = self.server.log()
        new, self.log_at = log[self.log_at:], len(log)
        assert "Traceback" not in new, f"the server logged a traceback:\n{new[-4000:]}"


@pytest.fixture(scope="module")
def harness(server: LiveServer) -> Iterator[Harness]:
    h = Harness(server)
    try:
        yield h
    finally:
        async def close_pool() -> None:
            await asyncio.gather(*(p.close() for pair in h.pool for p in pair))
        h.runner.run(close_pool())
        h.runner.close()


# -- the actions ------------------------------------------------------------------------

WHO = st.integers(0, 1)
HOSTILE = st.sampled_from(["h", "s"])

ACTIONS = st.one_of(
    st.tuples(st.just("send"), WHO), st.tuples(st.just("send"), WHO),
    st.tuples(st.just("resend"), WHO), st.tuples(st.just("typing"), WHO),
    st.tuples(st.just("resume"), WHO), st.tuples(st.just("reconnect"), WHO, st.integers(0, 3)),
    st.tuples(st.just("replace"), WHO),
    *[st.tuples(st.just("frame"), HOSTILE, junk_frames())] * 4,
    *[st.tuples(st.just("raw"), HOSTILE, raw_payloads())] * 2,
    st.tuples(st.just("burst"), HOSTILE, st.integers(1, 40)),
    st.tuples(st.just("bad_flood"), HOSTILE, st.integers(1, 35)),
    st.tuples(st.just("h_drop")), st.tuples(st.just("h_back")),
    st.tuples(st.just("s_hello"), st.booleans()),
)


class Example:
    """One sequence (a hypothesis example): its members and what they do."""

    def __init__(self, h: Harness) -> None:
        self.h = h
        self.good: list[Peer] = []
        self.hostile: Peer | None = None
        self.quiet: Peer | None = None
        self.stranger: Peer | None = None

    async def setup(self) -> None:
        a, b = await self.h.take_pair()
        self.good = [a, b]
        self.hostile, self.quiet = await self.h.take_pair()
        self.hostile.hostile = self.hostile.conn.replaceable = True
        for p, name in ((a, "A"), (b, "B"), (self.hostile, "H"), (self.quiet, "K")):
            p.name = name

    def room_for(self, who: Peer, value: Any) -> Any:
        """Resolve the placeholders in a fuzzed frame."""
        assert self.hostile is not None and self.good
        if value == "$good":
            return self.good[0].room
        if value == "$own":
            return self.hostile.room
        if value == "$token":
            return self.hostile.token
        if value == "$prompt":
            return self.good[0].welcome["prompts"][0]["id"]
        if value == "$evidence":
            return [f for f in who.frames if f["type"] == "message"][-3:]
        if value == "$fresh":
            return uuid.uuid4().hex[:12]
        if isinstance(value, dict):
            return {k: self.room_for(who, v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.room_for(who, v) for v in value]
        return value

    async def hostile_peer(self, which: str) -> Peer:
        if which == "h":
            assert self.hostile is not None
            return self.hostile
        if self.stranger is None or self.stranger.closed:
            self.stranger = self.h.peer("S", hostile=True)
            await self.stranger.open()
        return self.stranger

    async def run(self, action: tuple[Any, ...]) -> None:
        kind = action[0]
        if kind in ("send", "resend", "typing", "resume", "reconnect", "replace"):
            await getattr(self, "good_" + kind)(self.good[action[1]], *action[2:])
            return
        h = self.hostile
        assert h is not None
        if kind == "h_drop":
            h.abort()
            return
        if kind == "h_back":
            if h.closed:
                await h.reopen()
                await h.hello(h.token)
            return
        if kind == "s_hello":
            s = await self.hostile_peer("s")
            await s.send({"type": "hello", "v": 1, "token": h.token if action[1] else None})
            return
        p = await self.hostile_peer(action[1])
        if kind == "frame":
            await p.send(self.room_for(p, action[2]))
        elif kind == "raw":
            await p.send_raw(action[2])
        elif kind == "burst":
            for _ in range(action[2]):
                await p.send({"type": "send", "room": h.room, "id": uuid.uuid4().hex[:8],
                              "text": "burst"})
        elif kind == "bad_flood":
            for _ in range(action[2]):
                await p.send_raw("{not json")

    # -- the well-behaved members' actions ----------------------------------------------

    async def good_send(self, m: Peer) -> None:
        await m.say(f"{m.alias} {len(m.acked)} {marker()[:8]}")

    async def good_resend(self, m: Peer) -> None:
        if not m.acked:
            await self.good_send(m)
            return
        id_ = next(reversed(m.acked))
        first = m.acked[id_]
        ack = await m.say(first["text"], id_)
        assert (ack["seq"], ack["ts"]) == (first["seq"], first["ts"]), (first, ack)

    async def good_typing(self, m: Peer) -> None:
        await m.send({"type": "typing", "room": m.room})

    async def good_resume(self, m: Peer) -> None:
        await m.caught_up(WAIT)
        replayed = await m.resume(m.last_seq(), WAIT)
        assert replayed == [], f"resume after the last seq replayed {replayed}"

    async def good_reconnect(self, m: Peer, missed: int) -> None:
        """Drop the socket; the partner sends `missed`; back with the token, `resume`."""
        await m.caught_up(WAIT)
        await m.partner.caught_up(WAIT)
        m.abort()
        await m.ended(WAIT)
        sent = [(await m.partner.say(f"while away {i} {marker()[:8]}"))
                for i in range(missed)]
        await m.reopen()
        welcome = await m.hello(m.token)
        assert welcome["token"] is None and m.room in [r["room"] for r in welcome["rooms"]]
        replayed = await m.resume(m.last_seq(), WAIT)
        assert [f["seq"] for f in replayed] == [s["seq"] for s in sent], (replayed, sent)

    async def good_replace(self, m: Peer) -> None:
        """A second connection says hello with the token: the first is closed with 4001."""
        await m.caught_up(WAIT)
        old = m.expect_replaced()
        await m.reopen()
        await m.hello(m.token)
        await asyncio.wait_for(old, WAIT)
        assert await m.resume(m.last_seq(), WAIT) == []

    # -- after the actions ----------------------------------------------------------------

    async def check(self) -> None:
        a, b = self.good
        for p in (self.hostile, self.stranger):
            if p is not None:
                await p.barrier(WAIT)
        for m in (a, b):
            await m.caught_up(WAIT)
        for m in (a, b):
            m.assert_exactly_once()
            m.assert_untroubled()
        seqs = {ack["seq"]: (m.alias, id_) for m in (a, b) for id_, ack in m.acked.items()}
        assert len(seqs) == len(a.acked) + len(b.acked), "two messages got one seq"
        assert self.quiet is not None and self.hostile is not None
        self.quiet.assert_heard_once(self.hostile)
        await a.say("still there?")
        await b.say("yes")
        await a.caught_up(WAIT)
        await b.caught_up(WAIT)
        await self.h.healthy()
        self.h.watch.assert_clean()

    async def close(self) -> None:
        peers = [*self.good, self.hostile, self.quiet, self.stranger]
        await asyncio.gather(*(p.close() for p in peers if p is not None))


@settings(max_examples=200, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(actions=st.lists(ACTIONS, min_size=1, max_size=16))
def test_hostile_sequences_keep_the_invariants(harness: Harness,
                                               actions: list[tuple[Any, ...]]) -> None:
    async def one() -> None:
        harness.watch.reset()
        seq = Example(harness)
        await seq.setup()
        try:
            for action in actions:
                event(str(action[0]))
                await asyncio.wait_for(seq.run(action), WAIT * 4)
            await asyncio.wait_for(seq.check(), WAIT * 6)
        finally:
            await seq.close()

    harness.runner.run(one())

