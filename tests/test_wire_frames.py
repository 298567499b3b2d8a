"""Member frames over a real /ws socket, field by field, per docs/protocol.md."""

from __future__ import annotations

import json
import re
import urllib.request

from wsclient import (
    DIVIDE_A,
    DIVIDE_B,
    assert_b64url,
    assert_iso8601,
    fresh_lang,
    fresh_topic,
)

DEFAULT_DIMENSIONS = {
    "age_band": ["18-29", "30-44", "45-59", "60+"],
    "origin": ["born_here", "settled", "newcomer"],
    "area": ["urban", "suburban", "rural"],
    "politics": ["left", "centre", "right"],
}
FAR_A = DIVIDE_A  # differ on every dimension, so `because` has the most to (not) reveal
FAR_B = DIVIDE_B


# -- HTTP and handshake -----------------------------------------------------------

def test_healthz_is_200(server) -> None:
    with urllib.request.urlopen(server.url + "/healthz", timeout=5) as r:
        assert r.status == 200


def test_index_serves_html(server) -> None:
    with urllib.request.urlopen(server.url + "/", timeout=5) as r:
        assert r.status == 200
        assert r.headers.get_content_type() == "text/html"


async def test_handshake_has_no_permessage_deflate(clients) -> None:
    member = await clients.connect()  # websockets offers permessage-deflate by default
    offered = member.ws.request.headers.get("Sec-WebSocket-Extensions", "")
    assert "permessage-deflate" in offered, "the client should have offered it"
    accepted = member.ws.response.headers.get_all("Sec-WebSocket-Extensions")
    assert not any("permessage-deflate" in value for value in accepted), accepted
    await member.hello()


# -- hello / welcome ----------------------------------------------------------------

async def test_welcome_for_new_member(clients) -> None:
    member = await clients.connect()
    await member.send({"type": "hello", "v": 1, "token": None})
    welcome = await member.expect("welcome")
    assert isinstance(welcome["member"], str) and len(welcome["member"]) >= 16
    assert isinstance(welcome["token"], str) and len(welcome["token"]) >= 16
    assert welcome["token"] != welcome["member"]
    prompts = welcome["prompts"]
    assert isinstance(prompts, list) and prompts
    for prompt in prompts:
        assert isinstance(prompt["id"], str) and prompt["id"]
        assert isinstance(prompt["text"], str) and prompt["text"]
        assert isinstance(prompt["lang"], str) and prompt["lang"]
    assert len({p["id"] for p in prompts}) == len(prompts)
    assert {"neighbours", "home", "work"} <= {p["id"] for p in prompts}
    dimensions = welcome["dimensions"]
    assert isinstance(dimensions, list)
    for dim in dimensions:
        assert isinstance(dim["id"], str) and dim["id"]
        assert isinstance(dim["label"], str) and dim["label"]
        assert isinstance(dim["buckets"], list) and all(isinstance(b, str) for b in dim["buckets"])
    assert {d["id"]: d["buckets"] for d in dimensions} == DEFAULT_DIMENSIONS
    assert welcome["rooms"] == []  # docs/protocol.md: welcome.rooms, empty for a new member


async def test_welcome_for_returning_member(clients) -> None:
    first = await clients.member()
    token, member_id = first.token, first.member_id
    await first.close()
    again = await clients.connect()
    welcome = await again.hello(token)
    assert welcome["member"] == member_id
    assert welcome["token"] is None
    assert welcome["rooms"] == []
    assert welcome["prompts"] == first.welcome["prompts"]


async def test_hello_with_lang_is_accepted(clients) -> None:
    member = await clients.connect()
    await member.send({"type": "hello", "v": 1, "token": None, "lang": "pt-BR"})
    welcome = await member.expect("welcome")
    assert isinstance(welcome["member"], str) and len(welcome["member"]) >= 16


# -- join / queued / leave_queue ----------------------------------------------------

async def test_join_is_answered_with_queued(clients) -> None:
    member = await clients.member()
    queued = await member.join([member.prompt_id(fresh_topic())], [fresh_lang()], DIVIDE_A)
    assert isinstance(queued["ticket"], str) and queued["ticket"]
    assert isinstance(queued["waiting"], int) and not isinstance(queued["waiting"], bool)
    assert queued["waiting"] >= 0
    assert queued["eta_s"] is None or isinstance(queued["eta_s"], int | float)


async def test_leave_queue_answers_left_queue_and_withdraws(clients) -> None:
    a = await clients.member()
    prompt, lang = a.prompt_id(fresh_topic()), fresh_lang()
    queued = await a.join([prompt], [lang], DIVIDE_A)
    await a.send({"type": "leave_queue"})
    await a.expect("left_queue", ticket=queued["ticket"])
    # Withdrawn: a partner who would have been matched at once is not.
    b = await clients.member()
    await b.join([prompt], [lang], DIVIDE_B)
    await a.expect_nothing(1.0)
    await b.expect_nothing(0.1)
    # Control: b is matchable, just not with a withdrawn ticket.
    c = await clients.member()
    await c.join([prompt], [lang], DIVIDE_A)
    b_matched = await b.expect("matched")
    await c.expect("matched", room=b_matched["room"])
    await a.expect_nothing(0.1)


async def test_join_with_every_field(clients) -> None:
    a = await clients.member()
    b = await clients.member()
    prompt, lang = a.prompt_id(fresh_topic()), fresh_lang()
    await a.join([prompt], [lang], FAR_A, stances={prompt: "agree"}, mode="bridge", group=2)
    await b.join([prompt], [lang], FAR_B, stances={prompt: "disagree"}, mode="bridge", group=2)
    a_matched = await a.expect("matched")
    b_matched = await b.expect("matched")
    assert a_matched["room"] == b_matched["room"]


# -- matched ------------------------------------------------------------------------

async def test_matched_frame_shape(clients) -> None:
    pair = await clients.pair(profile_a=FAR_A, profile_b=FAR_B)
    prompt_text = {p["id"]: p["text"] for p in pair.a.welcome["prompts"]}[pair.prompt]
    buckets = [b for values in DEFAULT_DIMENSIONS.values() for b in values]
    ids = {pair.a.member_id, pair.b.member_id}
    for matched, member in ((pair.a_matched, pair.a), (pair.b_matched, pair.b)):
        assert isinstance(matched["room"], str) and matched["room"]
        assert matched["prompt"]["id"] == pair.prompt
        assert matched["prompt"]["text"] == prompt_text
        members = matched["members"]
        assert isinstance(members, list) and len(members) == 2
        aliases = [m["alias"] for m in members]
        assert all(isinstance(a, str) and a for a in aliases) and len(set(aliases)) == 2
        for entry in members:
            assert not {"id", "member", "member_id", "token"} & set(entry), entry
        assert matched["you"] in aliases
        raw = json.dumps(matched)
        assert not any(i in raw for i in ids), f"a member id leaked into matched: {raw}"
        assert member.token not in raw
        because = matched["because"]
        assert isinstance(because, list) and because
        for reason in because:
            assert isinstance(reason, str) and reason.strip()
            for bucket in buckets:
                assert not re.search(rf"(?<![\w-]){re.escape(bucket)}(?![\w+-])", reason, re.I), (
                    f"because reveals the bucket {bucket!r}: {reason!r}")
        assert matched["ends_at"] is None or assert_iso8601(matched["ends_at"])
    assert pair.a_matched["you"] != pair.b_matched["you"]
    assert sorted(m["alias"] for m in pair.a_matched["members"]) == sorted(
        m["alias"] for m in pair.b_matched["members"])


# -- send / ack / message -------------------------------------------------------------

async def test_message_and_ack_fields(clients) -> None:
    pair = await clients.pair()
    await pair.a.send({"type": "send", "room": pair.room, "id": "m-1", "text": "  Hello there  "})
    ack = await pair.a.expect("ack", id="m-1", seq=1)
    assert_iso8601(ack["ts"])
    msg = await pair.b.expect("message", room=pair.room, seq=1, **{"from": pair.a_alias})
    assert msg["text"].strip() == "Hello there"
    assert msg["ts"] == ack["ts"]
    assert_iso8601(msg["ts"])
    assert_b64url(msg["tag"])
    await pair.a.expect_nothing()  # no echo of one's own message


async def test_seq_counts_per_room_across_senders(clients) -> None:
    pair = await clients.pair()
    a_ack1 = await pair.a.say(pair.room, "one")
    m1 = await pair.b.expect("message", text="one")
    b_ack = await pair.b.say(pair.room, "two")
    m2 = await pair.a.expect("message", text="two")
    a_ack3 = await pair.a.say(pair.room, "three")
    m3 = await pair.b.expect("message", text="three")
    assert [a_ack1["seq"], b_ack["seq"], a_ack3["seq"]] == [1, 2, 3]
    assert [m1["seq"], m2["seq"], m3["seq"]] == [1, 2, 3]
    assert m1["from"] == m3["from"] == pair.a_alias and m2["from"] == pair.b_alias
    assert len({m1["tag"], m2["tag"], m3["tag"]}) == 3
    assert assert_iso8601(m1["ts"]) <= assert_iso8601(m2["ts"]) <= assert_iso8601(m3["ts"])
    await pair.a.expect_nothing(0.2)
    await pair.b.expect_nothing(0.2)


async def test_resend_same_id_is_acked_again_and_relayed_once(clients) -> None:
    pair = await clients.pair()
    frame = {"type": "send", "room": pair.room, "id": "dup-1", "text": "only once"}
    await pair.a.send(frame)
    first = await pair.a.expect("ack", id="dup-1")
    msg = await pair.b.expect("message", text="only once", seq=first["seq"])
    await pair.a.send(frame)
    again = await pair.a.expect("ack", id="dup-1")
    assert (again["seq"], again["ts"]) == (first["seq"], first["ts"])
    await pair.b.expect_nothing()
    # The next new message is the very next frame the partner sees: no duplicate between.
    nxt = await pair.a.say(pair.room, "next one")
    assert nxt["seq"] == first["seq"] + 1
    following = await pair.b.expect("message", text="next one", seq=first["seq"] + 1)
    assert following["tag"] != msg["tag"]


async def test_exactly_2000_emoji_code_points_accepted(clients) -> None:
    pair = await clients.pair()
    text = "\N{GRINNING FACE}" * 2000  # 2,000 code points, 4,000 UTF-16 units, 8,000 bytes
    ack = await pair.a.say(pair.room, text)
    msg = await pair.b.expect("message", seq=ack["seq"])
    assert msg["text"] == text


# -- typing ---------------------------------------------------------------------------

async def test_typing_relayed_to_the_other(clients) -> None:
    pair = await clients.pair()
    await pair.a.send({"type": "typing", "room": pair.room})
    typing = await pair.b.expect("typing", room=pair.room)
    assert typing["from"] == pair.a_alias
    await pair.a.expect_nothing()


# -- resume on a live connection ----------------------------------------------------

async def test_resume_replays_after_seq_then_resumed(clients) -> None:
    pair = await clients.pair()
    for i in range(1, 5):
        await pair.a.say(pair.room, f"line {i}")
        await pair.b.expect("message", seq=i)
    await pair.b.send({"type": "resume", "room": pair.room, "after": 1})
    replay = [await pair.b.expect("message", room=pair.room) for _ in range(3)]
    assert [m["seq"] for m in replay] == [2, 3, 4]
    assert [m["text"] for m in replay] == ["line 2", "line 3", "line 4"]
    assert all(m["from"] == pair.a_alias for m in replay)
    await pair.b.expect("resumed", room=pair.room, seq=4, complete=True)
    await pair.b.send({"type": "resume", "room": pair.room, "after": 4})
    await pair.b.expect("resumed", room=pair.room, seq=4, complete=True)
    await pair.b.expect_nothing(0.3)


# -- leave ----------------------------------------------------------------------------

async def test_leave_closes_for_leaver_and_left_then_closed_for_other(clients) -> None:
    pair = await clients.pair()
    await pair.a.send({"type": "leave", "room": pair.room})
    await pair.a.expect("closed", room=pair.room, reason="left")
    await pair.b.expect("left", room=pair.room, **{"from": pair.a_alias})
    await pair.b.expect("closed", room=pair.room, reason="left")
    # Both connections live on: a new join is answered.
    await pair.a.join([pair.prompt], [fresh_lang()], DIVIDE_A)
