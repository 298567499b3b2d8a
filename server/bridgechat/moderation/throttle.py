"""Login attempt limits per username and per (hashed) address. Pure: time is an argument.

Why count before checking the password: a burst of parallel guesses would
otherwise all pass the check before the first failure is counted. Each
attempt counts at once; a correct password takes its own attempt back and
clears the username's record, so a moderator who mistyped a few times is
not held up once they get it right.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

NAME_LIMIT = 5
ADDRESS_LIMIT = 20
WINDOW = 900.0
MAX_KEYS = 10_000


@dataclass(slots=True)
class LoginLimits:
    """At most `per_name` attempts per username and `per_address` per address in `window`."""

    per_name: int = NAME_LIMIT
    per_address: int = ADDRESS_LIMIT
    window: float = WINDOW
    max_keys: int = MAX_KEYS
    _seen: dict[str, deque[float]] = field(default_factory=dict)

    def _times(self, key: str, now: float) -> deque[float]:
        times = self._seen.get(key)
        if times is None:
            if len(self._seen) >= self.max_keys:
                self._prune(now)
            times = self._seen[key] = deque()
        while times and times[0] <= now - self.window:
            times.popleft()
        return times

    def _prune(self, now: float) -> None:
        """Forget idle keys; if every key is busy, the oldest one goes."""
        for key in [k for k, t in self._seen.items() if not t or t[-1] <= now - self.window]:
            del self._seen[key]
        while len(self._seen) >= self.max_keys:
            del self._seen[next(iter(self._seen))]

    def _wait(self, key: str, limit: int, now: float) -> float:
        times = self._times(key, now)
        if len(times) < limit:
            return 0.0
        return max(0.0, times[-limit] + self.window - now)

    def retry_after(self, name: str, address: str, now: float) -> float:
        """Seconds until another attempt is allowed; 0 when it is allowed now."""
        return max(self._wait("u:" + name, self.per_name, now),
                   self._wait("a:" + address, self.per_address, now))

    def attempt(self, name: str, address: str, now: float) -> None:
        for key in ("u:" + name, "a:" + address):
            self._times(key, now).append(now)

    def succeeded(self, name: str, address: str) -> None:
        self._seen.pop("u:" + name, None)
        times = self._seen.get("a:" + address)
        if times:
            times.pop()
