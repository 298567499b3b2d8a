"""The in-process broker for the embedded single node."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Sequence

from server.broker import Deliver
from server.matching import Ticket

HISTORY = 500


class MemoryBroker:
    """Plain dicts in this process; delivery is a direct call."""

    def __init__(self, history: int = HISTORY) -> None:
        self._history_len = history
        self._deliver: Deliver | None = None
        self._tickets: dict[str, Ticket] = {}
        # room -> (seq of the first frame ever dropped + 1 or 1, frames)
        self._history: dict[str, deque[tuple[int, bytes]]] = {}
        self._pairs: dict[frozenset[str], float] = {}

    async def start(self, deliver: Deliver) -> None:
        self._deliver = deliver

    async def close(self) -> None:
        self._deliver = None

    async def add_ticket(self, ticket: Ticket) -> None:
        self._tickets[ticket.id] = ticket

    async def remove_ticket(self, ticket_id: str) -> Ticket | None:
        return self._tickets.pop(ticket_id, None)

    async def tickets(self) -> list[Ticket]:
        return list(self._tickets.values())

    async def publish(self, members: Sequence[str], frame: bytes) -> None:
        deliver = self._deliver
        if deliver is not None:
            for m in members:
                deliver(m, frame)

    async def remember(self, room: str, seq: int, frame: bytes) -> None:
        frames = self._history.get(room)
        if frames is None:
            frames = self._history[room] = deque(maxlen=self._history_len)
        frames.append((seq, frame))

    async def replay(self, room: str, after: int) -> tuple[list[bytes], bool]:
        frames = self._history.get(room)
        if not frames:
            return [], True
        out = [f for s, f in frames if s > after]
        # Complete only if nothing between `after` and the oldest kept frame was dropped.
        complete = frames[0][0] <= after + 1
        return out, complete

    async def forget(self, room: str) -> None:
        self._history.pop(room, None)

    async def note_pairs(self, pairs: Sequence[frozenset[str]], ttl: float) -> None:
        until = time.time() + ttl
        for p in pairs:
            self._pairs[p] = until

    async def recent_pairs(self) -> frozenset[frozenset[str]]:
        now = time.time()
        for p in [p for p, t in self._pairs.items() if t <= now]:
            del self._pairs[p]
        return frozenset(self._pairs)
