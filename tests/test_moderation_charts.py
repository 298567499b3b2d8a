"""The dashboard's charts and the balance of the pool: the pure figures, then the live
feed of a real server, checked against what the test's members did."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from bridgechat import matching
from bridgechat.core.deck import Dimension
from bridgechat.moderation import charts, overview
from conftest import LiveServer
from modclient import Mod, add_moderator, moderated_server
from wsclient import DIVIDE_A, Clients, fresh_lang, fresh_topic

# -- the pure figures ------------------------------------------------------------


def ticket(tid: str, since: float, **kw: Any) -> matching.Ticket:
    return matching.Ticket(id=tid, member=f"m-{tid}", prompts=("p",), languages=("en",),
                           since=since, **kw)


def test_an_hour_of_minutes_oldest_first_with_the_latest_sample_of_each() -> None:
    samples = charts.Samples()
    now = 1_800_000_000.0 + 30  # 30 s into a minute
    assert samples.note(now - 120, [ticket("a", now - 150)])
    assert samples.note(now - 5, [ticket("a", now - 150), ticket("b", now - 15)])
    assert not samples.note(now, [ticket("a", now - 150), ticket("b", now - 10),
                                  ticket("c", now - 4)])
    series = samples.series(now, [0] * 59 + [2])
    assert len(series) == 60
    assert series[-1] == {"at": "2027-01-15T08:00:00Z", "waiting": 3, "median_wait_s": 10.0,
                          "matches": 2}
    assert series[-3] == {"at": "2027-01-15T07:58:00Z", "waiting": 1, "median_wait_s": 30.0,
                          "matches": 0}
    # Minutes with no sample (before the node started) show nobody waiting.
    assert series[-2]["waiting"] == 0 and series[-2]["median_wait_s"] is None
    assert [datetime.fromisoformat(m["at"]).minute for m in series[-3:]] == [58, 59, 0]
    # An hour later the old samples are gone.
    later = now + 3600
    samples.note(later, [])
    assert all(m["waiting"] == 0 for m in samples.series(later, [0] * 60))
    assert min(samples.by_minute) > charts.minute_of(now)


def test_today_share_of_rooms_crossing_two_divides() -> None:
    assert charts.today(0, 0) == {"rooms": 0, "crossing2": 0, "share": None}
    assert charts.today(8, 6) == {"rooms": 8, "crossing2": 6, "share": 0.75}


def test_balance_sends_counts_of_eleven_or_more_only() -> None:
    dims = (Dimension("age_band", "Age", ("18-29", "60+")),
            Dimension("area", "Area", ("urban", "rural")))
    pool = [ticket(f"o{i}", 0.0, profile=(("age_band", "60+"), ("area", "rural")))
            for i in range(11)]
    pool += [ticket(f"y{i}", 0.0, profile=(("age_band", "18-29"), ("area", "mars")))
             for i in range(10)]
    got = charts.balance(pool, dims)
    assert got == {
        "age_band": [{"bucket": "18-29", "few": True}, {"bucket": "60+", "count": 11}],
        "area": [{"bucket": "urban", "few": True}, {"bucket": "rural", "count": 11}],
    }
    assert charts.balance([], dims)["area"] == [{"bucket": "urban", "few": True},
                                                {"bucket": "rural", "few": True}]


def test_a_lone_member_is_stuck_only_after_the_matchers_promise() -> None:
    pool = [ticket("lone", since=100.0)]
    early = overview.queue_frame("queue_changed", pool, 101.0, set(), matching.Constraints(),
                                 max_wait=10.0)
    assert early["stuck_total"] == 0
    assert early["stuck"] == [{"prompt": "p", "language": "en", "waiting": 1, "stuck": 0}]
    late = overview.queue_frame("queue_changed", pool, 110.5, set(), matching.Constraints(),
                                max_wait=10.0)
    assert late["stuck_total"] == 1
    # A newcomer who could meet them does not make them stuck, and is not stuck either.
    pool.append(ticket("new", since=110.0))
    assert overview.queue_frame("queue_changed", pool, 110.5, set(), matching.Constraints(),
                                max_wait=10.0)["stuck_total"] == 0


# -- the live feed ----------------------------------------------------------------


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    server = moderated_server(tmp_path_factory)
    yield server
    server.stop()


def matched_so_far(charts_object: dict[str, Any]) -> int:
    return sum(m["matches"] for m in charts_object["minutes"])


async def test_the_charts_show_the_members_who_wait_and_the_rooms_opened(
        srv: LiveServer) -> None:
    async with Mod(srv.url) as mod, Clients(srv.ws_url) as clients:
        await mod.login("mo")
        feed = await mod.feed()
        snap = await feed.recv()
        assert snap["type"] == "snapshot"
        before = snap["charts"]
        assert len(before["minutes"]) == 60
        assert set(before["today"]) == {"rooms", "crossing2", "share"}
        rooms, crossing2 = before["today"]["rooms"], before["today"]["crossing2"]
        # Three wait alone (nobody else speaks their language), two pairs are matched.
        lonely = [await clients.member() for _ in range(3)]
        for m in lonely:
            await m.join([m.prompt_id(fresh_topic())], [fresh_lang()], DIVIDE_A)
        await clients.pair()
        await clients.pair()

        def shows_it(f: dict[str, Any]) -> bool:
            c = f if f["type"] == "charts" else {}
            return (bool(c) and matched_so_far(c) == matched_so_far(before) + 2
                    and c["minutes"][-1]["waiting"] == 3)

        frame = await feed.until(shows_it)
        now = frame["minutes"][-1]
        at = datetime.fromisoformat(now["at"])
        assert at.second == 0 and abs(at.timestamp() - time.time()) < 61
        assert now["median_wait_s"] is not None and 0 <= now["median_wait_s"] < 60
        # Both pairs crossed every divide of the deck: two divides or more.
        assert frame["today"]["rooms"] == rooms + 2
        assert frame["today"]["crossing2"] == crossing2 + 2
        assert frame["today"]["share"] == round((crossing2 + 2) / (rooms + 2), 3)
        # A dashboard opened now gets the same figures in its snapshot.
        again = await (await mod.feed()).recv()
        assert again["charts"]["today"] == frame["today"]
        assert matched_so_far(again["charts"]) == matched_so_far(frame)
        assert again["charts"]["minutes"][-1]["waiting"] == 3
        # Nothing in a charts frame names a member, a ticket or a room.
        for m in lonely:
            assert m.member_id not in feed.raw[-1]


async def test_the_balance_of_the_pool_hides_buckets_under_eleven(srv: LiveServer) -> None:
    async with Mod(srv.url) as mod, Clients(srv.ws_url) as clients:
        await mod.login("mo")
        feed = await mod.feed()
        snap = await feed.recv()
        assert set(snap["balance"]) == {"age_band", "origin", "area", "politics"}
        older = [await clients.member() for _ in range(12)]
        younger = await clients.member()
        prompt = younger.prompt_id(fresh_topic())
        await asyncio.gather(*(m.join([prompt], [fresh_lang()], {"age_band": "60+",
                                                                  "area": "rural"})
                               for m in older))
        await younger.join([prompt], [fresh_lang()], {"age_band": "18-29", "area": "rural"})
        frame = await feed.until(lambda f: f["type"] == "queue_changed" and f["waiting"] == 13)
        balance = frame["balance"]
        assert balance["age_band"] == [{"bucket": "18-29", "few": True},
                                       {"bucket": "30-44", "few": True},
                                       {"bucket": "45-59", "few": True},
                                       {"bucket": "60+", "count": 12}]
        assert {"bucket": "rural", "count": 13} in balance["area"]
        assert all(b.get("few") for b in balance["origin"] + balance["politics"])
        assert all("count" not in b or b["count"] >= 11
                   for rows in balance.values() for b in rows)
        for m in (*older, younger):
            assert m.member_id not in feed.raw[-1]
        # The same in the snapshot of a dashboard opened now.
        assert (await (await mod.feed()).recv())["balance"] == balance


async def test_every_node_charts_the_rooms_opened_on_any_node(
        make_server: Callable[..., LiveServer], redis_server: Any, tmp_path: Path) -> None:
    """Two nodes on one Redis: a dashboard on the second node counts the rooms the first
    node's members were matched into, and sees the pool they wait in."""
    shared = tmp_path / "shared-data"
    add_moderator(shared, "mo")
    flags = ("--redis", redis_server.url)
    n1, n2 = make_server(*flags, data_dir=shared), make_server(*flags, data_dir=shared)
    async with Mod(n2.url) as mod, Clients(n1.ws_url) as clients:
        await mod.login("mo")
        feed = await mod.feed()
        assert (await feed.recv())["charts"]["today"]["rooms"] == 0
        lonely = await clients.member()
        await lonely.join([lonely.prompt_id(0)], [fresh_lang()], DIVIDE_A)
        await clients.pair()
        await clients.pair()
        frame = await feed.until(lambda f: f["type"] == "charts"
                                 and f["today"]["rooms"] == 2
                                 and f["minutes"][-1]["waiting"] == 1, wait=12)
        assert matched_so_far(frame) == 2 and frame["today"]["crossing2"] == 2
