"""Many nodes over one real Redis: matching, chat, failover, Redis restart, the local cluster.

Each test starts a redis-server with persistence off (the `redis_server`
fixture) and two `bridgechat serve --redis` nodes sharing one data dir (so
one SQLite file and one report key), then talks to them with the
`websockets` library as members would. The last test drives
deploy/local-cluster.sh (Redis, PostgreSQL, nodes, nginx) from outside.
Every wait is bounded; every process started here is stopped here.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cluster_util import (
    RedisServer,
    free_port,
    free_port_run,
    http_status,
    pg_bindir,
    redis_binary,
    wait_status,
)
from conftest import ROOT, LiveServer
from websockets.exceptions import ConnectionClosed
from wsclient import DIVIDE_A, DIVIDE_B, Clients, Member, fresh_lang

pytestmark = pytest.mark.skipif(
    redis_binary() is None,
    reason="redis-server is not installed (apt-get install redis-server; CI installs it)")

# Frames that may arrive at any moment in a cluster and that these tests do not count.
NOISE = frozenset({"stage", "typing", "away", "back"})
MATCH_WAIT = 15.0  # --max-wait is 10 s; one more matching round on a new leader
FAILOVER_WAIT = 30.0  # a node notices Redis again within its backoff (at most 10 s)


async def next_frame(m: Member, type_: str, wait: float = 10.0, **fields: Any) -> dict[str, Any]:
    """The next frame other than NOISE must be `type_` with these fields."""
    deadline = time.monotonic() + wait
    while True:
        frame = await m.recv(max(0.01, deadline - time.monotonic()))
        if frame["type"] in NOISE:
            continue
        assert frame["type"] == type_, f"expected {type_!r}, got {frame}"
        for key, value in fields.items():
            assert frame.get(key) == value, f"{type_}.{key}: expected {value!r}, got {frame}"
        return frame


async def say(m: Member, room: str, text: str) -> dict[str, Any]:
    id_ = uuid.uuid4().hex[:16]
    await m.send({"type": "send", "room": room, "id": id_, "text": text})
    return await next_frame(m, "ack", id=id_)


async def match(a: Member, b: Member) -> tuple[str, str, str]:
    """Queue two members for one prompt; return the room and their aliases."""
    prompt, lang = a.prompt_id(0), fresh_lang()
    await a.join([prompt], [lang], DIVIDE_A)
    await b.join([prompt], [lang], DIVIDE_B)
    ma = await next_frame(a, "matched", MATCH_WAIT)
    mb = await next_frame(b, "matched", MATCH_WAIT)
    assert ma["room"] == mb["room"], (ma, mb)
    return ma["room"], ma["you"], mb["you"]


def two_nodes(make_server: Callable[..., LiveServer], redis: RedisServer,
              tmp_path: Path, *extra: str) -> tuple[LiveServer, LiveServer]:
    shared = tmp_path / "shared-data"
    flags = ("--redis", redis.url, "--grace-period", "60", *extra)
    return (make_server(*flags, data_dir=shared), make_server(*flags, data_dir=shared))


def _has_uvloop() -> bool:
    try:
        import uvloop  # noqa: F401
    except ImportError:
        return False
    return True


# uvloop too: its transports differ from asyncio's in ways the lean Redis
# connections (server/broker/resp.py) must not trip over.
@pytest.mark.parametrize("loop", [
    "asyncio",
    pytest.param("uvloop", marks=pytest.mark.skipif(not _has_uvloop(),
                                                    reason="uvloop is not installed")),
])
async def test_members_on_two_nodes_are_matched_and_chat(
        make_server: Callable[..., LiveServer], redis_server: RedisServer,
        tmp_path: Path, loop: str) -> None:
    n1, n2 = two_nodes(make_server, redis_server, tmp_path, "--loop", loop)
    async with Clients(n1.ws_url) as c1, Clients(n2.ws_url) as c2:
        a, b = await c1.member(), await c2.member()
        room, alias_a, alias_b = await match(a, b)
        ack = await say(a, room, "hello from node one")
        msg = await next_frame(b, "message", room=room, seq=ack["seq"],
                               text="hello from node one")
        assert msg["from"] == alias_a
        ack2 = await say(b, room, "and back from node two")
        assert ack2["seq"] == ack["seq"] + 1
        msg2 = await next_frame(a, "message", room=room, seq=ack2["seq"])
        assert msg2["from"] == alias_b and msg2["text"] == "and back from node two"


async def test_node_killed_mid_chat_member_resumes_on_the_other_node(
        make_server: Callable[..., LiveServer], redis_server: RedisServer,
        tmp_path: Path) -> None:
    n1, n2 = two_nodes(make_server, redis_server, tmp_path)
    async with Clients(n1.ws_url) as c1, Clients(n2.ws_url) as c2:
        a, b = await c1.member(), await c2.member()
        room, _, alias_b = await match(a, b)
        first = await say(b, room, "before the crash")
        seen = (await next_frame(a, "message", room=room, seq=first["seq"]))["seq"]

        n1.kill()  # SIGKILL: the node says goodbye to nobody
        a.abort()
        missed = [f"while you were away {i}" for i in range(3)]
        acks = [await say(b, room, text) for text in missed]
        assert [x["seq"] for x in acks] == [seen + 1, seen + 2, seen + 3]

        a2 = await c2.connect()
        welcome = await a2.hello(a.token)
        assert welcome["member"] == a.member_id
        assert room in [r["room"] for r in welcome.get("rooms", [])], welcome
        await a2.send({"type": "resume", "room": room, "after": seen})
        replay = [await next_frame(a2, "message", room=room) for _ in missed]
        assert [m["seq"] for m in replay] == [x["seq"] for x in acks]  # no gap, in order
        assert [m["text"] for m in replay] == missed
        assert all(m["from"] == alias_b for m in replay)
        await next_frame(a2, "resumed", room=room, seq=acks[-1]["seq"], complete=True)

        ack = await say(a2, room, "back, on the other node")
        assert ack["seq"] == acks[-1]["seq"] + 1
        await next_frame(b, "message", room=room, seq=ack["seq"], text="back, on the other node")


async def test_redis_restart_nodes_not_ready_then_chat_goes_on(
        make_server: Callable[..., LiveServer], redis_server: RedisServer,
        tmp_path: Path) -> None:
    n1, n2 = two_nodes(make_server, redis_server, tmp_path)
    for n in (n1, n2):
        assert http_status(n.url + "/readyz") == 200
    async with Clients(n1.ws_url) as c1, Clients(n2.ws_url) as c2:
        a, b = await c1.member(), await c2.member()
        room, _, _ = await match(a, b)
        before = await say(a, room, "before the restart")
        await next_frame(b, "message", room=room, seq=before["seq"])

        redis_server.kill()  # persistence is off: Redis comes back empty
        for n in (n1, n2):
            seen = await asyncio.to_thread(wait_status, n.url + "/readyz", 503, 15)
            assert seen[-1] == 503
            assert http_status(n.url + "/healthz") == 200  # alive, just not ready
        redis_server.start()
        for n in (n1, n2):
            await asyncio.to_thread(wait_status, n.url + "/readyz", 200, FAILOVER_WAIT)

        # Subscribed again, each node asks its members to reconnect and catch up
        # (1012): what was published while it was not subscribed is in the history.
        for m in (a, b):
            with pytest.raises(ConnectionClosed) as closed:
                for _ in range(20):  # the partner's `away` may come first
                    frame = await asyncio.wait_for(m.ws.recv(), 10)
                    assert '"type":"away"' in str(frame) or '"type":"back"' in str(frame), frame
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1012
        a = await c1.member(a.token)
        b = await c2.member(b.token)
        for m in (a, b):  # the nodes put the room back
            assert [r["room"] for r in m.welcome["rooms"]] == [room]
            await m.send({"type": "resume", "room": room, "after": before["seq"]})
            await next_frame(m, "resumed", room=room)
        ack = await say(a, room, "after the restart")
        assert ack["seq"] > before["seq"]
        await next_frame(b, "message", room=room, seq=ack["seq"], text="after the restart")
        ack2 = await say(b, room, "still here")
        assert ack2["seq"] == ack["seq"] + 1
        await next_frame(a, "message", room=room, seq=ack2["seq"], text="still here")


# -- deploy/local-cluster.sh ---------------------------------------------------------

SCRIPT = ROOT / "deploy" / "local-cluster.sh"


def nginx_missing() -> bool:
    return shutil.which("nginx") is None and not Path("/usr/sbin/nginx").exists() and \
        os.geteuid() != 0  # as root the script installs it


@pytest.mark.skipif(pg_bindir() is None, reason="PostgreSQL is not installed "
                    "(apt-get install postgresql; CI installs it)")
@pytest.mark.skipif(nginx_missing(), reason="nginx is not installed (apt-get install nginx)")
async def test_local_cluster_script_chat_through_the_proxy(tmp_path: Path) -> None:
    ports = {name: free_port() for name in ("PROXY_PORT", "REDIS_PORT", "PG_PORT")}
    base = free_port_run(2)  # node i listens on base + i - 1
    state = tmp_path / "cluster-state"
    env = {**os.environ, **{k: str(v) for k, v in ports.items()}, "NODE_PORT_BASE": str(base),
           "BRIDGECHAT_CLUSTER_DIR": str(state), "PYTHON": sys.executable}
    proxy = f"http://127.0.0.1:{ports['PROXY_PORT']}"
    node_urls = [f"http://127.0.0.1:{base + i}" for i in range(2)]

    def run(*args: str, timeout: float = 120) -> str:
        done = subprocess.run(["bash", str(SCRIPT), *args], env=env, capture_output=True,
                              text=True, timeout=timeout, check=False)
        assert done.returncode == 0, f"{args}: {done.returncode}\n{done.stdout}\n{done.stderr}"
        return done.stdout

    def clean() -> None:  # whatever happened above: nothing left running, nothing left behind
        subprocess.run(["bash", str(SCRIPT), "clean"], env=env, capture_output=True,
                       timeout=150, check=False)

    def pids() -> list[int]:
        return [int(p.read_text()) for p in state.glob("*.pid") if p.read_text().strip()]

    try:
        out = run("start", "2")
        assert proxy in out
        started = pids()
        assert len(started) == 4, out  # redis, two nodes, nginx
        status = run("status")
        assert status.count("readyz 200") == 2, status
        assert http_status(proxy + "/") == 200  # the member page, through nginx
        assert http_status(proxy + "/readyz") == 200

        ws = [u.replace("http", "ws") + "/ws" for u in node_urls]
        async with Clients(ws[0]) as c1, Clients(ws[1]) as c2, \
                Clients(proxy.replace("http", "ws") + "/ws") as cp:
            a, b = await c1.member(), await c2.member()
            room, _, alias_b = await match(a, b)  # on different nodes, so across Redis
            first = await say(b, room, "direct to node two")
            await next_frame(a, "message", room=room, seq=first["seq"])
            # a moves to the proxy, with the Origin a browser on the public URL sends.
            a.abort()
            a2 = await cp.connect(origin=proxy)
            assert (await a2.hello(a.token))["member"] == a.member_id
            await a2.send({"type": "resume", "room": room, "after": first["seq"]})
            await next_frame(a2, "resumed", room=room, seq=first["seq"], complete=True)
            ack = await say(a2, room, "through nginx")
            await next_frame(b, "message", room=room, seq=ack["seq"], text="through nginx")
            ack2 = await say(b, room, "heard you")
            msg = await next_frame(a2, "message", room=room, seq=ack2["seq"])
            assert msg["from"] == alias_b and msg["text"] == "heard you"

        run("stop", timeout=150)
        assert not list(state.glob("*.pid"))
        for pid in started:
            assert not _running(pid), f"process {pid} still running after stop"
        for url in [proxy, *node_urls]:
            assert http_status(url + "/healthz", timeout=1) is None
        assert "down" in run("status")
    finally:
        clean()


def _running(pid: int) -> bool:
    """Alive and not a zombie waiting for its (re)parent to reap it."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"
