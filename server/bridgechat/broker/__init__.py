"""The broker: what nodes share while members are online.

Six small interfaces, one per kind of caller, bundled in a `Broker`; two
implementations: `memory.MemoryBroker` for the embedded single node,
`redis.RedisBroker` for many nodes. Everything here lives in RAM only
(waiting tickets with their profile answers, room state, message text for
resume, franking keys) and is gone when the room closes or the ticket leaves.
Delivery is at most once; a member who missed frames asks for `resume`.

Room state is changed through `rooms.change_room(room, fn)`: the broker loads
the room, applies the pure `fn` from core/room.py, and saves it atomically,
so both brokers run the very same room rules. The one exception is the
hottest path, a chat message: `rooms.send_soon` numbers it, keeps it for
resume and hands it to the other members in one step (for Redis, one script
and one round trip), under the rule of `Room.send` (the script's copy of
that rule is written beside `Room.send`, and tests/test_broker_contract.py
runs both).

What travels to a node is one of three kinds, each with its own callback on
`Inbox`: a frame for a member, a numbered chat message (a `Said`, signed by
the node that delivers it), or an order to cut a member off.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
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


class Inbox(Protocol):
    """What a node is handed by its broker, for members connected to it."""

    def deliver(self, member: str, frame: bytes) -> None:
        """An encoded frame for the member."""

    def hear(self, members: Sequence[str], said: Said) -> None:
        """A chat message for these members."""

    def cut(self, member: str, frame: bytes) -> None:
        """Send the member this frame (an error), then close their connection."""

    def missed(self) -> None:
        """Messages for this node's members may have been lost on the way (Redis's
        subscription was down): have every member here catch up."""


class WaitingPool(Protocol):
    async def add_ticket(self, ticket: Ticket) -> bool:
        """Put the ticket in the pool; False, and nothing added, while its member holds
        another: one ticket per member across nodes, checked without reading the pool."""

    async def remove_ticket(self, ticket_id: str) -> Ticket | None:
        """Take a ticket out of the pool; None if it was already gone."""

    async def take_tickets(self, ticket_ids: Sequence[str]) -> list[Ticket] | None:
        """Take all these tickets out of the pool in one step, or none of them (None)
        if any was already gone: two nodes opening rooms at once (the matcher, a
        moderator matching by hand) never share a ticket, and a ticket withdrawn
        meanwhile never strands the others outside the pool."""

    async def tickets(self) -> list[Ticket]: ...

    async def lead(self, node: str, ttl: float) -> bool:
        """Hold (or renew) the one matcher lock; False while another node holds it."""


class FanOut(Protocol):
    async def subscribe(self, member: str) -> None:
        """This node now delivers the member's frames."""

    async def unsubscribe(self, member: str) -> None: ...

    async def publish(self, members: Sequence[str], frame: bytes) -> None:
        """Deliver one encoded frame to each member, wherever connected."""

    async def cut(self, member: str, frame: bytes) -> None:
        """On whichever node holds the member: send `frame`, then close the socket."""

    async def orphans(self) -> list[str]:
        """Members whose node stopped answering; each is returned once, then forgotten."""


class Rooms(Protocol):
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

    def send_soon(self, room_id: str, member: str, client_id: str, ts: str, text: str,
                  allowed: bool = True) -> Accepted | asyncio.Future[Accepted]:
        """Number a message (`Room.send`), keep it, then hand it to the other members.

        Done at once (one node), or a future of it (Redis). A known client id
        gets its first number back and goes nowhere again. Messages begun one
        after another are numbered in that order. Raises ProtocolError
        (unknown_room, not_in_room, room_closed, rate_limited) where the
        refusal is known at once; a future carries it otherwise."""

    async def replay(self, room: str, after: int, limit: int) -> tuple[list[Said], bool]:
        """Up to `limit` messages with seq > after, in order, and False if some were lost."""


class Pairs(Protocol):
    """Pairs recently matched (not twice within the window), and meet-again offers."""

    async def note_pairs(self, pairs: Sequence[frozenset[str]], ttl: float) -> None: ...

    async def recent_pairs(self) -> frozenset[frozenset[str]]: ...

    async def note_again(self, pair: frozenset[str]) -> None: ...

    async def again_pairs(self) -> frozenset[frozenset[str]]: ...

    async def drop_again(self, pair: frozenset[str]) -> None:
        """The pair met again: the offer is used up."""

    async def forget_member(self, member: str) -> None:
        """Erase the member from pairs and meet-again offers."""


class KeyRing(Protocol):
    """Franking keys, shared so any node can verify any node's tags; and the bot
    barrier's spent proofs, so a proof is good once across all nodes."""

    async def franking_keys(self) -> dict[int, tuple[bytes, float]]:
        """Key id -> (key, created); empty until a node adds one."""

    async def add_franking_key(self, key: bytes, now: float, kid: int | None = None) -> None:
        """Add a key under the next id (or under `kid`, to put back a known key)."""

    async def retire_franking_keys(self, before: float) -> None: ...

    async def spend(self, token: str, until: float) -> bool:
        """True the first time this token is spent; remembered until `until` (wall clock)."""


# Minutes and days of the counters, and how long each is kept past its end: the
# charts show the last hour; a day outlives its midnight for whoever reads it late.
MINUTE = 60
DAY = 86400
MINUTE_KEPT = 3600.0
DAY_KEPT = 86400.0


def count_expiry(period: int, index: int) -> float:
    """When the count of minute (period MINUTE) or day (DAY) number `index` is forgotten."""
    return (index + 1) * period + (MINUTE_KEPT if period == MINUTE else DAY_KEPT)


class Counters(Protocol):
    """Figures summed over every node, per minute and per day (UTC), for the
    moderators' charts: counts of events, never who or which room."""

    async def add(self, counts: Mapping[str, int], at: float) -> None:
        """Add each count to its name, in the minute and in the day of `at` (wall clock)."""

    async def minutes(self, name: str, first: int, count: int) -> list[int]:
        """The name's counts in `count` minutes from minute `first` (minutes since the
        epoch), oldest first; 0 where nothing was counted or it has expired."""

    async def day(self, names: Sequence[str], at: float) -> list[int]:
        """Each name's count on the day (UTC) of `at`, in the order given."""


async def send(rooms: Rooms, room_id: str, member: str, client_id: str, ts: str, text: str,
               allowed: bool = True) -> Accepted:
    """`rooms.send_soon`, awaited."""
    got = rooms.send_soon(room_id, member, client_id, ts, text, allowed)
    return got if isinstance(got, Accepted) else await got


class Broker(Protocol):
    """The parts, and the connection they share."""

    pool: WaitingPool
    fanout: FanOut
    rooms: Rooms
    pairs: Pairs
    keys: KeyRing
    counters: Counters
    # Called when the shared state was lost (a Redis restart): the node puts back
    # what it holds (its members' tickets, the franking keys).
    on_reset: Callable[[], Awaitable[None]] | None

    async def start(self, inbox: Inbox) -> None:
        """Begin handing what arrives for this node's members to `inbox`."""

    async def close(self) -> None: ...

    async def ready(self) -> bool:
        """Can this node reach, right now, the connections that chat messages take?"""
