"""Unit tests of moderation's pure helpers: login limits, CSRF, invite codes, the dashboard view."""

from __future__ import annotations

import json

from bridgechat import matching
from bridgechat.moderation import invites, overview
from bridgechat.moderation.auth import csrf_for
from bridgechat.moderation.throttle import LoginLimits


def test_login_limits_per_name_and_address() -> None:
    lim = LoginLimits(per_name=3, per_address=5, window=60.0)
    for i in range(3):
        assert lim.retry_after("mo", "addr", float(i)) == 0
        lim.attempt("mo", "addr", float(i))
    assert lim.retry_after("mo", "addr", 3.0) == 57.0
    assert lim.retry_after("ann", "addr", 3.0) == 0  # another name from the same place
    lim.attempt("ann", "addr", 4.0)
    lim.attempt("ann", "addr", 4.0)
    assert lim.retry_after("zed", "addr", 5.0) == 55.0  # five from this address in a minute
    assert lim.retry_after("mo", "addr", 61.5) == 0  # the first attempts left the window


def test_a_correct_password_takes_its_attempt_back() -> None:
    lim = LoginLimits(per_name=3, per_address=5, window=60.0)
    for _ in range(2):
        lim.attempt("mo", "addr", 1.0)
    lim.attempt("mo", "addr", 2.0)
    lim.succeeded("mo", "addr")
    assert lim.retry_after("mo", "addr", 3.0) == 0


def test_login_limits_stay_bounded_in_memory() -> None:
    lim = LoginLimits(max_keys=100)
    for i in range(1000):
        lim.attempt(f"name{i}", "addr", float(i))
    assert len(lim._seen) <= 101


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
