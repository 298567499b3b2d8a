"""The broker: what nodes share while members are online.

One `typing.Protocol`, two implementations: `memory.MemoryBroker` for the
embedded single node, and a Redis broker for many nodes. Everything here
lives in RAM only (message frames for resume, waiting tickets with their
profile answers) and is gone when the room closes or the ticket leaves.
Delivery is at most once; a member who missed frames asks for `resume`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from server.matching import Ticket

# Called on this node for every frame addressed to one of the members.
Deliver = Callable[[str, bytes], None]


class Broker(Protocol):
    async def start(self, deliver: Deliver) -> None:
        """Begin delivering frames addressed to members to `deliver`."""

    async def close(self) -> None: ...

    # -- waiting pool -----------------------------------------------------
    async def add_ticket(self, ticket: Ticket) -> None: ...

    async def remove_ticket(self, ticket_id: str) -> Ticket | None:
        """Take a ticket out of the pool; None if it was already gone."""

    async def tickets(self) -> list[Ticket]: ...

    # -- fan-out ------------------------------------------------------------
    async def publish(self, members: Sequence[str], frame: bytes) -> None:
        """Deliver one encoded frame to each member, wherever connected."""

    # -- short room history, for resume -------------------------------------
    async def remember(self, room: str, seq: int, frame: bytes) -> None: ...

    async def replay(self, room: str, after: int) -> tuple[list[bytes], bool]:
        """Frames with seq > after in order, and False if some were lost."""

    async def forget(self, room: str) -> None: ...

    # -- pairs recently matched (not twice within the repeat window) ---------
    async def note_pairs(self, pairs: Sequence[frozenset[str]], ttl: float) -> None: ...

    async def recent_pairs(self) -> frozenset[frozenset[str]]: ...
