from bridgechat.core.limits import TokenBucket, WindowCounter


def test_bucket_allows_a_burst_then_the_rate() -> None:
    b = TokenBucket(rate=2.0, burst=3.0)
    assert [b.take(0.0) for _ in range(4)] == [True, True, True, False]
    assert b.take(0.5) and not b.take(0.5)


def test_window_forgets_old_events() -> None:
    w = WindowCounter(limit=3, window=60.0)
    assert [w.hit(t) for t in (0.0, 1.0, 2.0)] == [1, 2, 3]
    assert w.hit(61.5) == 2
