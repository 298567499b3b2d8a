"""Extending a conversation by mutual consent, over real sockets (docs/protocol.md,
"Added fields and frames": `extend`, `extended`, `not_extendable`).

A member asks with `extend`; everyone seated hears who asked (`extend`, with
`from` and `agree`); when every seated member has asked, everyone gets
`extended` with the new end, once per room, by the set length once more.

The tests with servers of their own (make_server) come first: on a shared
Redis (BRIDGECHAT_TEST_BROKER=redis) the module's server, once started, may
lead the rounds and open rooms with its own conversation length.
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime

from wsclient import Clients, assert_still_chatting

STAGE = frozenset({"stage"})


def at(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp()


async def ask(member, room: str, agree: bool | None = None) -> None:  # type: ignore[no-untyped-def]
    frame = {"type": "extend", "room": room}
    if agree is not None:
        frame["agree"] = agree
    await member.send(frame)


async def test_both_agree_the_set_length_is_added_once(make_server) -> None:
    # 0.05 minutes: a conversation of 3 s, then 3 s more once both asked.
    srv = make_server("--conversation-minutes", "0.05")
    async with Clients(srv.ws_url) as clients:
        pair = await clients.pair()
        a, b = pair.a, pair.b
        ends = at(pair.a_matched["ends_at"])
        assert 2.0 < ends - time.time() <= 3.1

        await ask(a, pair.room)
        mine = await a.expect("extend", ignore=STAGE)
        assert mine == {"type": "extend", "room": pair.room, "from": pair.a_alias, "agree": True}
        theirs = await b.expect("extend", ignore=STAGE)
        assert theirs == mine

        await ask(b, pair.room)
        done_a = await a.expect("extended", ignore=STAGE, room=pair.room)
        done_b = await b.expect("extended", ignore=STAGE, room=pair.room)
        assert done_a == done_b
        new_end = at(done_a["ends_at"])
        assert abs(new_end - (ends + 3.0)) < 0.01, (ends, new_end)  # the set length, once more

        # Once only, whoever asks.
        await ask(a, pair.room)
        await a.expect_error("not_extendable")
        await ask(b, pair.room, agree=False)
        await b.expect_error("not_extendable")

        # A member who comes back is told the new end.
        a.abort()
        await b.expect("away", ignore=STAGE, room=pair.room)
        a2 = await clients.connect()
        welcome = await a2.hello(a.token)
        assert welcome["rooms"][0]["ends_at"] == done_a["ends_at"]
        await b.expect("back", ignore=STAGE, room=pair.room)

        # Past the first end the room is still open; it closes at the new one.
        await asyncio.sleep(max(0.0, ends + 0.5 - time.time()))
        await a2.send({"type": "send", "room": pair.room, "id": "late", "text": "still here"})
        await a2.find("ack", id="late")
        await b.find("message", room=pair.room, text="still here")
        assert not [f for f in a2.seen + b.seen if f["type"] == "closed"]
        closed = await b.find("closed", wait=new_end - time.time() + 3, room=pair.room)
        assert closed["reason"] == "timeout"
        assert time.time() >= new_end - 0.1


async def test_an_open_ended_room_cannot_be_extended(make_server) -> None:
    srv = make_server("--conversation-minutes", "0")
    async with Clients(srv.ws_url) as clients:
        pair = await clients.pair()
        await ask(pair.a, pair.room)
        await pair.a.expect_error("not_extendable")
        await pair.b.expect_nothing()
        await assert_still_chatting(pair)


async def test_an_ask_is_news_once_and_a_no_answers_it(clients) -> None:
    pair = await clients.pair()
    a, b = pair.a, pair.b
    await ask(a, pair.room)
    for m in (a, b):
        await m.expect("extend", room=pair.room, agree=True, **{"from": pair.a_alias})
    # Asking again is no news: only the asker hears it back.
    await ask(a, pair.room, agree=True)
    await a.expect("extend", room=pair.room, agree=True, **{"from": pair.a_alias})
    await b.expect_nothing()
    # b answers no: both hear it, and a's ask is gone (b's ask alone extends nothing).
    await ask(b, pair.room, agree=False)
    for m in (a, b):
        await m.expect("extend", room=pair.room, agree=False, **{"from": pair.b_alias})
    await ask(b, pair.room)
    for m in (a, b):
        await m.expect("extend", room=pair.room, agree=True, **{"from": pair.b_alias})
    await a.expect_nothing()
    # Taken back by the asker: news again; a second "no" with no ask waiting is not.
    await ask(b, pair.room, agree=False)
    for m in (a, b):
        await m.expect("extend", room=pair.room, agree=False, **{"from": pair.b_alias})
    await ask(a, pair.room, agree=False)
    await a.expect("extend", room=pair.room, agree=False, **{"from": pair.a_alias})
    await b.expect_nothing()
    await assert_still_chatting(pair)


async def test_only_members_of_a_live_room_may_ask(clients) -> None:
    pair = await clients.pair()
    outsider = await clients.member()
    await ask(outsider, pair.room)
    await outsider.expect_error("not_in_room")
    await ask(outsider, "no-such-room")
    await outsider.expect_error("unknown_room")
    await pair.a.send({"type": "extend", "room": pair.room, "agree": "yes"})
    await pair.a.expect_error("bad_frame")
    await pair.b.expect_nothing()

    await pair.b.send({"type": "leave", "room": pair.room})
    await pair.b.expect("closed", room=pair.room, reason="left")
    await pair.a.expect("left", room=pair.room)
    await pair.a.expect("closed", room=pair.room)
    await ask(pair.a, pair.room)
    error = await pair.a.expect("error")
    assert error["code"] in ("not_in_room", "room_closed"), error
