"""While waiting: the count of possible partners, and plain words when there is nobody."""

from wsclient import Clients, fresh_lang


async def test_a_member_nobody_can_meet_is_told_why_with_a_suggestion(make_server) -> None:
    srv = make_server("--stuck-after", "1")
    async with Clients(srv.ws_url) as clients:
        lang = fresh_lang()
        alone, other = await clients.member(), await clients.member()
        home, work = alone.prompt_id(0), alone.prompt_id(2)
        work_text = alone.welcome["prompts"][2]["text"]
        first = await alone.join([home], [lang])
        assert first["waiting"] == 0 and first["eta_s"] is None and "hint" not in first
        await other.join([work], [lang])
        hinted = await alone.find("queued", wait=5, ticket=first["ticket"])
        while "hint" not in hinted:
            hinted = await alone.find("queued", wait=5, ticket=first["ticket"])
        hint = hinted["hint"]
        # Someone waits in the same language on another prompt: choose that one too.
        assert hint["code"] == "no_prompt" and hint["prompt"] == work
        assert work_text in hint["message"]  # the prompt's words, not its id
        assert hinted["waiting"] == 0


async def test_both_saying_again_meet_again_despite_the_repeat_window(server) -> None:
    async with Clients(server.ws_url) as clients:
        pair = await clients.pair()
        await pair.a.send({"type": "leave", "room": pair.room})
        await pair.a.expect("closed", room=pair.room)
        await pair.b.expect("left", room=pair.room)
        await pair.b.expect("closed", room=pair.room)
        for m in (pair.a, pair.b):
            await m.send({"type": "feedback", "room": pair.room, "common_ground": 4,
                          "again": True})
            await m.expect("thanks")
        # Matched a moment ago, so only the mutual offer can bring them together again.
        await pair.a.join([pair.prompt], [pair.lang])
        await pair.b.join([pair.prompt], [pair.lang])
        again_a = await pair.a.expect("matched", wait=12)
        again_b = await pair.b.expect("matched", wait=12)
        assert again_a["room"] == again_b["room"] != pair.room
        assert any("again" in reason for reason in again_a["because"])


async def test_without_both_saying_again_the_pair_is_not_matched_twice(make_server) -> None:
    # Any compatible pair is matched within --max-wait (10 s by default, 2 s here).
    srv = make_server("--max-wait", "2")
    async with Clients(srv.ws_url) as clients:
        pair = await clients.pair()
        await pair.a.send({"type": "leave", "room": pair.room})
        await pair.a.expect("closed", room=pair.room)
        await pair.a.send({"type": "feedback", "room": pair.room, "common_ground": 2,
                           "again": True})
        await pair.a.expect("thanks")
        await pair.b.send({"type": "feedback", "room": pair.room, "common_ground": 2,
                           "again": False})
        await pair.b.find("thanks")
        await pair.a.join([pair.prompt], [pair.lang])
        await pair.b.join([pair.prompt], [pair.lang])
        await pair.a.expect_nothing(3.0)  # past the any-pair promise: never together
