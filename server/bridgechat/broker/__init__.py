"""The broker: what nodes share while members are online.

One `typing.Protocol`, two implementations: `memory.MemoryBroker` for the
embedded single node, `redis.RedisBroker` for many nodes. Everything here
lives in RAM only (waiting tickets with their profile answers, room state,
message frames for resume, franking keys) and is gone when the room closes
or the ticket leaves. Delivery is at most once; a member who missed frames
asks for `resume`.

Room state is changed through `change_room(room, fn)`: the broker loads the
room, applies the pure `fn` from server/room.py, and saves it atomically,
so both brokers run the very same room rules. The one exception is the
hottest path, a chat message: `send` numbers it, keeps it for resume and
hands it to the other members in one step (for Redis, one script and one
round trip), under the rule of `Room.send`.

A message travels between brokers and nodes as a `Said`, without its
franking tag: the node that delivers it signs it (server/node.py), so the
sender's node need not wait for its number before it can sign.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Protocol, TypeVar

import msgspec

from bridgechat.core.room import Accepted, Room, RoomMeta
from bridgechat.matching import Ticket

T = TypeVar("T")


class Said(msgspec.Struct, array_like=True, frozen=True, gc=False):
    """A numbered chat message as brokers carry and keep it (a JSON array on Redis).

    gc=False: only strings and an int, so never in a cycle; a node keeps up
    to 500 a room, and the garbage collector's full passes need not visit them."""

    room: str
    seq: int
    alias: str
    ts: str
    text: str


# Called on this node for every frame addressed to one of its members.
Deliver = Callable[[str, bytes], None]
# Called on this node with a message for some of its members.
Hear = Callable[[Sequence[str], Said], None]


class Broker(Protocol):
    async def start(self, deliver: Deliver, hear: Hear) -> None:
        """Begin handing frames addressed to members to `deliver`, messages to `hear`."""

    async def close(self) -> None: ...

    async def ready(self) -> bool:
        """Can this node reach what it shares with others right now?"""

    # -- waiting pool -----------------------------------------------------
    async def add_ticket(self, ticket: Ticket) -> None: ...

    async def remove_ticket(self, ticket_id: str) -> Ticket | None:
        """Take a ticket out of the pool; None if it was already gone."""

    async def tickets(self) -> list[Ticket]: ...

    async def lead(self, node: str, ttl: float) -> bool:
        """Hold (or renew) the one matcher lock; False while another node holds it."""

    # -- fan-out ------------------------------------------------------------
    async def subscribe(self, member: str) -> None:
        """This node now delivers the member's frames."""

    async def unsubscribe(self, member: str) -> None: ...

    async def publish(self, members: Sequence[str], frame: bytes) -> None:
        """Deliver one encoded frame to each member, wherever connected."""

    async def orphans(self) -> list[str]:
        """Members whose node stopped answering; each is returned once, then forgotten."""

    # -- rooms --------------------------------------------------------------
    async def create_room(self, room: Room, meta: RoomMeta) -> None: ...

    async def room(self, room_id: str) -> Room | None: ...

    async def meta(self, room_id: str) -> RoomMeta | None: ...

    async def change_room(self, room_id: str, fn: Callable[[Room], T]) -> T:
        """Apply `fn` to the room and save it atomically; ProtocolError leaves it unchanged."""

    async def change_meta(self, room_id: str, fn: Callable[[RoomMeta], T]) -> T: ...

    async def member_rooms(self, member: str) -> set[str]:
        """Rooms the member has a seat in (present or away)."""

    async def unseat(self, room_id: str, members: Sequence[str]) -> None:
        """These members no longer count the room as theirs."""

    async def end_room(self, room_id: str, keep_history: float, keep_room: float) -> None:
        """A closed room: history kept `keep_history` s for resume, the room `keep_room` s."""

    async def open_rooms(self) -> list[str]: ...

    async def wake_at(self, room_id: str, until: float) -> None:
        """Look at this room again at `until` (wall clock): a grace or a stage may end.

        An earlier time wins over a later one already set."""

    async def due_rooms(self, now: float) -> list[str]:
        """Rooms whose time to look again has come; each returned once."""

    # -- chat messages, and the short history kept for resume --------------------
    async def send(self, room_id: str, member: str, client_id: str, ts: str, text: str,
                   allowed: bool = True) -> Accepted:
        """Number a message (`Room.send`), keep it, then hand it to the other members.

        A known client id gets its first number back and goes nowhere again.
        Raises ProtocolError: unknown_room, not_in_room, room_closed, rate_limited."""

    def send_soon(self, room_id: str, member: str, client_id: str, ts: str, text: str,
                  allowed: bool = True) -> Accepted | asyncio.Future[Accepted]:
        """`send`, begun at once: done already (one node), or a future of it (Redis).

        Messages begun one after another are numbered in that order. Raises
        ProtocolError where the refusal is known at once; a future carries it
        otherwise."""

    async def replay(self, room: str, after: int) -> tuple[list[Said], bool]:
        """Messages with seq > after in order, and False if some were lost."""

    # -- pairs: recently matched (not twice within the window), meet again ------
    async def note_pairs(self, pairs: Sequence[frozenset[str]], ttl: float) -> None: ...

    async def recent_pairs(self) -> frozenset[frozenset[str]]: ...

    async def note_again(self, pair: frozenset[str]) -> None: ...

    async def again_pairs(self) -> frozenset[frozenset[str]]: ...

    async def drop_again(self, pair: frozenset[str]) -> None:
        """The pair met again: the offer is used up."""

    async def forget_member(self, member: str) -> None:
        """Erase the member from pairs and meet-again offers."""

    # -- franking keys, shared so any node can verify any node's tags ---------
    async def franking_keys(self) -> dict[int, tuple[bytes, float]]:
        """Key id -> (key, created); empty until a node adds one."""

    async def add_franking_key(self, key: bytes, now: float, kid: int | None = None) -> None:
        """Add a key under the next id (or under `kid`, to put back a known key)."""

    async def retire_franking_keys(self, before: float) -> None: ...
