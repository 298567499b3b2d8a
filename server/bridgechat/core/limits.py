"""A sliding-window counter (bad frames); time comes in as an argument.

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
