from bridgechat.core.limits import WindowCounter


def test_window_forgets_old_events() -> None:
    w = WindowCounter(limit=3, window=60.0)
    assert [w.hit(t) for t in (0.0, 1.0, 2.0)] == [1, 2, 3]
    assert w.hit(61.5) == 2
