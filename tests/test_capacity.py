"""--max-connections: a full node refuses a handshake with 503 and Retry-After, then recovers."""

from __future__ import annotations

import asyncio
import json
import urllib.request

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus


def health(url: str) -> object:
    with urllib.request.urlopen(url + "/healthz", timeout=5) as r:
        return json.load(r)


async def test_a_full_node_refuses_the_next_member_and_takes_them_once_a_seat_frees(
        make_server) -> None:
    srv = make_server("--max-connections", "3")
    held = [await connect(srv.ws_url, proxy=None) for _ in range(3)]
    try:
        with pytest.raises(InvalidStatus) as refused:
            await connect(srv.ws_url, proxy=None)
        response = refused.value.response
        assert response.status_code == 503
        assert response.headers["Retry-After"] == "30"
        assert b"full" in response.body
        # Health checks are not member sockets: the node still answers them.
        assert await asyncio.to_thread(health, srv.url) == {"ok": True}
        # The members already in are unaffected.
        await held[0].send(json.dumps({"type": "hello", "v": 1, "token": None}))
        assert json.loads(await held[0].recv())["type"] == "welcome"
        await held[1].close()
        await held[1].wait_closed()
        for _ in range(50):  # the server's side of the close lands a moment later
            try:
                late = await connect(srv.ws_url, proxy=None)
                break
            except InvalidStatus:
                await asyncio.sleep(0.05)
        else:
            pytest.fail("a freed seat was never offered again")
        await late.close()
    finally:
        for ws in held:
            await ws.close()
