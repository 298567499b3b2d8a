"""A guided conversation: icebreaker, the shared prompt, reflection, then the end."""

import time
from datetime import datetime

from wsclient import Clients


async def test_stages_turn_on_time_and_the_room_ends(make_server) -> None:
    # 0.1 minutes: discuss at 1.2 s, reflect at 4.8 s, the end at 6 s.
    srv = make_server("--conversation-minutes", "0.1")
    async with Clients(srv.ws_url) as clients:
        pair = await clients.pair()
        left = datetime.fromisoformat(pair.a_matched["ends_at"]).timestamp() - time.time()
        assert 4.5 < left <= 6.1, left
        first = await pair.a.find("stage", room=pair.room)
        assert first["stage"] == "icebreaker" and first["card"]
        discuss = await pair.b.find("stage", room=pair.room, stage="discuss", wait=4)
        assert discuss["card"] == pair.b_matched["prompt"]["text"]
        reflect = await pair.a.find("stage", room=pair.room, stage="reflect", wait=6)
        assert reflect["card"] and reflect["card"] != first["card"]
        for m in (pair.a, pair.b):
            await m.find("closed", room=pair.room, reason="timeout", wait=4)


async def test_open_ended_rooms_have_no_end_time(make_server) -> None:
    srv = make_server("--conversation-minutes", "0")
    async with Clients(srv.ws_url) as clients:
        pair = await clients.pair()
        assert pair.a_matched["ends_at"] is None
        assert (await pair.a.find("stage", room=pair.room))["stage"] == "icebreaker"
