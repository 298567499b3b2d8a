"""The bot barrier over real sockets (docs/protocol.md, "Bot barrier").

`join` without a proof while the barrier is on: `error` proof_required, then
`challenge`; the same `join` with the solved proof: `queued`. A proof is good
once, on any node, until its challenge expires. The puzzle is solved here
with hashlib, from the protocol's words, not with the server's code.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import re
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from cluster_util import RedisServer, redis_binary
from conftest import free_port
from wsclient import Clients, Member, fresh_lang

HEX64 = re.compile(r"^[0-9a-f]{64}$")


def solve(ch: dict[str, Any]) -> int:
    """The whole number n, 0 <= n <= maxnumber, with SHA-256(salt + n) == challenge."""
    salt, want = ch["salt"], ch["challenge"]
    for n in range(ch["maxnumber"] + 1):
        if hashlib.sha256(f"{salt}{n}".encode()).hexdigest() == want:
            return n
    raise AssertionError(f"no number solves {ch}")


def proof_of(ch: dict[str, Any], **change: Any) -> str:
    fields = {k: ch[k] for k in ("algorithm", "challenge", "salt", "signature")}
    fields["number"] = solve(ch)
    fields.update(change)
    return base64.b64encode(json.dumps(fields).encode()).decode()


def join_frame(m: Member, **extra: Any) -> dict[str, Any]:
    return {"type": "join", "prompts": [m.prompt_id(0)], "languages": [fresh_lang()], **extra}


async def challenged(m: Member, frame: dict[str, Any], code: str = "proof_required"
                     ) -> dict[str, Any]:
    """Send the frame; the answer must be `error` with `code`, then a `challenge`."""
    await m.send(frame)
    await m.expect_error(code)
    ch = await m.expect("challenge")
    assert ch["algorithm"] == "SHA-256" and HEX64.match(ch["challenge"])
    assert HEX64.match(ch["signature"]) and isinstance(ch["salt"], str) and ch["salt"]
    assert isinstance(ch["maxnumber"], int) and ch["maxnumber"] >= 1
    return ch


def scrape(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
        return r.read().decode()


def sample(text: str, name: str) -> float:
    found = re.search(rf"^{name} (\S+)$", text, re.M)
    assert found, f"{name} not exported"
    return float(found.group(1))


async def test_join_needs_a_solved_challenge_which_is_good_once(make_server) -> None:
    port = free_port()
    srv = make_server("--bot-barrier", "always", "--metrics-listen", f"127.0.0.1:{port}")
    async with Clients(srv.ws_url) as clients:
        a, b = await clients.member(), await clients.member()
        frame = join_frame(a)
        ch = await challenged(a, frame)
        assert ch["maxnumber"] == 20_000
        await a.expect_nothing()  # no ticket: nothing is queued
        good = proof_of(ch)
        await a.send({**frame, "proof": good})
        queued = await a.expect("queued")
        assert queued["ticket"]

        # The same proof, from someone else: refused, with a fresh challenge.
        again = await challenged(b, join_frame(b, proof=good), "proof_invalid")
        assert again["challenge"] != ch["challenge"] and again["salt"] != ch["salt"]
        # ... which, solved, lets them in.
        await b.join([b.prompt_id(0)], [fresh_lang()], proof=proof_of(again))

    metrics = scrape(port)
    assert sample(metrics, "bridgechat_challenges_total") == 2
    assert sample(metrics, "bridgechat_proofs_refused_total") == 1
    assert sample(metrics, 'bridgechat_errors_total{code="proof_required"}') == 1
    assert sample(metrics, 'bridgechat_errors_total{code="proof_invalid"}') == 1


async def test_a_wrong_or_forged_proof_is_refused(make_server) -> None:
    srv = make_server("--bot-barrier", "always")
    async with Clients(srv.ws_url) as clients:
        m = await clients.member()
        frame = join_frame(m)
        ch = await challenged(m, frame)
        n = solve(ch)
        for bad in (proof_of(ch, number=n + 1), proof_of(ch, signature="0" * 64),
                    proof_of(ch, salt=ch["salt"] + "expires=9999999999&"),
                    "bm90IGEgcHJvb2Y=", "not base64 at all"):
            ch = await challenged(m, {**frame, "proof": bad}, "proof_invalid")
        # Over 2,000 characters: not a proof at all.
        await m.send({**frame, "proof": "A" * 2001})
        await m.expect_error("bad_frame")
        await m.send({**frame, "proof": proof_of(ch)})
        await m.expect("queued")


async def test_an_expired_proof_is_refused(make_server) -> None:
    # Challenges good for 1 s here (2 minutes by default); expiry is in whole seconds.
    srv = make_server("--bot-barrier", "always", "--bot-barrier-seconds", "1")
    async with Clients(srv.ws_url) as clients:
        m = await clients.member()
        frame = join_frame(m)
        ch = await challenged(m, frame)
        late = proof_of(ch)
        await asyncio.sleep(2.2)
        fresh = await challenged(m, {**frame, "proof": late}, "proof_invalid")
        await m.send({**frame, "proof": proof_of(fresh)})
        await m.expect("queued")


async def test_auto_asks_only_past_the_threshold_and_harder_as_joins_grow(make_server) -> None:
    srv = make_server("--bot-barrier", "auto", "--bot-barrier-per-minute", "3")
    async with Clients(srv.ws_url) as clients:
        members = [await clients.member() for _ in range(6)]
        # Two joins in the minute: no barrier, and a proof that is no good is ignored.
        await members[0].join([members[0].prompt_id(0)], [fresh_lang()])
        await members[1].join([members[1].prompt_id(0)], [fresh_lang()], proof="bm9uZQ==")
        # The third reaches the threshold: 20,000; the sixth is twice it: 40,000.
        costs = [(await challenged(m, join_frame(m)))["maxnumber"] for m in members[2:]]
        assert costs == [20_000, 20_000, 20_000, 40_000]
        # A solved challenge is not counted again: it still gets in.
        m = members[2]
        frame = join_frame(m)
        ch = await challenged(m, frame)
        assert ch["maxnumber"] == 40_000  # the 7th join in the minute
        await m.send({**frame, "proof": proof_of(ch)})
        await m.expect("queued")


async def test_off_ignores_proofs_and_asks_nothing(make_server) -> None:
    srv = make_server("--bot-barrier", "off", "--bot-barrier-per-minute", "1")
    async with Clients(srv.ws_url) as clients:
        for i in range(3):
            m = await clients.member()
            extra = {"proof": "Zm9yZ2Vk"} if i else {}
            await m.join([m.prompt_id(0)], [fresh_lang()], **extra)


@pytest.mark.skipif(redis_binary() is None, reason="redis-server is not installed")
async def test_a_proof_spent_on_one_node_is_refused_on_the_other(
        make_server, redis_server: RedisServer, tmp_path: Path) -> None:
    shared = tmp_path / "shared-data"
    flags = ("--redis", redis_server.url, "--bot-barrier", "always")
    one = make_server(*flags, data_dir=shared)
    two = make_server(*flags, data_dir=shared)
    async with Clients(one.ws_url) as on_one, Clients(two.ws_url) as on_two:
        a, b = await on_one.member(), await on_two.member()
        # A challenge from node one, solved and used on node two: the keys are shared.
        frame_a = join_frame(a)
        ch = await challenged(a, frame_a)
        good = proof_of(ch)
        frame_b = join_frame(b)
        await b.send({**frame_b, "proof": good})
        await b.expect("queued")
        # Spent on node two: refused on node one, then on node two again.
        ch_a = await challenged(a, {**frame_a, "proof": good}, "proof_invalid")
        c = await on_two.member()
        await challenged(c, join_frame(c, proof=good), "proof_invalid")
        # Spent on node one first, then tried on node two.
        good_a = proof_of(ch_a)
        await a.send({**frame_a, "proof": good_a})
        await a.expect("queued")
        await challenged(c, join_frame(c, proof=good_a), "proof_invalid")
