"""Extending a conversation by mutual consent: the rule and its two server frames.

A room with a set length (`RoomMeta.ends_at`) may run for that length once
more, once, when every member still seated asked for it. Pure: the room,
its meta and the time come in; the meta is changed in place, and what the
node must tell whom comes out. The client frame (`extend`) is decoded with the
others in core/protocol.py, and `not_extendable` is one of the stable error
codes; docs/protocol.md describes the frames.

The rules, in the order they apply:

1. not_in_room / room_closed: as for any frame about a room (`Room.seat`).
2. not_extendable: the room has no set length, was extended already, or its
   time is up.
3. The asks follow core/consent.py's `ask`, the rule of mutual consent:
   `agree: true` adds the member to those who asked (news, `changed`, if they
   had not asked yet); `agree: false` clears every ask (news if anyone had
   asked). Only news goes to the others.
4. When every seated member (present or away) has asked, the end moves by the
   set length (the first `ends_at` minus the room's start), and the room is
   never extended again.
"""

from __future__ import annotations

from dataclasses import dataclass

from msgspec import field

from bridgechat.core.consent import ask
from bridgechat.core.protocol import Code, ProtocolError, ServerFrame
from bridgechat.core.room import Room, RoomMeta


class ExtendOut(ServerFrame, tag="extend"):
    """A member asked for more time (agree) or took the ask back (not agree)."""

    room: str
    agree: bool
    from_: str = field(name="from")


class Extended(ServerFrame, tag="extended"):
    """Everyone agreed: the conversation now ends at `ends_at` (ISO 8601)."""

    room: str
    ends_at: str


@dataclass(frozen=True, slots=True)
class Vote:
    """What one `extend` did: news for the others, and the new end once all agreed."""

    changed: bool
    ends_at: float | None = None


def vote(room: Room, meta: RoomMeta, member: str, agree: bool, now: float) -> Vote:
    """Apply one member's `extend` (the module's docstring lists the rules)."""
    room.seat(member)
    if meta.ends_at is None or meta.extended or now >= meta.ends_at:
        raise ProtocolError(Code.NOT_EXTENDABLE)
    news, done = ask(meta.extend, (s.member for s in room.seated()), member, agree)
    if done:
        meta.ends_at += meta.ends_at - room.created
        meta.extended = True
        return Vote(True, meta.ends_at)
    return Vote(news)
