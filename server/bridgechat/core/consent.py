"""Agreeing together, and the exchange of contact details that needs it.

`ask` is the one rule of mutual consent, shared by extending a conversation
(core/extension.py) and by exchanging contact details (here): a member's yes
is added to the asks; a no clears every ask (one takes theirs back, or
answers no to the others'; anyone may ask again later); when every seated
member has said yes, the asks are cleared and it is done.

Exchanging contact details. Until it is done, a chat message that holds one
(core/contact.py finds them) is not relayed and not kept: the sender gets
`error contact_held` and may offer an exchange (`contact {room}`); the
others see the offer (`contact {room, from, agree}`) and may accept with the
same frame. Once all agreed, everyone seated gets `contact_open {room}`
and such messages pass, for the rest of that conversation only. In a room
with a member under 18 (`RoomMeta.minor`) there is no exchange:
`contact_not_allowed`. Pure: the room and its meta come in, the meta is
changed in place, and what the node must tell whom comes out.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from msgspec import field

from bridgechat.core.protocol import Code, ProtocolError, ServerFrame
from bridgechat.core.room import Room, RoomMeta


def ask(asks: list[str], seated: Iterable[str], member: str, agree: bool) -> tuple[bool, bool]:
    """One member's yes or no, applied to `asks` in place: (news for the others, all agreed)."""
    if not agree:
        news = bool(asks)
        asks.clear()
        return news, False
    news = member not in asks
    if news:
        asks.append(member)
    if all(m in asks for m in seated):
        asks.clear()
        return True, True
    return news, False


class ContactOut(ServerFrame, tag="contact"):
    """A member offered (or accepted) an exchange of contact details, or withdrew it."""

    room: str
    agree: bool
    from_: str = field(name="from")


class ContactOpen(ServerFrame, tag="contact_open"):
    """Everyone agreed: contact details now pass in this conversation."""

    room: str


@dataclass(frozen=True, slots=True)
class Exchange:
    """What one `contact` did: news for the others, and whether the exchange is open."""

    changed: bool
    open: bool


def exchange(room: Room, meta: RoomMeta, member: str, agree: bool) -> Exchange:
    """Apply one member's `contact` frame (the module's docstring has the rules)."""
    room.seat(member)
    if meta.minor:
        raise ProtocolError(Code.CONTACT_NOT_ALLOWED)
    if meta.exchanged:
        return Exchange(False, True)
    news, done = ask(meta.contact, (s.member for s in room.seated()), member, agree)
    meta.exchanged = done
    return Exchange(news, done)


def may_pass(meta: RoomMeta, hold_by_default: bool) -> bool:
    """May a message holding contact details be relayed in this room?"""
    if meta.exchanged:
        return True
    return not hold_by_default and not meta.minor
