"""Frames an attacker would send: each gets a clear error, costs little, and breaks nothing.

Issue 16's findings over real sockets: nesting deep enough to overflow a
recursive decoder (6), messages nobody can see or that display reversed
(11), and a `resume` that would return a room's whole history at once (4).
"""

from __future__ import annotations

import uuid

from wsclient import Clients, assert_still_chatting

DEEP = "[" * 1000 + "]" * 1000  # 2 KB, far under the frame limit


async def test_deep_nesting_is_bad_json_before_and_after_hello(clients: Clients) -> None:
    m = await clients.connect()
    await m.send_raw(DEEP)
    await m.expect_error("bad_json")
    await m.send_raw('{"type":"hello","v":1,"token":null,"x":' + DEEP + "}")
    await m.expect_error("bad_json")
    await m.hello()  # the connection is as it was
    pair = await clients.pair()
    await pair.a.send_raw('{"type":"send","room":"' + pair.room + '","id":' + DEEP + "}")
    await pair.a.expect_error("bad_json")
    await pair.b.expect_nothing()
    await assert_still_chatting(pair)


async def test_invisible_messages_are_empty_and_direction_overrides_removed(
        clients: Clients) -> None:
    pair = await clients.pair()
    for invisible in ("\u200b\u200b\u200b", "\x00", "\u2060 \u200b", "\u202e\u2066\u2069",
                      "\x00\x07 \n\t"):
        await pair.a.send({"type": "send", "room": pair.room, "id": uuid.uuid4().hex,
                           "text": invisible})
        await pair.a.expect_error("text_empty")
    await pair.b.expect_nothing()
    # An override would show "gnp.exe" as "exe.png": it is taken out, the rest relayed.
    ack = await pair.a.say(pair.room, "photo\u202egnp.exe")
    got = await pair.b.expect("message", seq=ack["seq"])
    assert got["text"] == "photognp.exe"
    # What shows is kept: emoji sequences joined by U+200D, Arabic, line breaks.
    for text in ("👨\u200d👩\u200d👧", "مرحبا بك", "one\ntwo"):
        ack = await pair.a.say(pair.room, text)
        assert (await pair.b.expect("message", seq=ack["seq"]))["text"] == text


async def test_resume_comes_a_page_at_a_time(make_server) -> None:
    srv = make_server("--send-rate", "500", "--send-burst", "500", "--first-day-burst", "500")
    async with Clients(srv.ws_url) as clients:
        pair = await clients.pair()
        for i in range(1, 121):
            await pair.a.send({"type": "send", "room": pair.room, "id": f"m{i}",
                               "text": f"message {i}"})
        for i in range(1, 121):
            await pair.a.expect("ack", id=f"m{i}", ignore=frozenset({"typing"}))
            await pair.b.expect("message", seq=i)
        after, pages = 0, []
        while True:
            await pair.b.send({"type": "resume", "room": pair.room, "after": after})
            page = []
            while (frame := await pair.b.recv())["type"] == "message":
                page.append(frame["seq"])
            assert frame["type"] == "resumed" and frame["seq"] == 120, frame
            pages.append(page)
            assert frame["complete"] is True
            if not frame["more"]:
                break
            after = page[-1]
        assert [len(p) for p in pages] == [50, 50, 20]
        assert [s for p in pages for s in p] == list(range(1, 121))


async def test_resume_is_charged_against_the_send_budget(clients: Clients) -> None:
    """Default budget on a member's first day: a burst of 20; a page costs 2, so the 11th
    resume at once is refused."""
    pair = await clients.pair()
    for _ in range(10):
        await pair.b.send({"type": "resume", "room": pair.room, "after": 0})
    for _ in range(10):
        assert (await pair.b.expect("resumed"))["more"] is False
    await pair.b.send({"type": "resume", "room": pair.room, "after": 0})
    await pair.b.expect_error("rate_limited")
