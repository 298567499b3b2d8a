"""The retention job deletes exactly what docs/privacy.md says, when it says.

In-process: `enforce_retention(store, hub, now, settings)` is a plain
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
from bridgechat.node.hub import Hub, Session
from bridgechat.privacy.addresses import DAY, AddressHasher
from bridgechat.privacy.routes import Sightings, day_of, enforce_retention, key_cutoff
from bridgechat.settings import Settings
from bridgechat.store import Store, hash_token, sqlite_url
from bridgechat.store.moderation import ReportRow
from bridgechat.web.app import create_app
from bridgechat.web.member import HUB

NOW = time.time()


class Conn:
    def push(self, frame: bytes) -> None:
        pass

    def close_soon(self, code: int, reason: str) -> None:
        pass


@pytest.fixture
async def hub(tmp_path: Path) -> AsyncIterator[Hub]:
    settings = Settings(data_dir=tmp_path, member_retention=30 * DAY,
                        report_retention=7 * DAY, key_rotation=DAY, report_window=600.0,
                        retention_every=600.0)
    store = Store(sqlite_url(tmp_path))
    h = Hub(settings, store, MemoryBroker(), load_deck())
    await h.start()
    yield h
    await h.stop()
    store.close()


def member(hub: Hub, name: str, seen_days_ago: float) -> str:
    hub.store.create_member(name, hash_token(f"token-{name}"), day_of(NOW - seen_days_ago * DAY))
    return name


def report(hub: Hub, name: str, resolved_days_ago: float | None) -> None:
    hub.store.add_report(ReportRow(
        id=name, reason="abuse", verified=1, created=NOW - 60 * DAY,
        status="open" if resolved_days_ago is None else "resolved",
        resolved_at=None if resolved_days_ago is None else NOW - resolved_days_ago * DAY,
        key_id="k", sealed=b"\x00"))


def exists(hub: Hub, name: str) -> bool:
    return hub.store.member_by_token(hash_token(f"token-{name}")) is not None


async def test_members_inactive_past_the_period_are_deleted_with_their_blocks(hub: Hub) -> None:
    old, edge, recent = member(hub, "old", 31), member(hub, "edge", 30), member(hub, "recent", 29)
    online = member(hub, "online", 400)
    hub.sessions[online] = Session(Conn(), member=online)
    hub.store.add_block(recent, old)
    hub.store.add_block(old, edge)

    swept = await enforce_retention(hub.store, hub, NOW, hub.settings)

    assert swept.members == 1
    assert not exists(hub, old)
    # 30 days ago is the first day kept; someone connected is not inactive.
    assert exists(hub, edge) and exists(hub, recent) and exists(hub, online)
    assert hub.store.blocks_of([old, recent, edge]) == set()


async def test_resolved_reports_go_after_the_period_open_ones_stay(hub: Hub) -> None:
    report(hub, "r-old", 8)
    report(hub, "r-new", 6)
    report(hub, "r-open", None)
    swept = await enforce_retention(hub.store, hub, NOW, hub.settings)
    assert swept.reports == 1
    assert hub.store.report("r-old") is None
    assert hub.store.report("r-new") is not None and hub.store.report("r-open") is not None


async def test_conversation_records_are_kept(hub: Hub) -> None:
    rec = hub.store.add_record("home", day_of(NOW - 900 * DAY), 2, ("age_band",), "5-15")
    assert hub.store.add_feedback(rec, 4, True)
    await enforce_retention(hub.store, hub, NOW, hub.settings)
    [kept] = hub.store.conversations()
    assert (kept.prompt, kept.divides, kept.feedback, kept.common_ground) == (
        "home", ("age_band",), 1, 4)


async def test_keys_rotate_daily_and_retire_once_no_report_can_need_them(hub: Hub) -> None:
    first = hub.keys.current
    t0 = hub.keys.created[first]
    tag = hub.keys.tag("room", 1, "Alias", "ts", "words")
    sightings = Sightings()

    swept = await enforce_retention(hub.store, hub, t0 + 3600, hub.settings, None, sightings)
    assert not swept.key_rotated and hub.keys.current == first

    day = t0 + DAY
    swept = await enforce_retention(hub.store, hub, day, hub.settings, None, sightings)
    assert swept.key_rotated and hub.keys.current == first + 1
    # A room that closed a minute ago may still be reported: the old key still verifies.
    assert hub.keys.verify("room", 1, "Alias", "ts", "words", tag)

    later = day + hub.settings.report_window + hub.settings.retention_every + 1
    swept = await enforce_retention(hub.store, hub, later, hub.settings, None, sightings)
    assert swept.keys_retired == 1 and not swept.key_rotated
    assert not hub.keys.verify("room", 1, "Alias", "ts", "words", tag)
    assert set(hub.keys.keys) == {first + 1}


async def test_a_long_open_room_keeps_the_key_its_first_messages_used(hub: Hub) -> None:
    t0 = hub.keys.created[hub.keys.current]
    room = Room.open("r1", "home", [("m1", "A"), ("m2", "B")], t0 + 60)
    await hub.broker.create_room(room, RoomMeta("home", "Home?", {}, ()))
    tag = hub.keys.tag("r1", 1, "A", "ts", "words")
    for days in (1, 2, 3):
        await enforce_retention(hub.store, hub, t0 + days * DAY, hub.settings)
    assert len(hub.keys.keys) == 4
    assert hub.keys.verify("r1", 1, "A", "ts", "words", tag)


def test_key_cutoff_keeps_the_key_signing_at_the_moment_asked() -> None:
    created = {1: 100.0, 2: 200.0, 3: 300.0}
    assert key_cutoff(created, 250.0) == 200.0  # key 1 goes, 2 and 3 stay
    assert key_cutoff(created, 50.0) == 50.0  # nothing is older: nothing goes
    s = Sightings()
    assert s.keep_from(1000.0, oldest_open=900.0, window=50.0) == 900.0
    assert s.keep_from(1040.0, oldest_open=1040.0, window=50.0) == 900.0  # seen 40 s ago
    assert s.keep_from(1100.0, oldest_open=1100.0, window=50.0) == 1050.0


async def test_a_stale_address_salt_is_dropped(hub: Hub) -> None:
    addresses = AddressHasher()
    addresses.hash("203.0.113.7", NOW)
    swept = await enforce_retention(hub.store, hub, NOW + DAY, hub.settings, addresses)
    assert swept.salt_dropped


async def test_the_job_runs_on_its_schedule(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, retention_every=0.05, key_rotation=0.05)
    server = TestServer(create_app(settings))
    await server.start_server()
    try:
        hub = server.app[HUB]
        first = hub.keys.current
        for _ in range(100):
            await asyncio.sleep(0.05)
            if hub.keys.current > first + 1:
                break
        assert hub.keys.current > first + 1
        assert hub.record_sink is not None and hub.feedback_sink is not None
    finally:
        await server.close()


def test_retention_flags() -> None:
    args = build_parser().parse_args(["serve"])
    assert (args.member_retention_days, args.report_retention_days,
            args.key_rotation_hours) == (365.0, 30.0, 24.0)
    args = build_parser().parse_args(["serve", "--member-retention-days", "90",
                                      "--report-retention-days", "7.5"])
    assert (args.member_retention_days, args.report_retention_days) == (90.0, 7.5)
    for bad in ("0", "-3", "inf", "nan", "soon"):
        with pytest.raises(SystemExit):
            build_parser().parse_args(["serve", "--member-retention-days", bad])
