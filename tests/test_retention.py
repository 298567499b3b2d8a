"""The retention job deletes exactly what docs/privacy.md says, when it says.

In-process: `enforce_retention(store, node, now, settings)` is a plain
function, so each test picks `now` instead of waiting days. The inventory
rows it covers: members (inactive past the period), reports (resolved plus
the period), franking keys (rotated daily, retired once no reportable room
can need them), the address salt (one day), and conversation records (kept:
they name nobody).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer
from bridgechat.broker.memory import MemoryBroker
from bridgechat.cli import build_parser
from bridgechat.core.room import Room, RoomMeta
from bridgechat.deck_file import load_deck
from bridgechat.node import Node
from bridgechat.operate.config import resolve
from bridgechat.privacy.addresses import DAY, AddressHasher
from bridgechat.privacy.routes import Sightings, day_of, enforce_retention, key_cutoff
from bridgechat.settings import Settings
from bridgechat.store import Store, hash_token, sqlite_url
from bridgechat.store.moderation import ReportRow
from bridgechat.web.app import create_app
from bridgechat.web.keys import NODE

NOW = time.time()


class Conn:
    def push(self, frame: bytes) -> None:
        pass

    def close_soon(self, code: int, reason: str) -> None:
        pass


@pytest.fixture
async def node(tmp_path: Path) -> AsyncIterator[Node]:
    settings = Settings(data_dir=tmp_path, member_retention=30 * DAY,
                        report_retention=7 * DAY, key_rotation=DAY, report_window=600.0,
                        retention_every=600.0)
    store = Store(sqlite_url(tmp_path))
    h = Node(settings, store, MemoryBroker(), load_deck())
    await h.start()
    yield h
    await h.stop()
    store.close()


def member(node: Node, name: str, seen_days_ago: float) -> str:
    node.store.create_member(name, hash_token(f"token-{name}"), day_of(NOW - seen_days_ago * DAY))
    return name


def report(node: Node, name: str, resolved_days_ago: float | None) -> None:
    node.store.add_report(ReportRow(
        id=name, reason="abuse", verified=1, created=NOW - 60 * DAY,
        status="open" if resolved_days_ago is None else "resolved",
        resolved_at=None if resolved_days_ago is None else NOW - resolved_days_ago * DAY,
        key_id="k", sealed=b"\x00"))


def exists(node: Node, name: str) -> bool:
    return node.store.member_by_token(hash_token(f"token-{name}")) is not None


async def test_members_inactive_past_the_period_are_deleted_with_their_blocks(node: Node) -> None:
    old, edge = member(node, "old", 31), member(node, "edge", 30)
    recent = member(node, "recent", 29)
    online = member(node, "online", 400)
    link = node.connect(Conn())
    link.session.welcome(online)
    node.links.attach(online, link)
    node.store.add_block(recent, old)
    node.store.add_block(old, edge)

    swept = await enforce_retention(node.store, node, NOW, node.settings)

    assert swept.members == 1
    assert not exists(node, old)
    # 30 days ago is the first day kept; someone connected is not inactive.
    assert exists(node, edge) and exists(node, recent) and exists(node, online)
    assert node.store.blocks_of([old, recent, edge]) == set()


async def test_resolved_reports_go_after_the_period_open_ones_stay(node: Node) -> None:
    report(node, "r-old", 8)
    report(node, "r-new", 6)
    report(node, "r-open", None)
    swept = await enforce_retention(node.store, node, NOW, node.settings)
    assert swept.reports == 1
    assert node.store.report("r-old") is None
    assert node.store.report("r-new") is not None and node.store.report("r-open") is not None


async def test_conversation_records_are_kept(node: Node) -> None:
    rec = node.store.add_record("home", day_of(NOW - 900 * DAY), 2, ("age_band",), "5-15")
    assert node.store.add_feedback(rec, 4, True)
    await enforce_retention(node.store, node, NOW, node.settings)
    [kept] = node.store.conversations()
    assert (kept.prompt, kept.divides, kept.feedback, kept.common_ground) == (
        "home", ("age_band",), 1, 4)


async def test_keys_rotate_daily_and_retire_once_no_report_can_need_them(node: Node) -> None:
    first = node.keys.current
    t0 = node.keys.created[first]
    tag = node.keys.tag("room", 1, "Alias", "ts", "words")
    sightings = Sightings()

    swept = await enforce_retention(node.store, node, t0 + 3600, node.settings, None, sightings)
    assert not swept.key_rotated and node.keys.current == first

    day = t0 + DAY
    swept = await enforce_retention(node.store, node, day, node.settings, None, sightings)
    assert swept.key_rotated and node.keys.current == first + 1
    # A room that closed a minute ago may still be reported: the old key still verifies.
    assert node.keys.verify("room", 1, "Alias", "ts", "words", tag)

    later = day + node.settings.report_window + node.settings.retention_every + 1
    swept = await enforce_retention(node.store, node, later, node.settings, None, sightings)
    assert swept.keys_retired == 1 and not swept.key_rotated
    assert not node.keys.verify("room", 1, "Alias", "ts", "words", tag)
    assert set(node.keys.keys) == {first + 1}


async def test_a_long_open_room_keeps_the_key_its_first_messages_used(node: Node) -> None:
    t0 = node.keys.created[node.keys.current]
    room = Room.open("r1", "home", [("m1", "A"), ("m2", "B")], t0 + 60)
    await node.broker.rooms.create_room(room, RoomMeta("home", "Home?", {}, ()))
    tag = node.keys.tag("r1", 1, "A", "ts", "words")
    for days in (1, 2, 3):
        await enforce_retention(node.store, node, t0 + days * DAY, node.settings)
    assert len(node.keys.keys) == 4
    assert node.keys.verify("r1", 1, "A", "ts", "words", tag)


def test_key_cutoff_keeps_the_key_signing_at_the_moment_asked() -> None:
    created = {1: 100.0, 2: 200.0, 3: 300.0}
    assert key_cutoff(created, 250.0) == 200.0  # key 1 goes, 2 and 3 stay
    assert key_cutoff(created, 50.0) == 50.0  # nothing is older: nothing goes
    s = Sightings()
    assert s.keep_from(1000.0, oldest_open=900.0, window=50.0) == 900.0
    assert s.keep_from(1040.0, oldest_open=1040.0, window=50.0) == 900.0  # seen 40 s ago
    assert s.keep_from(1100.0, oldest_open=1100.0, window=50.0) == 1050.0


async def test_a_stale_address_salt_is_dropped(node: Node) -> None:
    addresses = AddressHasher()
    addresses.hash("203.0.113.7", NOW)
    swept = await enforce_retention(node.store, node, NOW + DAY, node.settings, addresses)
    assert swept.salt_dropped


async def test_the_job_runs_on_its_schedule(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, retention_every=0.05, key_rotation=0.05)
    server = TestServer(create_app(settings))
    await server.start_server()
    try:
        node = server.app[NODE]
        first = node.keys.current
        for _ in range(100):
            await asyncio.sleep(0.05)
            if node.keys.current > first + 1:
                break
        assert node.keys.current > first + 1
        assert node.hooks.record_sink is not None and node.hooks.feedback_sink is not None
    finally:
        await server.close()


def test_retention_flags() -> None:
    def effective(*flags: str) -> Settings:
        return resolve(build_parser().parse_args(["serve", *flags]), {}).settings

    s = effective()
    assert (s.member_retention, s.report_retention, s.key_rotation) == (
        365 * 86400.0, 30 * 86400.0, 24 * 3600.0)
    s = effective("--member-retention-days", "90", "--report-retention-days", "7.5")
    assert (s.member_retention, s.report_retention) == (90 * 86400.0, 7.5 * 86400.0)
    for bad in ("0", "-3", "inf", "nan", "soon"):
        with pytest.raises(SystemExit):
            build_parser().parse_args(["serve", "--member-retention-days", bad])
