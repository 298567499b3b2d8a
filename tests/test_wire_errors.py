"""Every bad input gets its stable error code, and the connection's other state survives.

One test per case. Frame errors are sent by a member who is chatting in a
room; afterwards the same connection must still chat both ways (or, for
queue errors, still be queued and get matched).
"""

from __future__ import annotations

import json

import pytest
from websockets.exceptions import InvalidStatus
from wsclient import (
    DIVIDE_A,
    DIVIDE_B,
    Clients,
    Pair,
    assert_still_chatting,
    fresh_lang,
    fresh_topic,
)


@pytest.fixture
async def pair(clients) -> Pair:
    return await clients.pair()


# -- malformed frames -------------------------------------------------------------

async def test_invalid_json_is_bad_json(pair) -> None:
    await pair.a.send_raw('{"type": "send", "room": ')
    await pair.a.expect_error("bad_json")
    await pair.b.expect_nothing(0.2)
    await assert_still_chatting(pair)


async def test_binary_frame_is_bad_frame(pair) -> None:
    frame = json.dumps({"type": "send", "room": pair.room, "id": "bin", "text": "hi"})
    await pair.a.send_raw(frame.encode())
    await pair.a.expect_error("bad_frame")
    await pair.b.expect_nothing(0.2)  # not relayed
    await assert_still_chatting(pair)


async def test_json_array_is_bad_frame(pair) -> None:
    frame = {"type": "send", "room": pair.room, "id": "x", "text": "hi"}
    await pair.a.send_raw(json.dumps([frame]))
    await pair.a.expect_error("bad_frame")
    await assert_still_chatting(pair)


async def test_missing_type_is_bad_frame(pair) -> None:
    await pair.a.send({"room": pair.room, "id": "nt", "text": "hi"})
    await pair.a.expect_error("bad_frame")
    await pair.a.send({"type": 7, "room": pair.room})
    await pair.a.expect_error("bad_frame")
    await assert_still_chatting(pair)


async def test_unknown_type(pair) -> None:
    await pair.a.send({"type": "dance", "room": pair.room})
    await pair.a.expect_error("unknown_type")
    await assert_still_chatting(pair)


async def test_wrong_field_types_is_bad_frame(pair) -> None:
    await pair.a.send({"type": "send", "room": pair.room, "id": "wt-1", "text": 123})
    err = await pair.a.expect_error("bad_frame")
    assert err.get("ref") == "wt-1", err
    await pair.a.send({"type": "typing", "room": 5})
    await pair.a.expect_error("bad_frame")
    await pair.a.send({"type": "resume", "room": pair.room, "after": "zero"})
    await pair.a.expect_error("bad_frame")
    await pair.a.send({"type": "send", "room": pair.room, "id": 42, "text": "hi"})
    await pair.a.expect_error("bad_frame")
    await pair.b.expect_nothing(0.2)
    await assert_still_chatting(pair)


async def test_missing_field_is_bad_frame(pair) -> None:
    await pair.a.send({"type": "send", "room": pair.room, "text": "no id"})
    await pair.a.expect_error("bad_frame")
    await pair.b.expect_nothing(0.2)
    await assert_still_chatting(pair)


# -- send: text and room ----------------------------------------------------------------

async def test_empty_text_is_text_empty(pair) -> None:
    await pair.a.send({"type": "send", "room": pair.room, "id": "e-1", "text": ""})
    err = await pair.a.expect_error("text_empty")
    assert err.get("ref") == "e-1", err
    await pair.b.expect_nothing(0.2)
    await assert_still_chatting(pair)


async def test_whitespace_text_is_text_empty(pair) -> None:
    await pair.a.send({"type": "send", "room": pair.room, "id": "w-1", "text": " \t\n  "})
    err = await pair.a.expect_error("text_empty")
    assert err.get("ref") == "w-1", err
    await pair.b.expect_nothing(0.2)
    await assert_still_chatting(pair)


async def test_2001_code_points_is_text_too_long(pair) -> None:
    text = "\N{GRINNING FACE}" * 2001  # 8,004 bytes: under 16 KiB, over 2,000 code points
    await pair.a.send({"type": "send", "room": pair.room, "id": "long-1", "text": text})
    err = await pair.a.expect_error("text_too_long")
    assert err.get("ref") == "long-1", err
    await pair.b.expect_nothing(0.2)
    await assert_still_chatting(pair)


async def test_unknown_room(pair) -> None:
    await pair.a.send({"type": "send", "room": "no-such-room-0123456789", "id": "ur-1",
                       "text": "anyone?"})
    err = await pair.a.expect_error("unknown_room")
    assert err.get("ref") == "ur-1", err
    await pair.b.expect_nothing(0.2)
    await assert_still_chatting(pair)


async def test_not_in_room(clients, pair) -> None:
    outsider = await clients.member()
    await outsider.send({"type": "send", "room": pair.room, "id": "nir-1", "text": "let me in"})
    err = await outsider.expect_error("not_in_room")
    assert err.get("ref") == "nir-1", err
    await pair.a.expect_nothing(0.2)
    await pair.b.expect_nothing(0.01)
    await assert_still_chatting(pair)


# -- sizes ----------------------------------------------------------------------------

async def test_frame_over_16_kib_is_too_large(pair) -> None:
    frame = json.dumps({"type": "send", "room": pair.room, "id": "big-1", "text": "a" * 17_000})
    assert 16 * 1024 < len(frame.encode()) < 64 * 1024
    await pair.a.send_raw(frame)
    await pair.a.expect_error("too_large")
    await pair.b.expect_nothing(0.2)
    await assert_still_chatting(pair)  # the connection stays open


async def test_frame_over_64_kib_closes_1009(clients) -> None:
    member = await clients.member()
    frame = json.dumps({"type": "typing", "room": "r", "pad": "a" * (65 * 1024)})
    await member.send_raw(frame)
    code, _frames = await member.expect_close()
    assert code == 1009


# -- hello ------------------------------------------------------------------------------

async def test_join_before_hello_is_hello_required(clients) -> None:
    member = await clients.connect()
    await member.send({"type": "join", "prompts": ["neighbours"], "languages": ["en"]})
    await member.expect_error("hello_required")
    welcome = await member.hello()
    assert welcome["token"]


async def test_hello_v2_is_unsupported_version(clients) -> None:
    member = await clients.connect()
    await member.send({"type": "hello", "v": 2, "token": None})
    await member.expect_error("unsupported_version")
    welcome = await member.hello()
    assert welcome["token"]


async def test_unknown_token(clients) -> None:
    member = await clients.connect()
    await member.send({"type": "hello", "v": 1, "token": "tok_" + "x" * 40})
    await member.expect_error("unknown_token")
    welcome = await member.hello(None)  # start afresh on the same connection
    assert welcome["token"]


async def test_second_hello_is_already_welcomed(clients, pair) -> None:
    await pair.a.send({"type": "hello", "v": 1, "token": None})
    await pair.a.expect_error("already_welcomed")
    await assert_still_chatting(pair)


# -- join -------------------------------------------------------------------------------

async def _still_queued(clients, member, prompt: str, lang: str) -> None:
    partner = await clients.member()
    await partner.join([prompt], [lang], DIVIDE_B)
    m1 = await member.expect("matched")
    m2 = await partner.expect("matched")
    assert m1["room"] == m2["room"]


async def test_bad_profile_key(clients) -> None:
    member = await clients.member()
    prompt, lang = member.prompt_id(fresh_topic()), fresh_lang()
    await member.send({"type": "join", "prompts": [prompt], "languages": [lang],
                       "profile": {"shoe_size": "42"}})
    await member.expect_error("bad_profile")
    await member.join([prompt], [lang], DIVIDE_A)
    await _still_queued(clients, member, prompt, lang)


async def test_bad_profile_bucket(clients) -> None:
    member = await clients.member()
    prompt, lang = member.prompt_id(fresh_topic()), fresh_lang()
    await member.send({"type": "join", "prompts": [prompt], "languages": [lang],
                       "profile": {"age_band": "17"}})
    await member.expect_error("bad_profile")
    await member.join([prompt], [lang], DIVIDE_A)
    await _still_queued(clients, member, prompt, lang)


async def test_unknown_prompt(clients) -> None:
    member = await clients.member()
    prompt, lang = member.prompt_id(fresh_topic()), fresh_lang()
    await member.send({"type": "join", "prompts": ["no-such-prompt"], "languages": [lang]})
    await member.expect_error("unknown_prompt")
    await member.join([prompt], [lang], DIVIDE_A)
    await _still_queued(clients, member, prompt, lang)


async def test_second_join_while_queued_is_already_queued(clients) -> None:
    member = await clients.member()
    prompt, lang = member.prompt_id(fresh_topic()), fresh_lang()
    queued = await member.join([prompt], [lang], DIVIDE_A)
    await member.send({"type": "join", "prompts": [prompt], "languages": [lang]})
    await member.expect_error("already_queued")
    await _still_queued(clients, member, prompt, lang)
    assert queued["ticket"]


async def test_bad_frames_while_queued_keep_the_ticket(clients) -> None:
    member = await clients.member()
    prompt, lang = member.prompt_id(fresh_topic()), fresh_lang()
    await member.join([prompt], [lang], DIVIDE_A)
    await member.send_raw("not json")
    await member.expect_error("bad_json")
    await member.send_raw(b"\x00\x01")
    await member.expect_error("bad_frame")
    await member.send({"type": "dance"})
    await member.expect_error("unknown_type")
    await _still_queued(clients, member, prompt, lang)


async def test_leave_queue_when_not_queued_is_not_queued(clients) -> None:
    member = await clients.member()
    await member.send({"type": "leave_queue"})
    await member.expect_error("not_queued")
    prompt, lang = member.prompt_id(fresh_topic()), fresh_lang()
    await member.join([prompt], [lang], DIVIDE_A)
    await _still_queued(clients, member, prompt, lang)


# -- Origin -----------------------------------------------------------------------------

async def test_foreign_origin_is_refused_with_403(clients) -> None:
    with pytest.raises(InvalidStatus) as info:
        await clients.connect(origin="https://evil.example")
    assert info.value.response.status_code == 403


async def test_no_origin_is_accepted(clients) -> None:
    member = await clients.connect()
    assert "Origin" not in member.ws.request.headers
    await member.hello()


async def test_own_origin_is_accepted(server, clients) -> None:
    member = await clients.connect(origin=server.origin)
    assert member.ws.request.headers["Origin"] == server.origin
    await member.hello()


# -- flood ------------------------------------------------------------------------------

async def test_bad_frame_flood_gets_too_many_errors_then_1008(make_server) -> None:
    srv = make_server()
    async with Clients(srv.ws_url) as clients:
        member = await clients.member()
        for i in range(30):
            await member.send_raw(f"not json {i}")
            await member.expect_error("bad_json")
        await member.send_raw("not json, one too many")
        await member.expect_error("too_many_errors")
        code, frames = await member.expect_close()
        assert code == 1008, frames
