"""One address cannot take the node's sockets: ceilings per node and per address (refused
before the upgrade, 503 or 429 with Retry-After), a hello deadline, and the member's
address behind a trusted proxy only (issue 16, finding 1).

Clients connect from distinct loopback addresses (127.0.0.x) so the server
sees them as distinct members' networks, as it would on the internet.
"""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

HELLO = json.dumps({"type": "hello", "v": 1, "token": None})


def health(url: str) -> object:
    with urllib.request.urlopen(url + "/healthz", timeout=5) as r:
        return json.load(r)


async def open_from(srv: Any, source: str, **kw: Any) -> ClientConnection:
    return await connect(srv.ws_url, proxy=None, local_addr=(source, 0), open_timeout=5, **kw)


async def refused(srv: Any, source: str, **kw: Any) -> tuple[int, str, str]:
    """Status, Retry-After and text of a handshake the server refused before the upgrade."""
    try:
        ws = await open_from(srv, source, **kw)
    except InvalidStatus as e:
        r = e.response
        return r.status_code, r.headers.get("Retry-After", ""), r.body.decode()
    await ws.close()
    raise AssertionError("the handshake was not refused")


async def welcomed(ws: ClientConnection) -> None:
    await ws.send(HELLO)
    assert json.loads(await asyncio.wait_for(ws.recv(), 5))["type"] == "welcome"


async def test_a_full_node_closes_the_next_socket_with_1013_and_takes_one_later(
        make_server: Any) -> None:
    srv = make_server("--max-connections", "3")
    held = [await open_from(srv, f"127.0.0.{10 + i}") for i in range(3)]
    try:
        assert await refused(srv, "127.0.0.20") == (
            503, "30", "This server is full. Please try again in a minute.")
        # Health checks are not member sockets, and the members already in chat on.
        assert await asyncio.to_thread(health, srv.url) == {"ok": True}
        await welcomed(held[0])
        await held[1].close()
        for _ in range(50):  # the server's side of the close lands a moment later
            try:
                late = await open_from(srv, "127.0.0.20")
                break
            except InvalidStatus:
                await asyncio.sleep(0.05)
        else:
            raise AssertionError("a freed seat was never offered again")
        await late.close()
    finally:
        for ws in held:
            await ws.close()


async def test_one_address_is_capped_and_another_is_not(make_server: Any) -> None:
    srv = make_server("--connections-per-address", "4")
    mine = [await open_from(srv, "127.0.0.30") for _ in range(4)]
    try:
        for ws in mine:
            await welcomed(ws)
        status, _, text = await refused(srv, "127.0.0.30")
        assert (status, text) == (429, "Too many connections from your network. Please try "
                                       "again in a minute.")
        other = await open_from(srv, "127.0.0.31")
        await welcomed(other)
        await other.close()
        await mine[0].close()
        await asyncio.sleep(0.2)
        again = await open_from(srv, "127.0.0.30")  # a seat of its own came free
        await welcomed(again)
        await again.close()
    finally:
        for ws in mine:
            await ws.close()


async def test_new_connections_from_one_address_are_rate_limited(make_server: Any) -> None:
    """A burst of connections-per-address (3), then handshakes-per-minute (6: one per 10 s)."""
    srv = make_server("--connections-per-address", "3", "--handshakes-per-minute", "6")
    for _ in range(3):
        ws = await open_from(srv, "127.0.0.40")
        await welcomed(ws)
        await ws.close()
    status, retry, text = await refused(srv, "127.0.0.40")
    assert (status, retry) == (429, "30") and text.startswith("Too many new connections")
    ws = await open_from(srv, "127.0.0.41")
    await welcomed(ws)
    await ws.close()


async def test_the_forwarded_address_counts_only_from_a_trusted_proxy(make_server: Any) -> None:
    srv = make_server("--connections-per-address", "1", "--trusted-proxy", "127.0.0.50")
    # Through the proxy: two members behind it, each with its own address.
    a = await open_from(srv, "127.0.0.50", additional_headers={"X-Forwarded-For": "192.0.2.1"})
    b = await open_from(srv, "127.0.0.50",
                        additional_headers={"X-Forwarded-For": "198.51.100.7, 192.0.2.2"})
    await welcomed(a)
    await welcomed(b)
    # The same member's network a second time is over its limit of one.
    again = await refused(srv, "127.0.0.50", additional_headers={"X-Forwarded-For": "192.0.2.1"})
    assert again[0] == 429
    # Not from the proxy: the header is the client's own word and counts for nothing.
    c = await open_from(srv, "127.0.0.51", additional_headers={"X-Forwarded-For": "203.0.113.9"})
    await welcomed(c)
    d = await refused(srv, "127.0.0.51", additional_headers={"X-Forwarded-For": "203.0.113.8"})
    assert d[0] == 429
    for ws in (a, b, c):
        await ws.close()


async def test_a_socket_that_never_says_hello_is_closed(make_server: Any) -> None:
    """It answers pings (the websockets client does), so only the deadline ends it."""
    srv = make_server("--hello-timeout", "1", "--heartbeat", "1")
    ws = await open_from(srv, "127.0.0.60")
    started = time.monotonic()
    frame = json.loads(await asyncio.wait_for(ws.recv(), 5))
    assert frame["type"] == "error" and frame["code"] == "hello_timeout"
    assert "hello" in frame["message"]
    try:
        await asyncio.wait_for(ws.recv(), 5)
        raise AssertionError("still open after hello_timeout")
    except ConnectionClosed as closed:
        assert closed.rcvd is not None and closed.rcvd.code == 1008
    assert time.monotonic() - started < 3
    # One that said hello in time stays.
    ok = await open_from(srv, "127.0.0.61")
    await welcomed(ok)
    await asyncio.sleep(2)
    await ok.ping()
    await ok.close()


async def test_one_address_makes_only_so_many_new_members_an_hour(make_server: Any) -> None:
    """Finding 8: each new member is a row kept for a year; a script must not mint them."""
    import sqlite3

    srv = make_server("--new-members-per-hour", "3")
    tokens = []
    for _ in range(3):
        ws = await open_from(srv, "127.0.0.70")
        await ws.send(HELLO)
        welcome = json.loads(await asyncio.wait_for(ws.recv(), 5))
        tokens.append(welcome["token"])
        await ws.close()
    ws = await open_from(srv, "127.0.0.70")
    await ws.send(HELLO)
    error = json.loads(await asyncio.wait_for(ws.recv(), 5))
    assert error["type"] == "error" and error["code"] == "rate_limited"
    assert "new members" in error["message"]
    # A member who has been here before still comes back; the connection was kept.
    await ws.send(json.dumps({"type": "hello", "v": 1, "token": tokens[0]}))
    assert json.loads(await asyncio.wait_for(ws.recv(), 5))["type"] == "welcome"
    await ws.close()
    other = await open_from(srv, "127.0.0.71")
    await welcomed(other)
    await other.close()
    with sqlite3.connect(srv.data_dir / "bridgechat.db") as db:
        assert db.execute("SELECT count(*) FROM member").fetchone()[0] == 4
