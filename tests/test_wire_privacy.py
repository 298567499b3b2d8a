"""Nothing a member writes reaches the disk or the log.

A unique marker travels through a chat (message text), through join fields
that get rejected, and through invalid frames. After the server stops, the
marker must appear in no file under its data directory (SQLite -wal and
-shm included) and nowhere in its log output.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from wsclient import Clients, fresh_lang, fresh_topic, marker


def files_containing(root: Path, needle: bytes) -> list[str]:
    hits = []
    for path in sorted(root.rglob("*")):
        if path.is_file() and needle in path.read_bytes():
            hits.append(str(path))
    return hits


async def test_marker_never_reaches_disk_or_log(make_server) -> None:
    srv = make_server()
    secret = marker()
    async with Clients(srv.ws_url) as clients:
        pair = await clients.pair()
        await pair.a.say(pair.room, f"my secret is {secret}")
        got = await pair.b.expect("message", room=pair.room)
        assert secret in got["text"]
        await pair.b.say(pair.room, f"{secret} back to you")
        await pair.a.expect("message", room=pair.room)
        # A resume replays it once more from the room history.
        await pair.b.send({"type": "resume", "room": pair.room, "after": 0})
        await pair.b.expect("message", seq=1)
        await pair.b.expect("message", seq=2)
        await pair.b.expect("resumed")

        # Rejected join fields and invalid frames carry it too.
        other = await clients.member()
        prompt, lang = other.prompt_id(fresh_topic()), fresh_lang()
        rejected: list[tuple[str | bytes, str]] = [
            (json.dumps({"type": "join", "prompts": [f"p-{secret}"], "languages": [lang]}),
             "unknown_prompt"),
            (json.dumps({"type": "join", "prompts": [prompt], "languages": [lang],
                         "profile": {f"k{secret}": "18-29"}}), "bad_profile"),
            (json.dumps({"type": "join", "prompts": [prompt], "languages": [lang],
                         "profile": {"age_band": secret}}), "bad_profile"),
            (f'{{"type": "send", "text": "{secret}"', "bad_json"),
            (json.dumps({"type": f"t-{secret}"}), "unknown_type"),
            (json.dumps({"type": "send", "room": pair.room, "id": "x", "text": [secret]}),
             "bad_frame"),
            (json.dumps({"type": "send", "room": f"r-{secret}", "id": "y", "text": secret}),
             "unknown_room"),
            (f"binary {secret}".encode(), "bad_frame"),
        ]
        for raw, code in rejected:
            await other.send_raw(raw)
            await other.expect_error(code)

        # The room closes, which is when a record of the conversation may be written.
        await pair.a.send({"type": "leave", "room": pair.room})
        await pair.a.expect("closed", room=pair.room)
        await pair.b.expect("left", room=pair.room)
        await pair.b.expect("closed", room=pair.room)
    await asyncio.sleep(0.3)
    srv.stop()

    needle = secret.encode()
    assert srv.data_dir.exists(), "the server made no data directory"
    written = [p for p in srv.data_dir.rglob("*") if p.is_file()]
    assert written, "expected the store's files under the data directory"
    assert files_containing(srv.data_dir, needle) == []
    assert needle not in srv.log_path.read_bytes(), "the marker is in the server log"
