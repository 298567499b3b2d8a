"""Rate limits as small pure counters; time comes in as an argument."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field


@dataclass(slots=True)
class TokenBucket:
    """Allows `burst` at once, then `rate` per second."""

    rate: float
    burst: float
    tokens: float = -1.0
    last: float = 0.0

    def take(self, now: float) -> bool:
        """Refill for the time since the last call, then spend a token if there is one."""
        tokens = self.tokens
        if tokens < 0:
            tokens, self.last = self.burst, now
        tokens = min(self.burst, tokens + (now - self.last) * self.rate)
        self.last = now
        if tokens < 1:
            self.tokens = tokens
            return False
        self.tokens = tokens - 1
        return True

    def give_back(self) -> None:
        """Undo a `take` that turned out to cost nothing (a resend)."""
        self.tokens = min(self.burst, self.tokens + 1)


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
