"""Unit tests of moderation's pure helpers: login limits, CSRF, invite codes, the dashboard view."""

from __future__ import annotations

import asyncio
import json

import pytest
from bridgechat import matching
from bridgechat.moderation import invites, overview
from bridgechat.moderation.auth import csrf_for
from bridgechat.moderation.lanes import SlowLanes
from bridgechat.moderation.passwords import Busy
from bridgechat.moderation.throttle import LoginLimits


def test_login_limits_per_address_and_the_slow_lane_per_name() -> None:
    lim = LoginLimits(per_name=3, per_address=5, window=60.0)
    for i in range(3):
        assert lim.retry_after("addr", float(i)) == 0
        assert not lim.attempt("mo", "addr", float(i)).slow
    # Past three at "mo", from anywhere: its checks go the slow way; nothing refuses it.
    assert lim.attempt("mo", "other", 3.0).slow
    assert not lim.attempt("ann", "addr", 4.0).slow  # another name from the same place
    lim.attempt("ann", "addr", 4.0)
    assert lim.retry_after("addr", 5.0) == 55.0  # five from this address in a minute
    assert lim.retry_after("other", 5.0) == 0
    assert lim.retry_after("addr", 61.5) == 0  # the first attempts left the window
    assert not lim.attempt("mo", "addr", 63.5).slow


def test_busy_and_right_answers_are_taken_back_but_wrong_guesses_stay() -> None:
    lim = LoginLimits(per_name=2, per_address=2, window=60.0)
    lim.take_back(lim.attempt("mo", "addr", 1.0))  # answered busy: never checked
    lim.take_back(lim.attempt("mo", "addr", 2.0))  # the right password
    assert lim.retry_after("addr", 3.0) == 0
    wrong = [lim.attempt("mo", f"a{i}", 3.0) for i in range(2)]
    assert not any(w.slow for w in wrong)
    late = lim.attempt("mo", "addr", 4.0)
    assert late.slow and late.rank == 0  # an address that has not been guessing goes first
    lim.take_back(late)  # the owner signing in does not clear the guesses
    assert lim.attempt("mo", "a0", 5.0).slow
    assert lim.attempt("x", "a0", 5.0).rank == 2


def test_many_addresses_cannot_push_a_username_out() -> None:
    lim = LoginLimits(per_name=3, per_address=5, window=60.0, max_keys=100)
    for i in range(3):
        lim.attempt("mo", f"a{i}", 1.0)
    for i in range(1000):
        lim.attempt("x", f"flood{i}", 2.0)
    assert lim.tracked() == (2, 100)
    # The address table is full of live keys: a newcomer is not tracked, and goes slow, last.
    late = lim.attempt("ann", "newcomer", 3.0)
    assert late.slow and late.address is None and late.rank == 5
    for i in range(1000):
        lim.attempt(f"name{i}", "a1", 4.0)
    assert lim.tracked() == (100, 100)
    assert lim.attempt("mo", "a2", 5.0).slow  # its guesses still count
    # Once the window has passed, the old keys make room again.
    fresh = lim.attempt("zed", "z", 70.0)
    assert not fresh.slow and fresh.name == "zed" and fresh.address == "z"
    assert lim.tracked() == (1, 1)


async def test_the_slow_lane_runs_one_at_a_time_and_puts_guessers_last() -> None:
    lanes = SlowLanes(delay=0.0, per_name=2, total=10)
    order: list[str] = []
    gate = asyncio.Event()

    async def check(tag: str) -> str:
        order.append(tag)
        if tag == "first":
            await gate.wait()
        return tag

    def run(rank: int, tag: str) -> asyncio.Task[str]:
        return asyncio.create_task(lanes.run("mo", rank, lambda: check(tag)))

    first = run(0, "first")
    await asyncio.sleep(0.01)
    guesser, other = run(4, "guesser"), run(3, "other guesser")
    await asyncio.sleep(0.01)
    owner = run(0, "owner")  # the lane is full: the owner takes the last guesser's place
    await asyncio.sleep(0.01)
    with pytest.raises(Busy):
        await guesser
    with pytest.raises(Busy):  # ranks behind everyone waiting: left out
        await lanes.run("mo", 5, lambda: check("late"))
    with pytest.raises(Busy):
        await SlowLanes(total=0).run("ann", 0, lambda: check("nobody"))
    assert len(lanes) == 3
    gate.set()
    assert [await first, await owner, await other] == ["first", "owner", "other guesser"]
    assert order == ["first", "owner", "other guesser"]
    assert len(lanes) == 0 and not lanes._lanes


async def test_a_request_that_goes_away_leaves_the_lane() -> None:
    lanes = SlowLanes(delay=0.0, per_name=4, total=10)
    gate = asyncio.Event()

    async def check() -> bool:
        await gate.wait()
        return True

    running = asyncio.create_task(lanes.run("mo", 0, check))
    await asyncio.sleep(0.01)
    waiting = asyncio.create_task(lanes.run("mo", 0, check))
    await asyncio.sleep(0.01)
    assert len(lanes) == 2
    waiting.cancel()
    await asyncio.sleep(0.01)
    assert len(lanes) == 1
    gate.set()
    assert await running
    assert len(lanes) == 0


def test_csrf_token_is_bound_to_the_session() -> None:
    assert csrf_for("session-a") == csrf_for("session-a")
    assert csrf_for("session-a") != csrf_for("session-b")
    assert "session-a" not in csrf_for("session-a")


def test_invite_codes_read_forgivingly_and_hash_alike() -> None:
    code = invites.new_code()
    assert len(code) == 19 and code.count("-") == 3
    assert invites.hash_code(code) == invites.hash_code(code.lower().replace("-", " "))
    assert invites.normal_code("ab1o-il00") == "AB101100"
    assert invites.new_code() != code


def ticket(tid: str, prompts: tuple[str, ...], langs: tuple[str, ...], since: float = 0.0,
           **kw: object) -> matching.Ticket:
    return matching.Ticket(id=tid, member=f"m-{tid}", prompts=prompts, languages=langs,
                           since=since, **kw)  # type: ignore[arg-type]


def test_the_queue_view_hides_profiles_and_ids_and_lists_oldest_first() -> None:
    pool = [ticket("t1", ("p",), ("en",), since=50.0, profile=(("politics", "left"),)),
            ticket("t2", ("p",), ("en",), since=10.0, stances=(("p", "agree"),))]
    frame = overview.queue_frame("queue_changed", pool, 60.0, set(), matching.Constraints())
    assert [e["ticket"] for e in frame["queue"]] == ["t2", "t1"]
    assert frame["queue"][0]["waited_s"] == 50.0
    assert frame["wait"] == {"median_s": 30.0, "longest_s": 50.0}
    raw = json.dumps(frame)
    for secret in ("left", "agree", "m-t1", "m-t2", "politics"):
        assert secret not in raw


def test_stuck_counts_members_with_no_possible_counterpart() -> None:
    pool = [
        ticket("a", ("p",), ("de",)), ticket("b", ("p",), ("de",)),  # a pair
        ticket("c", ("p",), ("fr",)),  # nobody speaks French
        ticket("d", ("p",), ("de",), mode="generations"),  # nobody else wants this mode
        ticket("e", ("q",), ("de",), group=3), ticket("f", ("q",), ("de",), group=3),  # short
    ]
    frame = overview.queue_frame("queue_changed", pool, 1.0, set(), matching.Constraints())
    assert frame["stuck_total"] == 4
    rows = frame["stuck"]
    assert {"prompt": "p", "language": "de", "waiting": 3, "stuck": 1} in rows
    assert {"prompt": "p", "language": "fr", "waiting": 1, "stuck": 1} in rows
    assert {"prompt": "q", "language": "de", "waiting": 2, "stuck": 2} in rows
    assert rows[0]["stuck"] == 2  # the worst first
    # Blocks count too, and a paused prompt leaves everyone on it stuck.
    blocked = matching.Constraints(blocked=frozenset({frozenset({"m-a", "m-b"})}))
    assert {"prompt": "p", "language": "de", "waiting": 3, "stuck": 3} in overview.queue_frame(
        "queue_changed", pool, 1.0, set(), blocked)["stuck"]
    assert overview.stuck_members(pool, {"p"}, matching.Constraints()) >= {"a", "b"}


def test_language_buddies_are_stuck_without_a_fluent_partner() -> None:
    learner = ticket("l", ("p",), ("en",), mode="language_buddy", learning=("de",))
    other = ticket("o", ("p",), ("en",), mode="language_buddy", learning=("de",))
    assert overview.stuck_members([learner, other], set(), matching.Constraints()) == {"l", "o"}
    fluent = ticket("f", ("p",), ("de",), mode="language_buddy", learning=("en",))
    assert overview.stuck_members([learner, other, fluent], set(),
                                  matching.Constraints()) == set()


def test_wait_figures_with_an_empty_queue() -> None:
    assert overview.wait_stats([]) == {"median_s": None, "longest_s": None}
