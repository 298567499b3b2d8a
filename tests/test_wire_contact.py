"""Contact details only by mutual consent, and the watch list's nudge, over real sockets
(docs/safety.md; docs/protocol.md, "Safety between strangers").

A `send` holding a phone number, an e-mail, a link or a handle is refused
with `error contact_held` (ref: its id): the partner receives nothing, and
the text is neither relayed nor kept. A member offers an exchange with
`contact {room}`; the others hear `contact {room, from, agree}`; once all
agreed, all get `contact_open` and such messages pass. A message holding a
phrase of the deck's watch list is relayed, and only its recipients get
`nudge {room, seq}`. The wire suite runs these on the memory broker and on
a real Redis (BRIDGECHAT_TEST_BROKER=redis).

The test with a deck of its own comes first: on a shared Redis the module's
server, once started, may lead the rounds and open rooms by its own deck.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from test_wire_privacy import files_containing
from wsclient import Clients, Pair, assert_still_chatting, marker

STAGE = frozenset({"stage"})
CONTACT_LINES = {
    "phone": "call me on 0770 090 0123 tonight",
    "email": "write to maria.k@example.org",
    "link": "look at example.com/about-me",
    "handle": "add me on insta: @maria_92",
}
DECK = Path(__file__).parents[1] / "server" / "bridgechat" / "data" / "deck.toml"


async def held(member: Any, room: str, text: str, id_: str) -> dict[str, Any]:
    await member.send({"type": "send", "room": room, "id": id_, "text": text})
    err = await member.expect_error("contact_held")
    assert err["ref"] == id_, err
    return err


async def agree_both(pair: Pair) -> None:
    await pair.a.send({"type": "contact", "room": pair.room})
    offer = await pair.b.expect("contact", ignore=STAGE)
    assert offer == {"type": "contact", "room": pair.room, "from": pair.a_alias, "agree": True}
    await pair.b.send({"type": "contact", "room": pair.room, "agree": True})
    for m in (pair.a, pair.b):
        await m.expect("contact_open", ignore=STAGE, room=pair.room)


def deck_with(tmp: Path, *, minors: bool, hold: bool) -> Path:
    text = DECK.read_text()
    if minors:
        text = text.replace('buckets = ["18-29", "30-44", "45-59", "60+"]',
                            'buckets = ["13-17", "18-29", "30-44", "45-59", "60+"]\n'
                            'minors = ["13-17"]')
    if not hold:
        text = text.replace("hold_contact_details = true", "hold_contact_details = false")
    path = tmp / "deck.toml"
    path.write_text(text)
    return path


async def test_off_for_the_deck_but_never_with_a_member_under_18(
        make_server: Any, tmp_path: Path) -> None:
    srv = make_server("--deck", str(deck_with(tmp_path, minors=True, hold=False)))
    async with Clients(srv.ws_url) as clients:
        adults = await clients.pair()
        ack = await adults.a.say(adults.room, CONTACT_LINES["phone"])
        await adults.b.expect("message", ignore=STAGE, seq=ack["seq"])

        young = await clients.pair(profile_a={"age_band": "13-17", "area": "rural"},
                                   profile_b={"age_band": "60+", "area": "urban"})
        await held(young.b, young.room, CONTACT_LINES["handle"], "to-a-minor")
        await young.a.expect_nothing(ignore=STAGE)
        await young.b.send({"type": "contact", "room": young.room})
        await young.b.expect_error("contact_not_allowed")
        await young.a.expect_nothing(ignore=STAGE)


async def test_each_kind_is_held_until_both_agree_then_passes(clients: Clients) -> None:
    pair = await clients.pair()
    for kind, text in CONTACT_LINES.items():
        await held(pair.a, pair.room, text, f"held-{kind}")
    # Nothing of them reached the partner, and the room goes on.
    await pair.b.expect_nothing(ignore=STAGE)
    await assert_still_chatting(pair)

    await agree_both(pair)
    for kind, text in CONTACT_LINES.items():
        ack = await pair.a.say(pair.room, text)
        got = await pair.b.expect("message", ignore=STAGE, seq=ack["seq"])
        assert got["text"] == text, kind
    # The partner may share theirs now too.
    ack = await pair.b.say(pair.room, "mine is +44 7700 900123")
    await pair.a.expect("message", ignore=STAGE, seq=ack["seq"])


async def test_an_offer_can_be_withdrawn_and_one_yes_is_not_enough(clients: Clients) -> None:
    pair = await clients.pair()
    await pair.a.send({"type": "contact", "room": pair.room})
    await pair.b.expect("contact", ignore=STAGE, agree=True, **{"from": pair.a_alias})
    # Only the offerer agreed: still held, for them too.
    await held(pair.a, pair.room, CONTACT_LINES["email"], "early")
    await pair.a.send({"type": "contact", "room": pair.room, "agree": False})
    await pair.b.expect("contact", ignore=STAGE, agree=False, **{"from": pair.a_alias})
    # B's yes after the withdrawal is a new offer, not an agreement.
    await pair.b.send({"type": "contact", "room": pair.room})
    await pair.a.expect("contact", ignore=STAGE, agree=True, **{"from": pair.b_alias})
    await pair.b.expect_nothing(ignore=STAGE)
    await held(pair.b, pair.room, CONTACT_LINES["phone"], "still-held")
    await pair.a.expect_nothing(ignore=STAGE)


async def test_held_text_is_neither_relayed_nor_kept(make_server: Any) -> None:
    srv = make_server()
    secret = marker()
    async with Clients(srv.ws_url) as clients:
        pair = await clients.pair()
        await held(pair.a, pair.room, f"mail me at {secret}@example.org", "m1")
        await held(pair.a, pair.room, f"t.me/{secret}", "m2")
        await pair.b.expect_nothing(ignore=STAGE)
        # A resume replays nothing of it either.
        await pair.b.send({"type": "resume", "room": pair.room, "after": 0})
        assert (await pair.b.expect("resumed", ignore=STAGE))["seq"] == 0
        await pair.a.send({"type": "leave", "room": pair.room})
        await pair.a.expect("closed", ignore=STAGE, room=pair.room)
    await asyncio.sleep(0.3)
    srv.stop()
    assert files_containing(srv.data_dir, secret.encode()) == []
    assert secret.encode() not in srv.log_path.read_bytes()


async def test_a_watched_phrase_nudges_the_recipient_only(clients: Clients) -> None:
    pair = await clients.pair()
    ack = await pair.a.say(pair.room, "please sеnd me a photo")  # a Cyrillic е inside
    got = await pair.b.expect("message", ignore=STAGE, seq=ack["seq"])
    assert got["text"] == "please sеnd me a photo"
    nudge = await pair.b.expect("nudge", ignore=STAGE)
    assert nudge == {"type": "nudge", "room": pair.room, "seq": ack["seq"]}
    await pair.a.expect_nothing(ignore=STAGE)
    # An ordinary message: no nudge.
    ack = await pair.a.say(pair.room, "a photo of the old harbour would be nice")
    await pair.b.expect("message", ignore=STAGE, seq=ack["seq"])
    await pair.b.expect_nothing(ignore=STAGE)
