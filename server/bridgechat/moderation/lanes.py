"""The slow lane: password checks for a username past its attempts (throttle.py says when).

Checks for one username run one at a time, each after `delay` seconds, so guesses at
that name from any number of addresses are held to about one per `delay`, while a
correct password still signs in when its turn comes: the lane slows guessing down
instead of locking the owner out.

A lane is ordered by rank (the attempts the address made in the window: fewest first,
in order of arrival among equals), so someone who is not guessing goes ahead of the
addresses that are. At most `per_name` wait in one lane and `total` in all lanes
together (a check under way counts too); past that, a newcomer that ranks ahead of the
last one waiting takes its place, and whoever is left out gets `Busy` (503 `busy`,
which uses no attempt). Memory is bounded by `total`.
"""

from __future__ import annotations

import asyncio
import bisect
import itertools
from collections.abc import Awaitable, Callable
from typing import TypeVar

from bridgechat.moderation.passwords import Busy

T = TypeVar("T")
# (rank, arrival, told when its turn comes); arrival numbers are unique, so futures are
# never compared.
Waiter = tuple[int, int, "asyncio.Future[None]"]


class SlowLanes:
    """One lane per username with a check under way; the rest wait their turn in it."""

    def __init__(self, delay: float = 1.0, per_name: int = 8, total: int = 64) -> None:
        self.delay, self.per_name, self.total = delay, per_name, total
        # A username has a lane while one of its checks runs: the ones waiting behind it.
        self._lanes: dict[str, list[Waiter]] = {}
        self._count = 0  # checks running or waiting, in every lane
        self._arrival = itertools.count()

    def __len__(self) -> int:
        return self._count

    async def run(self, name: str, rank: int, check: Callable[[], Awaitable[T]]) -> T:
        """`check()` in the username's lane, after the delay; Busy if it cannot wait."""
        waiting = self._lanes.get(name)
        if waiting is None:
            if self._count >= self.total:
                raise Busy()
            waiting = self._lanes[name] = []
            self._count += 1
        else:
            await self._wait(name, waiting, rank)
        try:
            await asyncio.sleep(self.delay)
            return await check()
        finally:
            self._release(name, waiting)

    async def _wait(self, name: str, waiting: list[Waiter], rank: int) -> None:
        me: Waiter = (rank, next(self._arrival), asyncio.get_running_loop().create_future())
        if len(waiting) >= self.per_name or self._count >= self.total:
            if not waiting or me[:2] > waiting[-1][:2]:
                raise Busy()
            last = waiting.pop()  # ranks behind the newcomer: it is left out instead
            last[2].set_exception(Busy())
            self._count -= 1
        bisect.insort(waiting, me)
        self._count += 1
        try:
            await me[2]
        except asyncio.CancelledError:
            if me in waiting:  # the request went away while it waited
                waiting.remove(me)
                self._count -= 1
            elif me[2].done() and not me[2].cancelled() and me[2].exception() is None:
                self._release(name, waiting)  # its turn had come: pass it on
            raise

    def _release(self, name: str, waiting: list[Waiter]) -> None:
        """The check under way is over: the first in line runs next, or the lane closes."""
        self._count -= 1
        if waiting:
            waiting.pop(0)[2].set_result(None)  # counted since it began to wait; it runs now
        else:
            del self._lanes[name]
