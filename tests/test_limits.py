from bridgechat.core.limits import WindowCounter
from hypothesis import given
from hypothesis import strategies as st


def test_window_forgets_old_events() -> None:
    w = WindowCounter(limit=3, window=60.0)
    assert [w.hit(t) for t in (0.0, 1.0, 2.0)] == [1, 2, 3]
    assert w.hit(61.5) == 2


# The bad-frame rule counts with this window; the clock is a plain float, so each
# boundary is checked exactly, with no sleeping.

def test_an_event_exactly_one_window_old_is_forgotten() -> None:
    w = WindowCounter(limit=30, window=60.0)
    w.hit(0.0)
    assert w.hit(59.5) == 2
    assert w.hit(60.0) == 2  # the one at 0.0 is out; 59.5 and 60.0 are in
    assert w.hit(119.5) == 2  # and now 59.5 is out


def test_a_burst_past_the_limit_counts_limit_plus_one_and_keeps_no_more() -> None:
    w = WindowCounter(limit=30, window=60.0)
    counts = [w.hit(i / 100) for i in range(100)]
    assert counts[:31] == list(range(1, 32))
    assert set(counts[31:]) == {31}  # over the limit stays over it, without growing
    assert len(w.times) == 31


def test_the_count_falls_as_time_passes_without_events() -> None:
    w = WindowCounter(limit=30, window=60.0)
    for t in range(31):
        w.hit(float(t))  # 31 bad frames in 31 s: over the limit
    assert w.hit(45.0) == 31
    assert w.hit(75.0) == 17  # 0..15 have left the window: 16..30, 45 and 75 remain
    assert w.hit(200.0) == 1


@given(st.integers(1, 10), st.floats(0.5, 100.0),
       st.lists(st.floats(0.0, 50.0), min_size=1, max_size=60))
def test_the_count_is_the_events_inside_the_window_capped_at_limit_plus_one(
        limit: int, window: float, gaps: list[float]) -> None:
    w = WindowCounter(limit=limit, window=window)
    now, seen = 0.0, []
    for gap in gaps:
        now += gap
        seen.append(now)
        inside = sum(1 for t in seen if t > now - window)
        assert w.hit(now) == min(limit + 1, inside)


def test_per_key_counts_each_key_apart_and_forgets_what_no_longer_counts() -> None:
    from bridgechat.core.limits import PerKey

    per = PerKey(limit=2, window=60.0, keys=4)
    assert per.allow("a", 0.0) and per.allow("a", 1.0)
    assert not per.allow("a", 2.0)  # a third within the minute
    assert per.allow("b", 2.0)  # another key has its own count
    assert per.allow("a", 61.5)  # the first two have left the window
    per.prune(200.0)  # every window has passed: nothing is kept
    assert per.counters == {}
    for i in range(10):  # many keys at once: never more than `keys` kept
        per.allow(f"k{i}", 300.0)
        assert len(per.counters) <= 4


def test_the_gate_forgets_buckets_that_have_refilled() -> None:
    from bridgechat.settings import Settings
    from bridgechat.web.gate import Gate

    gate = Gate(Settings(connections_per_address=2, handshakes_per_minute=60))
    for n in range(3):
        refusal, key = gate.admit(f"192.0.2.{n}")
        assert refusal is None
        gate.leave(key)
    assert len(gate.buckets) == 3 and not gate.open
    gate.prune(float("inf"))  # long after: every bucket is full again
    assert gate.buckets == {}
