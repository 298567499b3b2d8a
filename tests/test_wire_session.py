"""Dropped connections, reconnection with the token, replay by `resume`, grace expiry.

The module's `server` fixture runs with `--grace-period 5`.
"""

from __future__ import annotations

import asyncio
import time

from wsclient import DIVIDE_A, DIVIDE_B, Clients, fresh_lang, fresh_topic


async def test_drop_reconnect_back_and_resume_replays_missed(clients) -> None:
    pair = await clients.pair()
    a, b = pair.a, pair.b
    await b.say(pair.room, "before the drop")
    seen = await a.expect("message", room=pair.room, seq=1)
    last_seen = seen["seq"]

    a.abort()
    await b.expect("away", room=pair.room, **{"from": pair.a_alias})
    missed = ["while away 1", "while away 2", "while away 3"]
    acks = [await b.say(pair.room, text) for text in missed]
    assert [ack["seq"] for ack in acks] == [2, 3, 4]

    a2 = await clients.connect()
    welcome = await a2.hello(a.token)
    assert welcome["token"] is None
    assert welcome["member"] == a.member_id
    rooms = welcome["rooms"]
    assert [r["room"] for r in rooms] == [pair.room], rooms
    room = rooms[0]
    assert room["prompt"]["id"] == pair.prompt
    assert room["you"] == pair.a_alias
    assert sorted(m["alias"] for m in room["members"]) == sorted([pair.a_alias, pair.b_alias])
    assert isinstance(room["because"], list)
    assert "ends_at" in room
    await b.expect("back", room=pair.room, **{"from": pair.a_alias})

    await a2.send({"type": "resume", "room": pair.room, "after": last_seen})
    replay = [await a2.expect("message", room=pair.room) for _ in missed]
    assert [m["seq"] for m in replay] == [2, 3, 4]
    assert [m["text"] for m in replay] == missed
    assert all(m["from"] == pair.b_alias for m in replay)
    assert [m["ts"] for m in replay] == [ack["ts"] for ack in acks]
    await a2.expect("resumed", room=pair.room, seq=4, complete=True)
    await a2.expect_nothing()  # no duplicates after the replay

    ack = await a2.say(pair.room, "I'm back")
    assert ack["seq"] == 5
    msg = await b.expect("message", room=pair.room, seq=5, text="I'm back")
    assert msg["from"] == pair.a_alias


async def test_grace_expiry_closes_room_with_timeout(make_server) -> None:
    grace = 1.5  # a server of its own with a short grace period
    srv = make_server("--grace-period", str(grace))
    async with Clients(srv.ws_url) as clients:
        pair = await clients.pair()
        pair.a.abort()
        dropped = time.monotonic()
        await pair.b.expect("away", room=pair.room, **{"from": pair.a_alias})
        frame = await pair.b.recv(grace + 7)
        if frame["type"] == "left":  # docs/protocol.md: `left`, then `closed` below two members
            assert frame["room"] == pair.room and frame["from"] == pair.a_alias, frame
            frame = await pair.b.recv(2)
        assert frame["type"] == "closed", frame
        assert frame["room"] == pair.room and frame["reason"] == "timeout", frame
        waited = time.monotonic() - dropped
        assert grace - 0.5 <= waited <= grace + 7, waited
        # The member still exists, but the room is gone from their welcome.
        again = await clients.connect()
        welcome = await again.hello(pair.a.token)
        assert welcome["token"] is None and welcome["rooms"] == []


async def test_send_after_leave_is_refused_with_ref(clients) -> None:
    pair = await clients.pair()
    await pair.a.send({"type": "leave", "room": pair.room})
    await pair.a.expect("closed", room=pair.room, reason="left")
    await pair.a.send({"type": "send", "room": pair.room, "id": "late-1", "text": "hello?"})
    err = await pair.a.expect("error")
    assert err["code"] in {"room_closed", "not_in_room"}, err
    assert err.get("ref") == "late-1", err


async def test_second_connection_with_same_token_replaces_first_4001(clients) -> None:
    first = await clients.member()
    second = await clients.connect()
    welcome = await second.hello(first.token)
    assert welcome["member"] == first.member_id and welcome["token"] is None
    code, frames = await first.expect_close()
    assert code == 4001, frames


async def test_drop_while_queued_withdraws_the_ticket(clients) -> None:
    a = await clients.member()
    prompt, lang = a.prompt_id(fresh_topic()), fresh_lang()
    await a.join([prompt], [lang], DIVIDE_A)
    a.abort()
    await asyncio.sleep(0.2)
    b = await clients.member()
    await b.join([prompt], [lang], DIVIDE_B)
    await b.expect_nothing(1.5)
    # Control: b is matchable, just not with someone who is gone.
    c = await clients.member()
    await c.join([prompt], [lang], DIVIDE_A)
    b_matched = await b.expect("matched")
    assert b_matched["you"] != "" and len(b_matched["members"]) == 2
    await c.expect("matched", room=b_matched["room"])
