"""Sign-in attempt limits per username and per (hashed) address. Pure: time is an argument.

Built so that an attacker cannot turn them against an account's owner:

- Per address, at most `per_address` attempts in `window`; more get 429. It is the
  guessing address that runs out, not the account.
- Per username, past `per_name` attempts in `window` the username is not locked: its
  password checks go to a slow lane (lanes.py: one at a time, each after a delay), where
  a correct password still signs in, and guesses at that name from any number of
  addresses are held to the lane's pace. `rank` orders the lane: addresses that have
  made fewer attempts come first, so an owner who is not guessing goes ahead of the
  addresses that are.

Why count before checking the password: a burst of parallel guesses would otherwise all
be checked before the first failure is counted. Each attempt counts at once; one that
was never checked (the server answered 503 `busy`) or had the right password is taken
back. Wrong guesses stay counted: the owner signing in does not reset the slow-down.

Usernames and addresses are kept in two tables of at most `max_keys` each, so many
addresses cannot push a username out. A key is dropped only once its window has passed;
while a table is full of live keys, a newcomer is not tracked and its attempt goes to the
slow lane, ranked last: the limits fail slow, never open and never shut.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from dataclasses import dataclass, field

NAME_LIMIT = 5
ADDRESS_LIMIT = 20
WINDOW = 900.0
MAX_KEYS = 10_000
Table = OrderedDict[str, deque[float]]


@dataclass(frozen=True, slots=True)
class Attempt:
    """One sign-in attempt as counted: the keys it was counted under (None: untracked)."""

    name: str | None
    address: str | None
    at: float
    slow: bool  # its password check waits in the username's slow lane
    rank: int  # its place there: attempts its address made in the window before it


@dataclass(slots=True)
class LoginLimits:
    """Attempts per username (then the slow lane) and per address (then 429) in `window`."""

    per_name: int = NAME_LIMIT
    per_address: int = ADDRESS_LIMIT
    window: float = WINDOW
    max_keys: int = MAX_KEYS
    # Oldest activity first: an entry moves to the end with each attempt.
    _names: Table = field(default_factory=OrderedDict)
    _addresses: Table = field(default_factory=OrderedDict)

    def _live(self, table: Table, key: str, now: float) -> deque[float] | None:
        """The key's attempts still in the window, if it is tracked."""
        times = table.get(key)
        while times and times[0] <= now - self.window:
            times.popleft()
        return times

    def _track(self, table: Table, key: str, now: float) -> deque[float] | None:
        """As `_live`, making room for a new key; None while the table is full of live keys."""
        times = self._live(table, key, now)
        if times is not None:
            return times
        while table:
            oldest = next(iter(table.values()))
            if oldest and oldest[-1] > now - self.window:
                break
            table.popitem(last=False)
        if len(table) >= self.max_keys:
            return None
        times = table[key] = deque()
        return times

    def retry_after(self, address: str, now: float) -> float:
        """Seconds until this address may try again; 0 when it may now."""
        times = self._live(self._addresses, address, now)
        if times is None or len(times) < self.per_address:
            return 0.0
        return max(0.0, times[-self.per_address] + self.window - now)

    def attempt(self, name: str, address: str, now: float) -> Attempt:
        """Count an attempt (call `retry_after` first); says whether it goes the slow way."""
        names = self._track(self._names, name, now)
        addresses = self._track(self._addresses, address, now)
        rank = self.per_address if addresses is None else len(addresses)
        slow = names is None or addresses is None or len(names) >= self.per_name
        for table, key, times in ((self._names, name, names),
                                  (self._addresses, address, addresses)):
            if times is not None:
                times.append(now)
                table.move_to_end(key)
        return Attempt(name if names is not None else None,
                       address if addresses is not None else None, now, slow, rank)

    def take_back(self, attempt: Attempt) -> None:
        """The attempt was no guess: never checked (busy), or the right password."""
        for table, key in ((self._names, attempt.name), (self._addresses, attempt.address)):
            times = None if key is None else table.get(key)
            if times and attempt.at in times:
                times.remove(attempt.at)

    def tracked(self) -> tuple[int, int]:
        """(usernames, addresses) held now: each at most `max_keys`."""
        return len(self._names), len(self._addresses)
