"""Impact per event: `/api/impact?event=<slug>` over that event's records alone.

The rooms an event's batch opens remember the event (RoomMeta.event), last the
event's conversation length, and leave records naming it when they close. The
real path (announce, sign up, lobby, batch, chat, feedback) makes a small
event, whose figures are all suppressed; the "enough" case adds records
through the store into the running server's database, beside records of the
open queue and of another event that must not count. Runs on the memory
broker, and on Redis with BRIDGECHAT_TEST_BROKER=redis.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import time
from datetime import UTC, datetime

import msgspec
import pytest
from bridgechat.core.room import RoomMeta
from bridgechat.store import Store
from conftest import LiveServer
from test_impact import converse, get, shown_ints
from test_wire_lobby import LEAD, announce, enter, matched_by, sign_up, wall_to_monotonic
from wsclient import DIVIDE_A, DIVIDE_B, Clients, Member, assert_iso8601, fresh_lang

NOISE = frozenset({"stage", "typing", "lobby"})
LENGTH_MIN = 30  # test_wire_lobby.announce's; the server's own default is 20


@pytest.fixture(scope="module")
def srv(moderated_srv: LiveServer) -> LiveServer:
    return moderated_srv


def store_of(srv: LiveServer) -> Store:
    """The running server's own database (SQLite): what its closed rooms left."""
    return Store(f"sqlite:///{srv.data_dir / 'bridgechat.db'}")


def impact_of(srv: LiveServer, query: str) -> dict[str, object]:
    status, ctype, body = get(f"{srv.url}/api/impact?{query}")
    assert status == 200 and ctype.startswith("application/json"), body
    rep: dict[str, object] = json.loads(body)
    return rep


async def talk_and_rate(a: Member, b: Member, room: str) -> None:
    """A message, a leave, and both members' feedback: a conversation that counts."""
    await a.say(room, "hello from the event")
    await b.expect("message", room=room, ignore=NOISE)
    await a.send({"type": "leave", "room": room})
    await a.expect("closed", room=room, ignore=NOISE)
    await b.expect("left", room=room, ignore=NOISE)
    await b.expect("closed", room=room, ignore=NOISE)
    for m, score in ((a, 5), (b, 3)):
        await m.send({"type": "feedback", "room": room, "common_ground": score, "again": True})
        await m.expect("thanks", ignore=NOISE)


def test_room_meta_keeps_its_event_and_old_metas_still_load() -> None:
    meta = RoomMeta("home", "Home?", {"m": ["x"]}, ("age_band", "area"), event="town-talk")
    # Redis stores metas as msgspec JSON; the memory broker's snapshot as builtins.
    raw = msgspec.json.encode(meta)
    assert msgspec.json.decode(raw, type=RoomMeta).event == "town-talk"
    assert msgspec.convert(msgspec.to_builtins(meta), RoomMeta).event == "town-talk"
    old = json.loads(raw)
    del old["event"]  # a meta written by a node from before the field existed
    assert msgspec.json.decode(json.dumps(old).encode(), type=RoomMeta).event is None


async def test_an_event_batch_leaves_records_of_its_event(srv: LiveServer) -> None:
    slug, starts = await announce(srv.url, LEAD)
    lang = fresh_lang()
    tokens = [await sign_up(srv.url, slug, lang, p) for p in (DIVIDE_A, DIVIDE_B) * 2]
    async with Clients(srv.ws_url) as c:
        members = [await c.member() for _ in tokens]
        for m, token in zip(members, tokens, strict=True):
            await enter(m, slug, token)
        by = wall_to_monotonic(starts + 10.0)
        got = [await matched_by(m, by) for m in members]
        rooms: dict[str, list[Member]] = {}
        for m, frame in zip(members, got, strict=True):
            rooms.setdefault(frame["room"], []).append(m)
            # The room lasts the event's conversation length, not the server's default.
            ends = assert_iso8601(frame["ends_at"]).timestamp()
            assert abs(ends - (starts + LENGTH_MIN * 60)) < 15, (frame, starts)
        assert sorted(len(v) for v in rooms.values()) == [2, 2]
        for room, (a, b) in rooms.items():
            await talk_and_rate(a, b, room)
        # One open-queue conversation beside them: it counts in no event.
        prompt = members[0].prompt_id(0)
        await converse(c, prompt)

    store = store_of(srv)
    try:
        deadline = time.monotonic() + 5
        while len(ours := store.conversations(slug)) < 2 or any(r.feedback < 2 for r in ours):
            assert time.monotonic() < deadline, ours
            await asyncio.sleep(0.1)
        everything = store.conversations()
    finally:
        store.close()
    assert len(ours) == 2 and {r.event for r in ours} == {slug}
    assert all(r.feedback == 2 and r.common_ground == 8 and r.again == 2 for r in ours)
    assert all(len(r.divides) >= 2 for r in ours)  # DIVIDE_A and DIVIDE_B cross them all
    assert sum(1 for r in everything if r.event is None) >= 1

    # Two conversations: a small event shows nothing at all.
    rep = impact_of(srv, f"event={slug}")
    assert rep["event"] == slug and rep["min_count"] == 11
    assert shown_ints(rep) == [], shown_ints(rep)
    total = rep["total"]
    assert isinstance(total, dict)
    assert total["conversations"] is None and total["crossed2"] == {"count": None,
                                                                     "share": None}
    status, ctype, body = get(f"{srv.url}/api/impact.csv?event={slug}")
    assert status == 200 and ctype.startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(body)))
    assert rows[0]["scope"] == "total" and rows[0]["conversations"] == ""


async def test_figures_of_an_event_with_enough_conversations(srv: LiveServer) -> None:
    slug, _ = await announce(srv.url, 3600.0, prompts=("neighbours",))
    other, _ = await announce(srv.url, 3600.0)
    day = datetime.now(UTC).date().isoformat()
    store = store_of(srv)
    try:
        def add(n: int, divides: tuple[str, ...], event: str | None, answers: int = 2,
                again: int = 1) -> None:
            for _ in range(n):
                rid = store.add_record("neighbours", day, 2, divides, "5-15", event)
                for i in range(answers):
                    assert store.add_feedback(rid, 4, i < again)

        add(14, ("age_band", "origin", "area"), slug)
        add(12, ("age_band",), slug)
        add(30, (), other)  # another event's: not ours
        add(30, ("age_band", "origin"), None)  # the open queue's: not ours
    finally:
        store.close()

    rep = impact_of(srv, f"event={slug}")
    assert all(v >= 11 for _, v in shown_ints(rep))
    total = rep["total"]
    assert isinstance(total, dict)
    assert total["conversations"] == 26
    assert total["crossed2"] == {"count": 14, "share": round(14 / 26, 3)}
    assert total["crossed"]["age_band"] == {"count": 26, "share": 1.0}
    assert total["crossed"]["origin"] == {"count": 14, "share": round(14 / 26, 3)}
    assert total["feedback"] == 52 and total["common_ground"] == 4.0
    assert total["meet_again"] == {"count": 26, "share": 0.5}
    # Rows are the event's prompts, not the whole catalogue's.
    assert [r["prompt"] for r in rep["by_prompt"]] == ["neighbours"]  # type: ignore[index]

    status, _, body = get(f"{srv.url}/api/impact.csv?event={slug}")
    assert status == 200
    rows = list(csv.DictReader(io.StringIO(body)))
    assert rows[0]["conversations"] == "26" and rows[0]["crossed2"] == "14"

    # The other event: 30 conversations, none crossing two divides (a 0 is not shown).
    theirs = impact_of(srv, f"event={other}")["total"]
    assert isinstance(theirs, dict)
    assert theirs["conversations"] == 30 and theirs["crossed2"]["count"] is None

    # With noise: stated, nothing under 11, and the same answer when asked again.
    noisy = impact_of(srv, f"event={slug}&epsilon=1.0")
    assert noisy["event"] == slug and isinstance(noisy["noise"], dict)
    assert all(v >= 11 for _, v in shown_ints(noisy))
    assert impact_of(srv, f"event={slug}&epsilon=1.0") == noisy


async def test_an_unknown_event_is_a_404_in_plain_words(srv: LiveServer) -> None:
    for query in ("event=no-such-day", "event=", f"event={'x' * 300}"):
        for path in ("/api/impact", "/api/impact.csv"):
            status, ctype, body = get(f"{srv.url}{path}?{query}")
            assert status == 404 and ctype.startswith("application/json"), (path, query)
            answer = json.loads(body)
            assert answer["error"] == "unknown_event" and " " in answer["message"]
