"""Hand-matching and notices over the wire: a moderator opens a room for waiting members,
is refused what members are protected from, and speaks to a live room."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from conftest import LiveServer
from modclient import Mod, files_containing, moderated_server, queue_has
from wsclient import Clients, Member, fresh_lang, marker

EVIL = {"Origin": "https://evil.example"}


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory,
        broker_flags: list[str]) -> Iterator[LiveServer]:
    # Members who cross no divide wait 30 s for a bridge, so the matcher leaves them be
    # while a test looks at them; members who cross divides are matched at once.
    server = moderated_server(tmp_path_factory, *broker_flags, "--bridge-wait", "30",
                              "--max-wait", "60")
    yield server
    server.stop()


SAME = {"age_band": "30-44", "origin": "settled", "area": "suburban", "politics": "centre"}


async def waiting(clients: Clients, prompts: list[int], lang: str,
                  profile: dict[str, str] | None = None) -> tuple[Member, str]:
    m = await clients.member()
    queued = await m.join([m.prompt_id(p) for p in prompts], [lang], profile or SAME)
    return m, str(queued["ticket"])


async def entries(mod: Mod, action: str, target: str) -> list[dict[str, Any]]:
    return [e for e in await mod.audit() if e["action"] == action and e["target"] == target]


async def test_two_waiting_members_hand_matched_meet_in_one_room(srv: LiveServer) -> None:
    async with Mod(srv.url) as mod, Mod(srv.url) as admin, Clients(srv.ws_url) as clients:
        await mod.login("mo")
        await admin.login("ann")
        lang = fresh_lang()
        # Different prompts: the matcher would never pair them.
        a, ta = await waiting(clients, [0], lang)
        b, tb = await waiting(clients, [1], lang)
        check = await mod.post("/api/match/check", {"tickets": [ta, tb]})
        assert check.status == 200, check
        assert check.body["ok"] is True and check.body["refused"] is None
        assert [w["code"] for w in check.body["why_not"]] == ["no_shared_prompt"]
        assert " " in check.body["why_not"][0]["message"]

        reply = await mod.post("/api/match", {"tickets": [ta, tb], "note": "both alone"})
        assert reply.status == 201, reply
        room = reply.body["room"]
        ma, mb = await a.expect("matched", room=room), await b.expect("matched", room=room)
        assert reply.body["prompt"] == ma["prompt"]["id"] == mb["prompt"]["id"]
        assert reply.body["prompt"] in (a.prompt_id(0), a.prompt_id(1))
        assert {ma["you"], mb["you"]} == {m["alias"] for m in ma["members"]}
        # Only the reasons that hold: they did not both choose this prompt.
        assert not any("chose" in r for r in ma["because"] + mb["because"])
        ack = await a.say(room, "hello there")
        await b.expect("message", room=room, seq=ack["seq"], text="hello there")

        [entry] = await entries(admin, "room.hand_match", f"room:{room}")
        assert entry["moderator"] == "mo" and entry["note"] == "both alone"
        # Taken from the pool: neither can be matched again, by hand or by the matcher.
        again = await mod.post("/api/match", {"tickets": [ta, tb]})
        assert again.status == 404 and again.body["error"] == "unknown_ticket"
        assert len(await entries(admin, "room.hand_match", f"room:{room}")) == 1

    # Hand-matching keeps no member's token at rest and logs no member's id or token.
    for token in (str(a.token), str(b.token)):
        assert files_containing(srv.data_dir, token.encode()) == [], token
    for needle in (a.member_id, b.member_id, str(a.token), str(b.token)):
        assert needle not in srv.log()


async def refused_and_unchanged(mod: Mod, a: Member, b: Member, ta: str, tb: str,
                                code: str) -> None:
    feed = await mod.feed()
    check = await mod.post("/api/match/check", {"tickets": [ta, tb]})
    assert check.status == 200, check
    assert check.body["ok"] is False and check.body["refused"] == code
    assert code in [w["code"] for w in check.body["why_not"]]
    reply = await mod.post("/api/match", {"tickets": [ta, tb]})
    assert reply.status == 409 and reply.body["error"] == code, reply
    assert " " in reply.body["message"]
    await a.expect_nothing()
    await b.expect_nothing()
    # Both still waiting, as the dashboard's queue shows.
    await feed.until(queue_has(ta))
    await feed.until(queue_has(tb))
    await feed.close()


async def test_different_languages_are_refused_and_nothing_changes(srv: LiveServer) -> None:
    async with Mod(srv.url) as mod, Clients(srv.ws_url) as clients:
        await mod.login("mo")
        a, ta = await waiting(clients, [0], fresh_lang())
        b, tb = await waiting(clients, [0], fresh_lang())
        await refused_and_unchanged(mod, a, b, ta, tb, "different_languages")


async def test_a_member_who_blocked_the_other_is_never_put_with_them(srv: LiveServer) -> None:
    async with Mod(srv.url) as mod, Clients(srv.ws_url) as clients:
        await mod.login("mo")
        pair = await clients.pair()
        await pair.a.send({"type": "block", "room": pair.room})
        await pair.a.expect("closed", room=pair.room)
        await pair.b.expect("left", room=pair.room)
        await pair.b.expect("closed", room=pair.room)
        ta = (await pair.a.join([pair.prompt], [pair.lang]))["ticket"]
        tb = (await pair.b.join([pair.prompt], [pair.lang]))["ticket"]
        await refused_and_unchanged(mod, pair.a, pair.b, ta, tb, "blocked")


async def test_check_explains_the_bridge_wait(srv: LiveServer) -> None:
    async with Mod(srv.url) as mod, Clients(srv.ws_url) as clients:
        await mod.login("mo")
        lang = fresh_lang()
        a, ta = await waiting(clients, [2], lang)
        b, tb = await waiting(clients, [2], lang)
        check = await mod.post("/api/match/check", {"tickets": [tb, ta]})
        assert check.status == 200, check
        assert check.body["ok"] is True
        assert [w["code"] for w in check.body["why_not"]] == ["bridge_wait"]
        # Checking changes nothing: nobody is matched.
        await a.expect_nothing()
        await b.expect_nothing()


async def test_unknown_tickets_and_malformed_requests(srv: LiveServer) -> None:
    async with Mod(srv.url) as mod, Clients(srv.ws_url) as clients:
        await mod.login("mo")
        a, ta = await waiting(clients, [0], fresh_lang())
        check = await mod.post("/api/match/check", {"tickets": [ta, "no-such-ticket"]})
        assert check.body["refused"] == "unknown_ticket" and check.body["ok"] is False
        reply = await mod.post("/api/match", {"tickets": [ta, "no-such-ticket"]})
        assert reply.status == 404 and reply.body["error"] == "unknown_ticket"
        one = await mod.post("/api/match", {"tickets": [ta]})
        assert one.status == 409 and one.body["error"] == "bad_group"
        for body in ({}, {"tickets": "x"}, {"tickets": [1, 2]}, {"tickets": ["a b", "c"]}):
            for path in ("/api/match/check", "/api/match"):
                bad = await mod.post(path, body)
                assert bad.status == 400 and bad.body["error"] == "bad_tickets", (path, body)
        await a.expect_nothing()


async def test_a_notice_reaches_the_room_and_nobody_else(srv: LiveServer) -> None:
    async with Mod(srv.url) as mod, Mod(srv.url) as admin, Clients(srv.ws_url) as clients:
        await mod.login("mo")
        await admin.login("ann")
        pair = await clients.pair()
        elsewhere = await clients.pair()
        words = f"Please keep it kind {marker()}"
        # Cleaned as members' messages are: no direction override survives.
        reply = await mod.post(f"/api/rooms/{pair.room}/notice",
                               {"message": f"  \u202e{words}\u202c "})
        assert reply.status == 204, reply
        for m in (pair.a, pair.b):
            got = await m.expect("notice")
            assert got == {"type": "notice", "level": "moderator", "room": pair.room,
                           "message": words}
        await elsewhere.a.expect_nothing()
        await elsewhere.b.expect_nothing()
        [entry] = await entries(admin, "room.notice", f"room:{pair.room}")
        assert entry["note"] == words and entry["moderator"] == "mo"
        # Not part of the room's history: a resume brings back messages only.
        ack = await pair.a.say(pair.room, "thanks")
        await pair.b.expect("message", room=pair.room, seq=ack["seq"])
        await pair.b.send({"type": "resume", "room": pair.room, "after": 0})
        replayed = await pair.b.expect("message", room=pair.room)
        assert replayed["seq"] == ack["seq"]
        await pair.b.expect("resumed", room=pair.room)
    assert files_containing(srv.data_dir, words.encode()) != []  # the audit entry only
    assert words not in srv.log()


async def test_a_notice_is_checked(srv: LiveServer) -> None:
    async with Mod(srv.url) as mod, Mod(srv.url) as admin, Clients(srv.ws_url) as clients:
        await mod.login("mo")
        await admin.login("ann")
        pair = await clients.pair()
        for message in ("", "   ", "\u200b\u2066", "x" * 301, 7, None):
            reply = await mod.post(f"/api/rooms/{pair.room}/notice", {"message": message})
            assert reply.status == 400 and reply.body["error"] == "bad_message", message
        ok = await mod.post(f"/api/rooms/{pair.room}/notice", {"message": "y" * 300})
        assert ok.status == 204
        assert (await pair.a.expect("notice"))["message"] == "y" * 300
        await pair.b.expect("notice")
        gone = await mod.post("/api/rooms/no-such-room/notice", {"message": "hello"})
        assert gone.status == 404 and gone.body["error"] == "unknown_room"
        await pair.a.send({"type": "leave", "room": pair.room})
        await pair.a.expect("closed", room=pair.room)
        await pair.b.expect("left", room=pair.room)
        await pair.b.expect("closed", room=pair.room)
        closed = await mod.post(f"/api/rooms/{pair.room}/notice", {"message": "hello"})
        assert closed.status == 404 and closed.body["error"] == "unknown_room"
        assert len(await entries(admin, "room.notice", f"room:{pair.room}")) == 1


async def test_csrf_and_origin_are_required(srv: LiveServer) -> None:
    async with Mod(srv.url) as mod, Mod(srv.url) as admin, Clients(srv.ws_url) as clients:
        await mod.login("mo")
        await admin.login("ann")
        lang = fresh_lang()
        a, ta = await waiting(clients, [0], lang)
        b, tb = await waiting(clients, [1], lang)
        pair = await clients.pair()
        calls = (("/api/match/check", {"tickets": [ta, tb]}),
                 ("/api/match", {"tickets": [ta, tb]}),
                 (f"/api/rooms/{pair.room}/notice", {"message": "hello"}))
        for path, body in calls:
            no_token = await mod.post(path, body, csrf=False)
            assert no_token.status == 403 and no_token.body["error"] == "csrf", path
            foreign = await mod.post(path, body, headers=EVIL)
            assert foreign.status == 403 and foreign.body["error"] == "bad_origin", path
        for m in (a, b, pair.a, pair.b):
            await m.expect_nothing()
        audit = await admin.audit()
        assert not [e for e in audit if e["action"] in ("room.hand_match", "room.notice")
                    and e["target"] == f"room:{pair.room}"]
        # Still waiting, still matchable by hand.
        check = await mod.post("/api/match/check", {"tickets": [ta, tb]})
        assert check.body["ok"] is True
