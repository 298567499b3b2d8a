"""A node's connections, driven in process (no socket): who stays subscribed to a member's
frames when a connection is replaced or cut off."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from bridgechat.broker.memory import MemoryBroker
from bridgechat.deck_file import load_deck
from bridgechat.node import Node
from bridgechat.node.links import Link
from bridgechat.settings import Settings
from bridgechat.store import Store, sqlite_url


class Conn:
    """Records what the node pushes, and how it asked to close."""

    def __init__(self) -> None:
        self.frames: list[dict[str, object]] = []
        self.closed: tuple[int, str] | None = None

    def push(self, frame: bytes) -> None:
        self.frames.append(json.loads(frame))

    def close_soon(self, code: int, reason: str) -> None:
        self.closed = (code, reason)

    def ping(self) -> None:
        pass

    def hang_up(self) -> None:
        pass


@pytest.fixture
async def node(tmp_path: Path) -> AsyncIterator[tuple[Node, MemoryBroker]]:
    store = Store(sqlite_url(tmp_path))
    broker = MemoryBroker()
    n = Node(Settings(data_dir=tmp_path), store, broker, load_deck())
    await n.start()
    yield n, broker
    await n.stop()
    store.close()


async def hello(node: Node, token: str | None = None) -> tuple[Link, Conn]:
    conn = Conn()
    link = node.connect(conn)
    pending = node.receive(link, json.dumps({"type": "hello", "v": 1, "token": token}))
    assert pending is not None
    await pending
    assert conn.frames[-1]["type"] == "welcome", conn.frames
    return link, conn


async def test_a_member_cut_off_is_unsubscribed_when_their_socket_closes(node) -> None:
    n, broker = node
    link, conn = await hello(n)
    member = link.session.member
    assert member in broker.fanout.subscribed
    await n.members.suspend(member, time.time() + 3600)
    assert conn.frames[-1]["code"] == "suspended" and conn.closed == (4003, "closed by the server")
    await n.disconnected(link)
    assert member not in broker.fanout.subscribed


async def test_a_replaced_connection_closing_leaves_the_newer_one_subscribed(node) -> None:
    n, broker = node
    old, old_conn = await hello(n)
    token = str(old_conn.frames[-1]["token"])
    new, _ = await hello(n, token)
    member = new.session.member
    assert old_conn.closed == (4001, "replaced by a newer connection")
    await n.disconnected(old)
    assert member in broker.fanout.subscribed and member in n.links
    await n.disconnected(new)
    assert member not in broker.fanout.subscribed and member not in n.links
