"""A report's `reason` is one of a fixed list of codes (docs/protocol.md); free text is refused.

The list is what the member page offers (client_web/report.js). Anything else
gets `error` `bad_frame`, and the text is neither logged nor stored: the
connection and its room carry on as before.
"""

from __future__ import annotations

import pytest
from conftest import LiveServer
from modclient import files_containing
from wsclient import Clients, assert_still_chatting, marker

REASONS = ("harassment", "hate", "threat", "sexual", "personal_info", "spam", "other")


@pytest.mark.parametrize("reason", REASONS)
async def test_each_listed_reason_is_accepted(clients: Clients, reason: str) -> None:
    pair = await clients.pair()
    await pair.b.say(pair.room, "words to report")
    msg = await pair.a.expect("message", room=pair.room)
    await pair.a.send({"type": "report", "room": pair.room, "reason": reason,
                       "messages": [msg]})
    assert (await pair.a.expect("reported"))["verified"] == 1


async def test_a_free_text_reason_is_refused_and_kept_nowhere(server: LiveServer,
                                                              clients: Clients) -> None:
    pair = await clients.pair()
    await pair.b.say(pair.room, "words to report")
    msg = await pair.a.expect("message", room=pair.room)
    secret = marker()[:20]
    for reason in (f"call {secret}", secret, "abuse", "Harassment", "spam ", ""):
        await pair.a.send({"type": "report", "room": pair.room, "reason": reason,
                           "messages": [msg]})
        err = await pair.a.expect_error("bad_frame")
        assert "reason" in err["message"]
    await pair.a.expect_nothing(0.3)
    await assert_still_chatting(pair)
    assert secret not in server.log()
    assert files_containing(server.data_dir, secret.encode()) == []
