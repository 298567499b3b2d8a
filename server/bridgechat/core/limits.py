"""Sliding-window counters (bad frames; new members per address); time comes in as an argument.

The send rate's token bucket lives in core/session.py, the one place that uses it."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field


@dataclass(slots=True)
class WindowCounter:
    """Counts events in the last `window` seconds, remembering at most `limit + 1`."""

    limit: int
    window: float
    times: deque[float] = field(default_factory=deque)

    def hit(self, now: float) -> int:
        """Record one event; returns how many fell inside the window."""
        while self.times and self.times[0] <= now - self.window:
            self.times.popleft()
        self.times.append(now)
        if len(self.times) > self.limit + 1:
            self.times.popleft()
        return len(self.times)


@dataclass(slots=True)
class PerKey:
    """A WindowCounter per key (an address's keyed hash), for at most `keys` keys.

    Past that many, the counters whose window has passed are dropped, then the
    oldest half: an attacker with many addresses can only make the limit forget
    some of them early, never hold more memory.
    """

    limit: int
    window: float
    keys: int = 10_000
    counters: dict[str, WindowCounter] = field(default_factory=dict)

    def allow(self, key: str, now: float) -> bool:
        """Count one event for `key`; False once it has had `limit` in the window."""
        counter = self.counters.get(key)
        if counter is None:
            if len(self.counters) >= self.keys:
                self.prune(now)
            counter = self.counters[key] = WindowCounter(self.limit, self.window)
        return counter.hit(now) <= self.limit

    def prune(self, now: float) -> None:
        stale = [k for k, c in self.counters.items()
                 if not c.times or c.times[-1] <= now - self.window]
        for k in stale:
            del self.counters[k]
        for k in list(self.counters)[:max(0, len(self.counters) - self.keys // 2)]:
            del self.counters[k]
