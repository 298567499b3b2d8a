"""An event's lobby and the batch at its start, on real servers (docs/events.md).

Events are announced over the moderators' API by an admin, members sign up
over the events' HTTP API, then wait in the lobby on a member socket (`lobby`
after `hello`), as the event page does. Runs on the memory broker, and on
Redis with BRIDGECHAT_TEST_BROKER=redis; the last test puts two nodes on one
Redis. Every wait is bounded.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from cluster_util import RedisServer, redis_binary
from conftest import LiveServer
from modclient import Mod, add_moderator
from wsclient import DIVIDE_A, DIVIDE_B, Clients, Member, assert_iso8601, fresh_lang

# The event's start: far enough ahead for the command line, the sign-ups and the lobby.
LEAD = 9.0
# Frames that come on their own schedule and that these tests do not count.
NOISE = frozenset({"stage", "typing"})
MIDDLE = {"age_band": "30-44", "origin": "settled", "area": "suburban", "politics": "centre"}


@pytest.fixture(scope="module")
def srv(moderated_srv: LiveServer) -> LiveServer:
    return moderated_srv


async def announce(base: str, starts_in: float, prompts: tuple[str, ...] = ("neighbours",)
                   ) -> tuple[str, float]:
    """A new event starting `starts_in` seconds from now, created by admin "ann" over the
    moderators' API; its slug and start (epoch)."""
    slug = f"day-{uuid.uuid4().hex[:10]}"
    at = (datetime.now(UTC) + timedelta(seconds=starts_in)).replace(microsecond=0)
    async with Mod(base) as ann:
        assert (await ann.login("ann")).status == 200
        reply = await ann.post("/api/events", {
            "slug": slug, "title": {"en": "Town talk"}, "starts": at.isoformat(), "tz": "UTC",
            "length_min": 30, "prompts": list(prompts)})
        assert reply.status == 201, reply
    return slug, at.timestamp()


async def sign_up(base: str, slug: str, lang: str, profile: dict[str, str],
                  prompts: tuple[str, ...] = ("neighbours",)) -> str:
    """Sign up over the events' API, as the event page does; the sign-up token."""
    body = {"prompts": list(prompts), "languages": [lang], "profile": profile, "lang": "en"}
    async with aiohttp.ClientSession() as http, http.post(
            f"{base}/api/e/{slug}/signup", json=body, headers={"Origin": base}) as resp:
        answer = await resp.json()
        assert resp.status == 201, answer
        return str(answer["token"])


async def enter(m: Member, slug: str, token: str) -> dict[str, Any]:
    await m.send({"type": "lobby", "event": slug, "signup": token})
    return await m.expect("lobby", event=slug)


async def present_becomes(m: Member, count: int, wait: float = 6.0) -> dict[str, Any]:
    """Lobby frames until one says `count` are present."""
    deadline = time.monotonic() + wait
    while True:
        frame = await m.expect("lobby", max(0.01, deadline - time.monotonic()))
        if frame["present"] == count:
            return frame


async def matched_by(m: Member, deadline: float) -> dict[str, Any]:
    """The member's next frame (but NOISE) is `matched`, by `deadline` (monotonic)."""
    return await m.expect("matched", max(0.01, deadline - time.monotonic()),
                          ignore=frozenset({"typing", "lobby"}))


def wall_to_monotonic(at: float) -> float:
    return time.monotonic() + (at - time.time())


async def test_lobby_count_batch_at_the_start_late_arrival_and_absent(srv: LiveServer) -> None:
    slug, starts = await announce(srv.url, LEAD)
    lang = fresh_lang()
    tokens = [await sign_up(srv.url, slug, lang, p)
              for p in (DIVIDE_A, DIVIDE_B, MIDDLE, DIVIDE_B, DIVIDE_A)]
    # tokens[4]: signed up, never comes. tokens[3]: comes after the start.
    async with Clients(srv.ws_url) as c:
        a, b, c3 = await c.member(), await c.member(), await c.member()
        first = await enter(a, slug, tokens[0])
        assert first["present"] == 1
        assert abs(assert_iso8601(first["starts"]).timestamp() - starts) < 0.01
        assert (await enter(b, slug, tokens[1]))["present"] == 2
        await present_becomes(a, 2)
        assert (await enter(c3, slug, tokens[2]))["present"] == 3
        await present_becomes(a, 3)
        await present_becomes(b, 3)
        # Nothing opens before the start, though a and b would be matched at once.
        await a.expect_nothing(max(0.0, starts - time.time() - 0.5), ignore=frozenset({"lobby"}))

        # At the start one batch: two of the three share a room, the third is told why.
        by = wall_to_monotonic(starts + 10.0)
        frames = {}
        for m in (a, b, c3):
            frames[id(m)] = await m.recv(max(0.01, by - time.monotonic()),
                                         ignore=NOISE | {"lobby"})
        kinds = sorted(f["type"] for f in frames.values())
        assert kinds == ["matched", "matched", "queued"], frames
        rooms = {f["room"] for f in frames.values() if f["type"] == "matched"}
        assert len(rooms) == 1
        lone = next(m for m in (a, b, c3) if frames[id(m)]["type"] == "queued")
        hint = frames[id(lone)].get("hint")
        assert hint and " " in hint["message"], frames[id(lone)]  # plain words: nobody yet

        # A late arrival is matched as in the open queue: with the one left over. The
        # absent sign-up (tokens[4]) holds no ticket, so nobody was matched with it.
        late = await c.member()
        await late.send({"type": "lobby", "event": slug, "signup": tokens[3]})
        queued = await late.expect("queued")
        assert queued["waiting"] == 0
        got = await matched_by(late, time.monotonic() + 10.0)
        mine = await lone.find("matched", 2.0)
        assert got["room"] == mine["room"] and got["room"] not in rooms


async def test_lobby_refusals_in_plain_words(srv: LiveServer) -> None:
    slug, _ = await announce(srv.url, 3600.0)  # the lobby opens 15 minutes before
    soon, _ = await announce(srv.url, 600.0)
    lang = fresh_lang()
    early = await sign_up(srv.url, slug, lang, DIVIDE_A)
    token = await sign_up(srv.url, soon, lang, DIVIDE_A)
    async with Clients(srv.ws_url) as c:
        m = await c.member()
        for frame, code in (
                ({"event": "no-such-day", "signup": token}, "unknown_event"),
                ({"event": slug, "signup": early}, "lobby_not_open"),
                ({"event": soon, "signup": early}, "not_signed_up"),
                ({"event": soon}, "bad_frame")):
            await m.send({"type": "lobby", **frame})
            await m.expect_error(code)
        assert (await enter(m, soon, token))["present"] == 1
        await m.send({"type": "lobby", "event": soon, "signup": token})
        await m.expect_error("already_queued")
        # Leaving the queue leaves the lobby: a second member sees one present, not two.
        await m.send({"type": "leave_queue"})
        await m.expect("left_queue")
        other = await c.member()
        assert (await enter(other, soon, token))["present"] == 1


async def test_one_sign_up_on_two_devices_waits_once(srv: LiveServer) -> None:
    """The same sign-up opened on a phone and a laptop (two members, one token): the
    second is refused while the first waits, so nobody is counted or matched twice."""
    slug, _ = await announce(srv.url, 600.0)
    token = await sign_up(srv.url, slug, fresh_lang(), DIVIDE_A)
    async with Clients(srv.ws_url) as c:
        phone, laptop = await c.member(), await c.member()
        assert (await enter(phone, slug, token))["present"] == 1
        await laptop.send({"type": "lobby", "event": slug, "signup": token})
        refused = await laptop.expect_error("already_queued")
        assert "already" in refused["message"]
        await phone.send({"type": "leave_queue"})
        await phone.expect("left_queue")
        assert (await enter(laptop, slug, token))["present"] == 1


async def test_what_members_wait_with_is_fixed_once_the_lobby_opens(srv: LiveServer) -> None:
    """In the lobby's window the start, mode, size and prompts may not change (members
    wait with tickets made from them); the words may."""
    slug, starts = await announce(srv.url, 600.0)
    async with Mod(srv.url) as ann:
        assert (await ann.login("ann")).status == 200
        later = datetime.fromtimestamp(starts + 3600, UTC).isoformat()
        for change in ({"starts": later}, {"group": 3}, {"prompts": ["neighbours", "home"]}):
            reply = await ann.request("PATCH", f"/api/events/{slug}", change)
            assert (reply.status, reply.body["error"]) == (400, "lobby_open"), reply
            assert "Cancel it" in reply.body["message"]
        reply = await ann.request("PATCH", f"/api/events/{slug}", {"title": {"en": "Talk"},
                                                                  "length_min": 45})
        assert reply.status == 200, reply
        far, _ = await announce(srv.url, 7200.0)  # its lobby opens in 105 minutes
        reply = await ann.request("PATCH", f"/api/events/{far}", {"group": 3})
        assert reply.status == 200 and reply.body["group"] == 3, reply


async def test_a_cancelled_event_calls_its_lobby_off(srv: LiveServer) -> None:
    """Cancelled while members wait: each is told in plain words, leaves the pool, and no
    room opens at the start."""
    slug, starts = await announce(srv.url, LEAD)
    lang = fresh_lang()
    t1, t2 = await sign_up(srv.url, slug, lang, DIVIDE_A), await sign_up(srv.url, slug, lang,
                                                                         DIVIDE_B)
    async with Clients(srv.ws_url) as c:
        a, b = await c.member(), await c.member()
        await enter(a, slug, t1)
        await enter(b, slug, t2)
        async with Mod(srv.url) as ann:
            assert (await ann.login("ann")).status == 200
            reply = await ann.post(f"/api/events/{slug}/cancel", {"note": "the hall flooded"})
            assert reply.status == 200, reply
        for m in (a, b):
            # A count sent just before the node saw the cancellation may come first.
            await m.expect_error("event_cancelled", 6.0, ignore=frozenset({"lobby"}))
        await a.expect_nothing(max(0.0, starts + 1.5 - time.time()), ignore=NOISE | {"lobby"})
        # Out of the pool: free to wait for something else.
        await a.send({"type": "join", "prompts": ["neighbours"], "languages": [lang],
                      "profile": DIVIDE_A})
        await a.expect("queued")


async def test_a_lobby_member_who_drops_is_not_counted(srv: LiveServer) -> None:
    slug, _ = await announce(srv.url, 600.0)
    lang = fresh_lang()
    t1, t2 = await sign_up(srv.url, slug, lang, DIVIDE_A), await sign_up(srv.url, slug, lang,
                                                                         DIVIDE_B)
    async with Clients(srv.ws_url) as c:
        a, b = await c.member(), await c.member()
        await enter(a, slug, t1)
        assert (await enter(b, slug, t2))["present"] == 2
        await b.close()
        await present_becomes(a, 1)


@pytest.mark.skipif(redis_binary() is None, reason="redis-server is not installed")
async def test_one_batch_matches_lobbies_on_two_nodes(
        make_server: Callable[..., LiveServer], redis_server: RedisServer,
        tmp_path: Path) -> None:
    shared = tmp_path / "shared-data"
    add_moderator(shared, "ann", "admin")
    flags = ("--redis", redis_server.url)
    n1 = make_server(*flags, data_dir=shared)
    n2 = make_server(*flags, data_dir=shared)
    slug, starts = await announce(n1.url, LEAD)
    lang = fresh_lang()
    profiles = (DIVIDE_A, DIVIDE_B, MIDDLE, DIVIDE_B)
    tokens = await asyncio.gather(*(sign_up(n1.url, slug, lang, p) for p in profiles))
    async with Clients(n1.ws_url) as c1, Clients(n2.ws_url) as c2:
        # Two divided pairs, each split over the nodes: the batch must cross them.
        a, c = await c1.member(), await c1.member()
        b, d = await c2.member(), await c2.member()
        await enter(a, slug, tokens[0])
        await enter(b, slug, tokens[1])
        await enter(c, slug, tokens[2])
        await enter(d, slug, tokens[3])
        await present_becomes(a, 4)
        await present_becomes(b, 4)
        by = wall_to_monotonic(starts + 10.0)
        got = {name: await matched_by(m, by) for name, m in
               (("a", a), ("b", b), ("c", c), ("d", d))}
        assert time.time() < starts + 10.0
        rooms = {g["room"] for g in got.values()}
        assert len(rooms) == 2
        # Each room holds a member of each node: the pairings crossing the most divides.
        room_of = {name: g["room"] for name, g in got.items()}
        for room in rooms:
            names = {n for n, r in room_of.items() if r == room}
            assert names & {"a", "c"} and names & {"b", "d"}, room_of
