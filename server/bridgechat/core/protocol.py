"""The v1 wire protocol: decode and validate client frames, encode server frames.

Pure: no I/O. The contract is docs/protocol.md; docs/protocol.md lists
every error code and what this server adds. A frame that fails to decode
becomes a `ProtocolError` carrying a stable code and plain words, never an
exception that could take the connection's other state with it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from math import floor as _floor
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta, Struct, field

# Re-exported: callers speak of protocol.Code and protocol.ProtocolError.
from bridgechat.core.codes import PLAIN_WORDS as PLAIN_WORDS
from bridgechat.core.codes import Code as Code
from bridgechat.core.codes import ProtocolError as ProtocolError

VERSION = 1
MAX_FRAME_BYTES = 16 * 1024
# Larger frames are refused by the transport itself (close 1009).
MAX_MESSAGE_BYTES = 64 * 1024
MAX_TEXT = 2000
# A `resume` replays at most this many messages; `resumed.more` asks for the next page.
RESUME_PAGE = 50

RoomId = Annotated[str, Meta(min_length=1, max_length=64)]
ClientId = Annotated[str, Meta(min_length=1, max_length=64)]
Stance = Literal["agree", "disagree", "unsure"]
Mode = Literal["bridge", "language_buddy", "generations"]


# -- client to server -------------------------------------------------------

class _In(Struct, tag_field="type", forbid_unknown_fields=False):
    pass


class Hello(_In, tag="hello"):
    v: int
    token: str | None = None
    lang: Annotated[str, Meta(max_length=35)] | None = None


class Join(_In, tag="join"):
    prompts: Annotated[list[Annotated[str, Meta(max_length=64)]], Meta(min_length=1, max_length=5)]
    languages: Annotated[list[Annotated[str, Meta(max_length=8)]], Meta(min_length=1, max_length=5)]
    profile: dict[str, str] = {}
    stances: dict[str, Stance] = {}
    mode: Mode = "bridge"
    group: Annotated[int, Meta(ge=2, le=4)] = 2
    # Added: languages being learned (language_buddy); `languages` are spoken fluently.
    learning: Annotated[list[Annotated[str, Meta(max_length=8)]], Meta(max_length=5)] = []
    invite: Annotated[str, Meta(max_length=64)] | None = None
    # Added: the solved `challenge` (core/barrier.py), when the bot barrier is on.
    proof: Annotated[str, Meta(max_length=2000)] | None = None


class LeaveQueue(_In, tag="leave_queue"):
    pass


class Send(_In, tag="send"):
    room: RoomId
    id: ClientId
    text: str


class Typing(_In, tag="typing"):
    room: RoomId


class Resume(_In, tag="resume"):
    room: RoomId
    after: Annotated[int, Meta(ge=0)]


class Leave(_In, tag="leave"):
    room: RoomId


class Report(_In, tag="report"):
    room: RoomId
    reason: Literal["harassment", "hate", "threat", "sexual", "personal_info", "spam", "other"]
    messages: Annotated[list[dict[str, Any]], Meta(max_length=50)] = []
    note: Annotated[str, Meta(max_length=1000)] | None = None


class Block(_In, tag="block"):
    room: RoomId


class Feedback(_In, tag="feedback"):
    room: RoomId
    common_ground: Annotated[int, Meta(ge=1, le=5)]
    again: bool


class Extend(_In, tag="extend"):
    """Added: ask for the set length once more (agree: false withdraws the ask)."""

    room: RoomId
    agree: bool = True


class Contact(_In, tag="contact"):
    """Added: offer or accept an exchange of contact details (agree: false withdraws)."""

    room: RoomId
    agree: bool = True


class Lobby(_In, tag="lobby"):
    """Added: wait in an event's lobby with the sign-up its token opens (docs/events.md)."""

    event: Annotated[str, Meta(min_length=1, max_length=64)]
    signup: Annotated[str, Meta(min_length=1, max_length=256)]


ClientFrame = (Hello | Join | LeaveQueue | Send | Typing | Resume | Leave | Report | Block
               | Feedback | Extend | Contact | Lobby)
CLIENT_TYPES = frozenset(
    t.__struct_config__.tag for t in ClientFrame.__args__
)
# The decoder of every client frame.
DECODER: msgspec.json.Decoder[ClientFrame] = msgspec.json.Decoder(ClientFrame)


def check_size(data: str | bytes) -> None:
    """Refuse a frame over MAX_FRAME_BYTES of UTF-8 (callers skip this for short strings:
    a code point is at most 4 bytes)."""
    if len(data.encode() if isinstance(data, str) else data) > MAX_FRAME_BYTES:
        raise ProtocolError(Code.TOO_LARGE)


def decode(data: str | bytes) -> ClientFrame:
    """Decode one client frame or raise ProtocolError with the stable code."""
    if len(data) > MAX_FRAME_BYTES // 4:
        check_size(data)
    try:
        return DECODER.decode(data)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise classify(data, exc) from None
    except RecursionError:
        # Nesting is bounded by the frame's size (16 KiB: at most 8,192 levels), and
        # the decoder gives up where Python's recursion limit (about 1,000) stops it.
        raise ProtocolError(Code.BAD_JSON, TOO_DEEP) from None


TOO_DEEP = "This message is nested too deeply to read."


def classify(data: str | bytes, exc: Exception) -> ProtocolError:
    """Work out why a frame failed; only bad frames pay for this second parse."""
    try:
        obj = msgspec.json.decode(data)
    except msgspec.DecodeError:
        return ProtocolError(Code.BAD_JSON)
    except RecursionError:
        return ProtocolError(Code.BAD_JSON, TOO_DEEP)
    if not isinstance(obj, dict):
        return ProtocolError(Code.BAD_FRAME, "A message must be a JSON object with a type.")
    ref = obj.get("id") if isinstance(obj.get("id"), str) else None
    kind = obj.get("type")
    if not isinstance(kind, str):
        return ProtocolError(Code.BAD_FRAME, "A message needs a string field `type`.", ref)
    if kind not in CLIENT_TYPES:
        return ProtocolError(Code.UNKNOWN_TYPE, f"There is no message type {kind[:40]!r}.", ref)
    detail = str(exc).replace("$.", "")
    return ProtocolError(Code.BAD_FRAME, f"The {kind} message is not valid: {detail}.", ref)


_ISO_MS = [f".{ms:03d}Z" for ms in range(1000)]
_iso_sec = None  # the last whole second formatted, and its text
_iso_text = ""


def iso(t: float) -> str:
    """ISO 8601 in UTC with milliseconds, as every `ts` on the wire.

    The same text as datetime.fromtimestamp(t, UTC).isoformat(timespec=
    "milliseconds") with Z for +00:00: rounded to the microsecond, then cut
    to the millisecond. Every message has one, usually on a CPU whose caches
    went cold while it waited; there integer arithmetic and a table lookup
    cost a third of datetime's rounding and formatting.
    The date and time of day change once a second."""
    global _iso_sec, _iso_text
    us = _floor(t * 1e6 + 0.5)
    sec = us // 1_000_000
    if sec != _iso_sec:
        _iso_sec, _iso_text = sec, datetime.fromtimestamp(sec, UTC).isoformat()[:19]
    return _iso_text + _ISO_MS[(us - sec * 1_000_000) // 1000]


# -- server to client -------------------------------------------------------

class ServerFrame(Struct, tag_field="type"):
    pass


class PromptInfo(Struct):
    id: str
    text: str
    lang: str = "en"


class DimensionInfo(Struct):
    id: str
    label: str
    buckets: list[str]
    sensitive: bool = False


class Alias(Struct):
    alias: str


class MatchedPrompt(Struct):
    id: str
    text: str


class Matched(ServerFrame, tag="matched"):
    room: str
    prompt: MatchedPrompt
    members: list[Alias]
    you: str
    because: list[str]
    ends_at: str | None = None


class Welcome(ServerFrame, tag="welcome"):
    member: str
    token: str | None
    prompts: list[PromptInfo]
    dimensions: list[DimensionInfo]
    rooms: list[Matched] = []


class Hint(Struct, omit_defaults=True):
    """Added: why nobody can be matched with you yet, and what might help."""

    code: str  # no_prompt | no_language | no_mode | quiet
    message: str
    prompt: str | None = None
    language: str | None = None


class Queued(ServerFrame, tag="queued", omit_defaults=True):
    """Sent on join, and again when the count changes or a hint appears."""

    ticket: str
    waiting: int
    eta_s: float | None
    hint: Hint | None = None


class LobbyState(ServerFrame, tag="lobby"):
    """Added: the lobby of an event: when it starts and how many wait there (never who)."""

    event: str
    starts: str
    present: int


class LeftQueue(ServerFrame, tag="left_queue"):
    ticket: str


class Message(ServerFrame, tag="message"):
    room: str
    seq: int
    from_: str = field(name="from")
    text: str = ""
    ts: str = ""
    tag: str = ""


class Ack(ServerFrame, tag="ack"):
    id: str
    seq: int
    ts: str


class Left(ServerFrame, tag="left"):
    room: str
    from_: str = field(name="from")


class TypingOut(ServerFrame, tag="typing"):
    room: str
    from_: str = field(name="from")


class Stage(ServerFrame, tag="stage"):
    room: str
    stage: Literal["icebreaker", "discuss", "reflect"]
    card: str


class Resumed(ServerFrame, tag="resumed"):
    room: str
    seq: int
    complete: bool
    more: bool = False  # the page is full: `resume` again after the last seq received


class Away(ServerFrame, tag="away"):
    room: str
    from_: str = field(name="from")


class Back(ServerFrame, tag="back"):
    room: str
    from_: str = field(name="from")


CloseReason = Literal["left", "blocked", "timeout", "moderator", "suspended"]


class Closed(ServerFrame, tag="closed"):
    room: str
    reason: CloseReason


class Reported(ServerFrame, tag="reported"):
    report: str
    verified: int


class Thanks(ServerFrame, tag="thanks"):
    pass


class Notice(ServerFrame, tag="notice", omit_defaults=True):
    """Added: a plain message from the moderators, e.g. a warning after a report; level
    "moderator" is a moderator's own words to one room, which `room` names."""

    level: Literal["info", "warning", "moderator"]
    message: str
    room: str | None = None


class Error(ServerFrame, tag="error", omit_defaults=True):
    code: str
    message: str
    ref: str | None = None


# Encode a server frame as UTF-8 JSON bytes (the encoder's own method, not a
# wrapper: two calls per chat message).
encode: Callable[[ServerFrame], bytes] = msgspec.json.Encoder().encode


def error_frame(err: ProtocolError) -> bytes:
    return encode(Error(err.code.value, err.message, err.ref))


def parse_message(obj: dict[str, Any]) -> Message:
    """Read back a `message` frame a member submits as report evidence."""
    try:
        return msgspec.convert(obj, Message)
    except msgspec.ValidationError as exc:
        raise ProtocolError(Code.BAD_FRAME, f"A reported message is not valid: {exc}.") from None
