"""A room's state: seats, per-room seq numbers, idempotent sends, closing rules.

Theory of operation: each member holds a seat that is PRESENT, AWAY (their
socket dropped; the room waits a grace period for them) or GONE. Seat
changes follow one table; an event that the table does not allow raises
and changes nothing. The room is open while at least two seats are not
GONE; when it drops below two it closes, and stays closed.

Message text never enters this module: the room numbers messages and
remembers which client ids it has numbered, so a resend gets the same seq
and ts back instead of being relayed twice. Pure: time comes in as floats.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import msgspec

from bridgechat.core.protocol import CloseReason, Code, ProtocolError

# How many client message ids per member a room remembers for idempotency.
IDS_REMEMBERED = 100


class SeatState(Enum):
    PRESENT = "present"
    AWAY = "away"
    GONE = "gone"


PRESENT, AWAY, GONE = SeatState.PRESENT, SeatState.AWAY, SeatState.GONE

# (state, event) -> next state. Anything missing is illegal.
TRANSITIONS: dict[tuple[SeatState, str], SeatState] = {
    (PRESENT, "drop"): AWAY,
    (AWAY, "rejoin"): PRESENT,
    (PRESENT, "leave"): GONE,
    (AWAY, "leave"): GONE,
    (AWAY, "expire"): GONE,
}


class IllegalTransition(Exception):
    """An event that the seat table does not allow; nothing changed."""


@dataclass(slots=True)
class Seat:
    member: str
    alias: str
    state: SeatState = PRESENT
    away_until: float | None = None
    sent: OrderedDict[str, tuple[int, str]] = field(default_factory=OrderedDict)


class Accepted(msgspec.Struct, frozen=True):
    """A numbered message; `fresh` is False for a resend of a known id.

    A Struct, not a frozen dataclass: one is made per message, and a frozen
    dataclass sets each field through object.__setattr__ in Python."""

    seq: int
    ts: str
    fresh: bool


@dataclass(frozen=True, slots=True)
class Departure:
    """Who left, who must be told, and whether the room closed with it."""

    member: str
    alias: str
    reason: CloseReason
    notify: tuple[str, ...]
    closed: bool


@dataclass(slots=True)
class RoomMeta:
    """What a room carries beside its state machine: for welcome, reports and records."""

    prompt: str
    prompt_text: str
    # member id -> the reasons shown to that member
    because: dict[str, list[str]]
    # Every dimension crossed, for aggregate records only (never shown per member).
    divides: tuple[str, ...]
    again: dict[str, bool] = field(default_factory=dict)
    record: str | None = None
    # Feedback given before the room closed (no member ids): it joins the
    # anonymous record once the record exists.
    pending: list[tuple[int, bool]] = field(default_factory=list)
    # The guided conversation: which stage shows, the card drawn per stage,
    # each member's language, and when the conversation ends (None: open-ended).
    stage: str = "icebreaker"
    cards: dict[str, int] = field(default_factory=dict)
    langs: dict[str, str] = field(default_factory=dict)
    ends_at: float | None = None
    # Extending by mutual consent (core/extension.py): who asked, and whether it was done.
    extend: list[str] = field(default_factory=list)
    extended: bool = False
    # Exchanging contact details (core/consent.py): who offered, whether all agreed,
    # and whether a member is under 18 (then never).
    contact: list[str] = field(default_factory=list)
    exchanged: bool = False
    minor: bool = False
    # The slug of the event whose lobby opened the room (None: the open queue), so its
    # anonymous record can be counted in that event's figures. Last, with a default:
    # a meta stored before this field existed still decodes.
    event: str | None = None


# Stages of a guided conversation, by the share of its time already passed.
STAGES: tuple[tuple[str, float], ...] = (("icebreaker", 0.0), ("discuss", 0.2), ("reflect", 0.8))


def stage_for(elapsed: float, duration: float) -> str:
    """The stage that should show after `elapsed` seconds of `duration`."""
    current = STAGES[0][0]
    for name, share in STAGES:
        if elapsed >= share * duration:
            current = name
    return current


def next_stage_at(created: float, duration: float, elapsed: float) -> float:
    """When the next stage begins, or the conversation ends."""
    for _, share in STAGES:
        if share * duration > elapsed:
            return created + share * duration
    return created + duration


@dataclass(slots=True)
class Room:
    id: str
    prompt: str
    seats: dict[str, Seat]
    created: float
    seq: int = 0
    closed: CloseReason | None = None
    closed_at: float | None = None

    @classmethod
    def open(cls, room_id: str, prompt: str, members: Iterable[tuple[str, str]],
             now: float) -> Room:
        """A room for (member id, alias) pairs; aliases must differ."""
        seats = {m: Seat(m, a) for m, a in members}
        if len(seats) < 2 or len({s.alias for s in seats.values()}) != len(seats):
            raise ValueError("a room needs two or more members with distinct aliases")
        return cls(room_id, prompt, seats, now)

    # -- queries -------------------------------------------------------------

    @property
    def is_open(self) -> bool:
        return self.closed is None

    def seated(self) -> Iterator[Seat]:
        """Seats that still count: present or away."""
        return (s for s in self.seats.values() if s.state is not GONE)

    def others(self, member: str) -> tuple[str, ...]:
        # One comprehension, not a generator over `seated`: this runs for every message.
        return tuple([s.member for s in self.seats.values()
                      if s.state is not GONE and s.member != member])

    def seat(self, member: str) -> Seat:
        """The member's live seat, or the error the protocol gives."""
        seat = self.seats.get(member)
        if seat is None or seat.state is GONE:
            raise ProtocolError(Code.NOT_IN_ROOM)
        if self.closed is not None:
            raise ProtocolError(Code.ROOM_CLOSED)
        return seat

    def has_member(self, member: str) -> bool:
        """Was this member ever seated here (for reports after close)?"""
        return member in self.seats

    # -- events --------------------------------------------------------------

    def _move(self, seat: Seat, event: str) -> None:
        nxt = TRANSITIONS.get((seat.state, event))
        if nxt is None:
            raise IllegalTransition(f"{event} from {seat.state.value}")
        seat.state = nxt
        seat.away_until = None

    def send(self, member: str, client_id: str, ts: str, allowed: bool = True) -> Accepted:
        """Number a message from a seated member; a known client id gets its old number.

        `allowed` is the sender's rate limit: it refuses a new id, never a resend.
        The rules, in the order they apply; the Redis broker's send script
        (broker/redis_send.py) follows this list step by step, under the same
        numbers, and tests/test_broker_contract.py checks both brokers against it:

        1. unknown_room: no such room (the broker's check, before this method).
        2. not_in_room: the member has no seat here, or has left it.
        3. room_closed: the room is closed (a resend too).
        4. A client id the member already sent here gets its first seq and ts
           back (fresh=False); it is not numbered, kept or delivered again.
        5. rate_limited (ref: the client id): `allowed` is False and the id is new.
        6. Otherwise seq = the room's last seq + 1: gapless, in the order sends
           are begun.
        7. The member's last IDS_REMEMBERED client ids are remembered; an older
           one is forgotten, and sent again it is numbered anew.
        8. The broker keeps the room's last `history` messages for resume
           (replay says complete=False once older ones are dropped) and hands
           the message to the other seated members, never to the sender."""
        seat = self.seat(member)
        known = seat.sent.get(client_id)
        if known is not None:
            return Accepted(known[0], known[1], fresh=False)
        if not allowed:
            raise ProtocolError(Code.RATE_LIMITED, ref=client_id)
        self.seq += 1
        seat.sent[client_id] = (self.seq, ts)
        if len(seat.sent) > IDS_REMEMBERED:
            seat.sent.popitem(last=False)
        return Accepted(self.seq, ts, fresh=True)

    def leave(self, member: str, reason: CloseReason, now: float) -> Departure:
        """The member is gone for good; the room closes if fewer than two remain."""
        seat = self.seat(member)
        self._move(seat, "leave")
        return self._after_departure(seat, reason, now)

    def drop(self, member: str, now: float, grace: float) -> bool:
        """The member's socket dropped; hold their seat until now + grace."""
        seat = self.seats.get(member)
        if seat is None or seat.state is not PRESENT or self.closed is not None:
            return False
        self._move(seat, "drop")
        seat.away_until = now + grace
        return True

    def rejoin(self, member: str) -> bool:
        """The member came back within the grace period."""
        seat = self.seats.get(member)
        if seat is None or seat.state is not AWAY or self.closed is not None:
            return False
        self._move(seat, "rejoin")
        return True

    def expire(self, now: float) -> list[Departure]:
        """Treat members away past their grace period as gone."""
        out: list[Departure] = []
        for seat in list(self.seats.values()):
            if self.closed is not None:
                break
            if seat.state is AWAY and seat.away_until is not None and seat.away_until <= now:
                self._move(seat, "expire")
                out.append(self._after_departure(seat, "timeout", now))
        return out

    def close(self, reason: CloseReason, now: float) -> tuple[str, ...]:
        """Close from outside (a moderator); returns the members to tell."""
        if self.closed is not None:
            return ()
        told = tuple(s.member for s in self.seated())
        self.closed, self.closed_at = reason, now
        self._forget_ids()
        return told

    def _forget_ids(self) -> None:
        """A closed room refuses every send, a resend too (rule 3): the client ids it kept
        for idempotency (up to IDS_REMEMBERED a seat) would only hold memory while the
        room is kept for reports."""
        for s in self.seats.values():
            s.sent.clear()

    # -- snapshots, for a broker that keeps rooms outside this process ---------

    def snapshot(self) -> dict[str, Any]:
        """Plain data that `restore` turns back into an equal room."""
        return {
            "id": self.id, "prompt": self.prompt, "created": self.created, "seq": self.seq,
            "closed": self.closed, "closed_at": self.closed_at,
            "seats": [[s.member, s.alias, s.state.value, s.away_until,
                       [[k, v[0], v[1]] for k, v in s.sent.items()]]
                      for s in self.seats.values()],
        }

    @classmethod
    def restore(cls, data: dict[str, Any]) -> Room:
        seats = {}
        for member, alias, state, away_until, sent in data["seats"]:
            seats[member] = Seat(member, alias, SeatState(state), away_until,
                                 OrderedDict((k, (seq, ts)) for k, seq, ts in sent))
        return cls(data["id"], data["prompt"], seats, data["created"], data["seq"],
                   data["closed"], data["closed_at"])

    def _after_departure(self, seat: Seat, reason: CloseReason, now: float) -> Departure:
        remaining = tuple(s.member for s in self.seated())
        closed = len(remaining) < 2
        seat.sent.clear()  # gone: its sends are refused (rule 2), resends too
        if closed:
            self.closed, self.closed_at = reason, now
            self._forget_ids()
        return Departure(seat.member, seat.alias, reason, remaining, closed)
