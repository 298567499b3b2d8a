import pytest
from bridgechat.core.protocol import Code, ProtocolError
from bridgechat.core.room import AWAY, GONE, PRESENT, Accepted, IllegalTransition, Room
from hypothesis import assume, given
from hypothesis import strategies as st


def room() -> Room:
    return Room.open("r1", "home", [("m1", "Calm Heron"), ("m2", "Brave Fox")], now=0.0)


def test_seq_numbers_count_up_per_room() -> None:
    r = room()
    assert [r.send("m1", "a", "t1").seq, r.send("m2", "b", "t2").seq, r.send("m1", "c", "t3").seq] \
        == [1, 2, 3]


def test_resend_with_same_id_gets_original_seq_and_time() -> None:
    r = room()
    first = r.send("m1", "a", "t1")
    r.send("m2", "x", "t2")
    again = r.send("m1", "a", "t5")
    assert (again.seq, again.ts, again.fresh) == (first.seq, first.ts, False)
    assert r.seq == 2


def test_ids_are_per_member() -> None:
    r = room()
    assert r.send("m1", "a", "t1").fresh and r.send("m2", "a", "t1").fresh


def test_rate_limit_refuses_a_new_message_but_not_a_resend() -> None:
    r = room()
    r.send("m1", "a", "t1")
    with pytest.raises(ProtocolError) as e:
        r.send("m1", "b", "t2", allowed=False)
    assert (e.value.code, e.value.ref, r.seq) == (Code.RATE_LIMITED, "b", 1)
    assert r.send("m1", "a", "t3", allowed=False) == Accepted(1, "t1", fresh=False)


def test_stranger_cannot_send() -> None:
    with pytest.raises(ProtocolError) as e:
        room().send("m3", "a", "t1")
    assert e.value.code is Code.NOT_IN_ROOM


def test_leave_closes_a_pair_and_tells_the_other() -> None:
    r = room()
    d = r.leave("m1", "left", 4.0)
    assert (d.alias, d.notify, d.closed, r.closed) == ("Calm Heron", ("m2",), True, "left")
    with pytest.raises(ProtocolError) as e:
        r.send("m2", "z", "t5")
    assert e.value.code is Code.ROOM_CLOSED
    with pytest.raises(ProtocolError) as e:
        r.send("m1", "z", "t5")
    assert e.value.code is Code.NOT_IN_ROOM


def test_group_of_three_stays_open_when_one_leaves() -> None:
    r = Room.open("r", "p", [("a", "A"), ("b", "B"), ("c", "C")], 0.0)
    d = r.leave("a", "left", 1.0)
    assert not d.closed and r.is_open and set(d.notify) == {"b", "c"}
    assert r.send("b", "1", "t2").seq == 1


def test_dropped_member_is_away_until_grace_then_gone() -> None:
    r = room()
    assert r.drop("m2", now=10.0, grace=5.0)
    assert r.seats["m2"].state is AWAY
    assert r.expire(14.9) == []
    [d] = r.expire(15.0)
    assert (d.member, d.reason, d.closed) == ("m2", "timeout", True)
    assert r.seats["m2"].state is GONE


def test_rejoin_within_grace_keeps_the_seat() -> None:
    r = room()
    r.drop("m2", 10.0, 5.0)
    assert r.rejoin("m2")
    assert r.seats["m2"].state is PRESENT
    assert r.expire(100.0) == []


def test_away_member_cannot_send_but_can_come_back() -> None:
    r = room()
    r.drop("m1", 0.0, 60.0)
    # Away means the socket is gone; a send can only come after a rejoin.
    assert not r.drop("m1", 1.0, 60.0)
    assert r.rejoin("m1") and not r.rejoin("m1")


def test_illegal_transition_changes_nothing() -> None:
    r = room()
    seat = r.seats["m1"]
    with pytest.raises(IllegalTransition):
        r._move(seat, "rejoin")
    assert seat.state is PRESENT


def test_room_needs_distinct_aliases() -> None:
    with pytest.raises(ValueError):
        Room.open("r", "p", [("a", "X"), ("b", "X")], 0.0)


@given(st.lists(st.tuples(st.sampled_from(["m1", "m2"]), st.sampled_from("abcdef")),
                max_size=40))
def test_seq_is_gapless_and_each_id_numbered_once(sends: list[tuple[str, str]]) -> None:
    r = room()
    numbered: dict[tuple[str, str], int] = {}
    for t, (m, cid) in enumerate(sends):
        got = r.send(m, cid, str(t))
        assert numbered.setdefault((m, cid), got.seq) == got.seq
    assert sorted(numbered.values()) == list(range(1, len(numbered) + 1))


def test_snapshot_round_trips_every_field() -> None:
    r = room()
    r.send("m1", "a", "t1")
    r.drop("m2", 2.0, 60.0)
    back = Room.restore(r.snapshot())
    assert back == r
    # The restored room still knows the sent id: a resend is not numbered again.
    assert not back.send("m1", "a", "t9").fresh


def test_stages_follow_the_share_of_time() -> None:
    from bridgechat.core.room import next_stage_at, stage_for

    assert [stage_for(t, 100.0) for t in (0, 19.9, 20, 79, 80, 100)] == [
        "icebreaker", "icebreaker", "discuss", "discuss", "reflect", "reflect"]
    assert next_stage_at(1000.0, 100.0, 0.0) == 1020.0
    assert next_stage_at(1000.0, 100.0, 50.0) == 1080.0
    assert next_stage_at(1000.0, 100.0, 90.0) == 1100.0


# -- time comes in as an argument: each boundary checked exactly, with no sleeping ----

@given(st.floats(0.0, 1e6), st.floats(0.0, 3600.0), st.floats(0.0, 7200.0))
def test_an_away_member_is_gone_exactly_when_the_grace_runs_out(
        dropped: float, grace: float, later: float) -> None:
    r = room()
    assert r.drop("m2", dropped, grace)
    now = dropped + later
    gone = r.expire(now)
    if now >= dropped + grace:
        assert [(d.member, d.reason, d.closed) for d in gone] == [("m2", "timeout", True)]
        assert (r.closed, r.closed_at) == ("timeout", now)
        assert not r.rejoin("m2")  # too late to come back
    else:
        assert gone == [] and r.is_open and r.rejoin("m2")


def test_expiry_happens_once() -> None:
    r = room()
    r.drop("m2", 0.0, 5.0)
    assert len(r.expire(5.0)) == 1
    assert r.expire(6.0) == [] and r.expire(1e9) == []


def test_in_a_group_each_away_member_expires_on_their_own_clock() -> None:
    r = Room.open("r", "p", [("a", "A"), ("b", "B"), ("c", "C")], 0.0)
    r.drop("a", 10.0, 5.0)
    r.drop("b", 12.0, 5.0)
    [first] = r.expire(15.0)
    assert (first.member, first.closed, r.is_open) == ("a", False, True)
    assert r.expire(16.9) == []
    [second] = r.expire(17.0)
    assert (second.member, second.closed, r.closed_at) == ("b", True, 17.0)


def test_a_rejoin_resets_the_grace_for_the_next_drop() -> None:
    r = room()
    r.drop("m2", 0.0, 5.0)
    assert r.rejoin("m2")
    r.drop("m2", 100.0, 5.0)
    assert r.expire(104.9) == []  # the first drop's 5.0 no longer counts
    assert len(r.expire(105.0)) == 1


@given(st.floats(1.0, 86_400.0), st.floats(0.0, 1.0, exclude_max=True))
def test_the_next_stage_time_is_when_the_stage_changes(duration: float, share: float) -> None:
    from bridgechat.core.room import next_stage_at, stage_for

    elapsed = share * duration
    assume(elapsed < duration)  # a share just under 1 can round up to the whole
    nxt = next_stage_at(0.0, duration, elapsed)
    assert elapsed < nxt <= duration
    if nxt < duration:  # a stage turns then (at the end, the conversation closes instead)
        assert stage_for(nxt, duration) != stage_for(elapsed, duration)
