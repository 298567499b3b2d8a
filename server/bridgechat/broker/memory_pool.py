"""The in-process broker's waiting pool: tickets by id, and which member holds which.

Its own module so that memory.py stays one screenful per part; the Redis
twin is broker/redis_pool.py, and tests/test_broker_contract.py holds both
to the same `WaitingPool` contract.
"""

from __future__ import annotations

from collections.abc import Sequence

from bridgechat.matching import Ticket


class MemoryPool:
    def __init__(self) -> None:
        self._tickets: dict[str, Ticket] = {}
        self._holders: dict[str, str] = {}  # member (or sign-up) -> their ticket's id

    async def add_ticket(self, ticket: Ticket) -> bool:
        keys = ticket.holders()
        if any(self._holders.get(k) in self._tickets for k in keys):
            return False
        self._tickets[ticket.id] = ticket
        self._holders.update(dict.fromkeys(keys, ticket.id))
        return True

    def _drop(self, ticket_id: str) -> Ticket | None:
        ticket = self._tickets.pop(ticket_id, None)
        for k in ticket.holders() if ticket is not None else ():
            if self._holders.get(k) == ticket_id:
                del self._holders[k]
        return ticket

    async def remove_ticket(self, ticket_id: str) -> Ticket | None:
        return self._drop(ticket_id)

    async def take_tickets(self, ticket_ids: Sequence[str]) -> list[Ticket] | None:
        ids = list(dict.fromkeys(ticket_ids))
        if not all(t in self._tickets for t in ids):
            return None
        return [t for t in map(self._drop, ids) if t is not None]

    async def tickets(self) -> list[Ticket]:
        return list(self._tickets.values())

    async def lead(self, node: str, ttl: float) -> bool:
        return True  # one node: always the leader
