"""A node restarts: live rooms carry on, a closed room can still be reported, and nothing a
member wrote is on disk in between (issue 16, finding 10).

With the in-process broker, rooms come back from a file sealed under the report
key (node/restart.py); with Redis they never left it. Either way, members see
the same thing, so the test runs on whichever broker the suite runs on.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import wsclient
from conftest import TEST_BROKER
from wsclient import Clients, Member


def files_holding(root: Path, marker: bytes) -> list[str]:
    return [str(p) for p in root.rglob("*") if p.is_file() and marker in p.read_bytes()]


async def back(clients: Clients, token: str | None) -> Member:
    m = await clients.connect()
    await m.hello(token)
    return m


async def test_rooms_outlive_a_restart_and_reports_keep_their_window(make_server: Any) -> None:
    srv = make_server()
    marker = f"restart-canary-{wsclient.marker()}"
    async with Clients(srv.ws_url) as clients:
        live = await clients.pair()
        await live.a.say(live.room, marker)
        await live.b.expect("message", text=marker)
        ended = await clients.pair()
        await ended.a.say(ended.room, "something to report later")
        evidence = await ended.b.expect("message")
        await ended.a.send({"type": "leave", "room": ended.room})
        await ended.b.find("closed", room=ended.room)
        tokens = {name: m.token for name, m in (("la", live.a), ("lb", live.b),
                                                 ("eb", ended.b))}
        alias_a = live.a_alias
    srv.stop()  # a clean stop: SIGTERM, as systemd or a container engine sends
    data = srv.data_dir
    assert files_holding(data, marker.encode()) == []
    if TEST_BROKER == "memory":
        assert (data / "restart.sealed").exists()
        assert (data / "restart.sealed").stat().st_mode & 0o077 == 0
    srv.start()
    assert not (data / "restart.sealed").exists()  # read and deleted at start

    async with Clients(srv.ws_url) as clients:
        a = await back(clients, tokens["la"])
        b = await back(clients, tokens["lb"])
        assert [r["room"] for r in a.welcome["rooms"]] == [live.room]
        assert a.welcome["rooms"][0]["you"] == alias_a
        await a.find("back", room=live.room)  # b's return, as after any reconnect
        await b.send({"type": "resume", "room": live.room, "after": 0})
        resumed = await b.find("resumed", room=live.room)
        assert resumed["seq"] == 1
        # The history stayed in RAM: after a restart of the only node it is gone, and
        # the member is told so; Redis kept it.
        assert resumed["complete"] is (TEST_BROKER == "redis")
        ack = await a.say(live.room, "still talking after the restart")
        got = await b.find("message", room=live.room, seq=ack["seq"])
        assert got["from"] == alias_a and ack["seq"] == 2
        # A room that closed before the restart is still open to reports, with
        # its message verified by the franking key kept through the restart.
        eb = await back(clients, tokens["eb"])
        await eb.send({"type": "report", "room": ended.room, "reason": "harassment",
                       "messages": [evidence]})
        assert (await eb.expect("reported"))["verified"] == 1
    assert files_holding(data, marker.encode()) == []
