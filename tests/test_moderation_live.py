"""The moderators' live feed (/ws/moderate) and their powers over the queue and rooms."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Iterator

import pytest
from conftest import LiveServer
from modclient import Mod, moderated_server, queue_has, queue_lacks
from wsclient import DIVIDE_A, DIVIDE_B, Clients, fresh_lang, fresh_topic


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    server = moderated_server(tmp_path_factory)
    yield server
    server.stop()


async def test_snapshot_comes_first_with_the_contract_fields(srv: LiveServer) -> None:
    async with Mod(srv.url) as mod:
        await mod.login("mo")
        snap = await (await mod.feed()).recv()
        assert snap["type"] == "snapshot"
        assert isinstance(snap["queue"], list)
        assert isinstance(snap["rooms"], int) and isinstance(snap["reports"], int)
        assert set(snap["wait"]) == {"median_s", "longest_s"}
        assert isinstance(snap["stuck"], list) and isinstance(snap["live"], list)


async def test_a_join_shows_within_a_second_without_any_profile_answer(srv: LiveServer) -> None:
    async with Mod(srv.url) as mod, Clients(srv.ws_url) as clients:
        await mod.login("mo")
        feed = await mod.feed()
        await feed.recv()
        member = await clients.member()
        prompt, lang = member.prompt_id(fresh_topic()), fresh_lang()
        started = time.monotonic()
        queued = await member.join([prompt], [lang], {"age_band": "60+", "area": "rural"},
                                   stances={prompt: "unsure"}, mode="bridge")
        frame = await feed.until(queue_has(queued["ticket"]), wait=1.0)
        assert time.monotonic() - started < 1.0
        [entry] = [e for e in frame["queue"] if e["ticket"] == queued["ticket"]]
        assert set(entry) == {"ticket", "prompts", "languages", "mode", "waited_s"}
        assert entry["prompts"] == [prompt] and entry["languages"] == [lang]
        assert entry["mode"] == "bridge" and 0 <= entry["waited_s"] < 2
        raw = feed.raw[-1]
        for secret in ("unsure", member.member_id):
            assert secret not in raw, secret
        # The balance names every bucket of the deck, answered or not, and counts none
        # under 11: it tells nothing of this member's answers. Nothing else names them.
        assert all(b == {"bucket": b["bucket"], "few": True}
                   for rows in frame["balance"].values() for b in rows)
        rest = json.dumps({k: v for k, v in frame.items() if k != "balance"})
        for secret in ("60+", "rural"):
            assert secret not in rest, secret


async def test_a_match_empties_the_queue_and_shows_a_live_room(srv: LiveServer) -> None:
    async with Mod(srv.url) as mod, Clients(srv.ws_url) as clients:
        await mod.login("mo")
        feed = await mod.feed()
        await feed.recv()
        pair = await clients.pair()
        frame = await feed.until(lambda f: f["type"] == "rooms_changed"
                                 and any(r["room"] == pair.room for r in f["live"]))
        assert frame["rooms"] >= 1
        [room] = [r for r in frame["live"] if r["room"] == pair.room]
        assert room["prompt"] == pair.prompt and room["size"] == 2
        snap = await (await mod.feed()).recv()
        assert not any(e["languages"] == [pair.lang] for e in snap["queue"])


async def test_who_is_stuck_is_counted_by_prompt_and_language(srv: LiveServer) -> None:
    async with Mod(srv.url) as mod, Clients(srv.ws_url) as clients:
        await mod.login("mo")
        feed = await mod.feed()
        await feed.recv()
        a, b, c = await clients.member(), await clients.member(), await clients.member()
        prompt, lang = a.prompt_id(fresh_topic()), fresh_lang()
        # Nobody else speaks this language, and b wants another kind of conversation.
        await a.join([prompt], [lang], DIVIDE_A)
        tb = await b.join([prompt], [lang], mode="generations")

        def stuck(n: int) -> object:
            return lambda f: f["type"] == "queue_changed" and {
                "prompt": prompt, "language": lang, "waiting": 2, "stuck": n} in f["stuck"]

        # Not stuck at first: the matcher promises a match within max_wait (10 s), and
        # someone may come; only after that do they count as stuck (the feed's refresh
        # comes every 5 s).
        await feed.until(stuck(0))
        await feed.until(stuck(2), wait=20)
        # A counterpart for a arrives: the two are matched and only b is left, stuck.
        await c.join([prompt], [lang], DIVIDE_B)
        await a.expect("matched")
        frame = await feed.until(lambda f: f["type"] == "queue_changed" and any(
            r["prompt"] == prompt and r["language"] == lang for r in f["stuck"]) and len(
            [e for e in f["queue"] if e["languages"] == [lang]]) == 1)
        assert {"prompt": prompt, "language": lang, "waiting": 1, "stuck": 1} in frame["stuck"]
        assert [e["ticket"] for e in frame["queue"] if e["languages"] == [lang]] == [tb["ticket"]]


async def test_a_burst_of_joins_is_coalesced_into_few_frames(srv: LiveServer) -> None:
    async with Mod(srv.url) as mod, Clients(srv.ws_url) as clients:
        await mod.login("mo")
        feed = await mod.feed()
        await feed.recv()
        members = [await clients.member() for _ in range(10)]
        prompt = members[0].prompt_id(fresh_topic())
        queued = await asyncio.gather(*(m.join([prompt], [fresh_lang()]) for m in members))
        tickets = {q["ticket"] for q in queued}
        frames = 0
        while True:
            frame = await feed.until(lambda f: f["type"] == "queue_changed")
            frames += 1
            if tickets <= {e["ticket"] for e in frame["queue"]}:
                break
        assert frames < 10


async def test_ending_a_room_closes_it_for_its_members(srv: LiveServer) -> None:
    async with Mod(srv.url) as mod, Clients(srv.ws_url) as clients:
        await mod.login("mo")
        pair = await clients.pair()
        reply = await mod.post(f"/api/rooms/{pair.room}/end", {"note": "testing the end"})
        assert reply.status == 204, reply
        await pair.a.expect("closed", room=pair.room, reason="moderator")
        await pair.b.expect("closed", room=pair.room, reason="moderator")
        again = await mod.post(f"/api/rooms/{pair.room}/end", {})
        assert again.status == 404 and again.body["error"] == "unknown_room"


async def test_pausing_a_prompt_stops_joins_until_it_resumes(srv: LiveServer) -> None:
    async with Mod(srv.url) as mod, Clients(srv.ws_url) as clients:
        await mod.login("mo")
        member = await clients.member()
        prompt = member.prompt_id(fresh_topic())
        assert (await mod.post(f"/api/prompts/{prompt}/pause", {"note": "abuse wave"})).status \
            == 204
        listed = (await mod.get("/api/prompts")).body["prompts"]
        assert {"id": prompt, "paused": True}.items() <= next(
            p for p in listed if p["id"] == prompt).items()
        await member.send({"type": "join", "prompts": [prompt], "languages": [fresh_lang()]})
        await member.expect_error("unknown_prompt")
        assert (await mod.post(f"/api/prompts/{prompt}/resume")).status == 204
        await member.join([prompt], [fresh_lang()])


async def test_adding_and_retiring_a_prompt(srv: LiveServer) -> None:
    async with Mod(srv.url) as mod, Clients(srv.ws_url) as clients:
        await mod.login("mo")
        pid = f"library-{uuid.uuid4().hex[:8]}"
        text = "What would you borrow from a library of people?"
        reply = await mod.post("/api/prompts", {"id": pid, "text": text, "lang": "en"})
        assert reply.status == 201, reply
        member = await clients.member()
        assert {"id": pid, "text": text, "lang": "en"} in member.welcome["prompts"]
        await member.join([pid], [fresh_lang()])
        assert (await mod.request("DELETE", f"/api/prompts/{pid}")).status == 204
        late = await clients.member()
        assert all(p["id"] != pid for p in late.welcome["prompts"])
        await late.send({"type": "join", "prompts": [pid], "languages": [fresh_lang()]})
        await late.expect_error("unknown_prompt")
        bad = await mod.post("/api/prompts", {"id": "Bad Id!", "text": text})
        assert bad.status == 400 and bad.body["error"] == "bad_prompt_id"


async def test_leaving_the_queue_shows_on_the_feed(srv: LiveServer) -> None:
    async with Mod(srv.url) as mod, Clients(srv.ws_url) as clients:
        await mod.login("mo")
        feed = await mod.feed()
        await feed.recv()
        member = await clients.member()
        queued = await member.join([member.prompt_id(fresh_topic())], [fresh_lang()])
        await feed.until(queue_has(queued["ticket"]), wait=1.0)
        await member.send({"type": "leave_queue"})
        await member.expect("left_queue")
        frame = await feed.until(queue_lacks(queued["ticket"]), wait=1.0)
        assert json.dumps(frame).count(queued["ticket"]) == 0
