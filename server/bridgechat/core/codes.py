"""Stable error codes, their plain words, and the exception that carries them.

Kept apart from the frames (protocol.py re-exports all three): the list grows
with every rule, the frames seldom. docs/protocol.md explains each code.
"""

from __future__ import annotations

from enum import StrEnum


class Code(StrEnum):
    """Stable error codes; docs/protocol.md explains each."""

    HELLO_REQUIRED = "hello_required"
    HELLO_TIMEOUT = "hello_timeout"
    ALREADY_WELCOMED = "already_welcomed"
    UNSUPPORTED_VERSION = "unsupported_version"
    UNKNOWN_TOKEN = "unknown_token"
    SUSPENDED = "suspended"
    BAD_JSON = "bad_json"
    BAD_FRAME = "bad_frame"
    UNKNOWN_TYPE = "unknown_type"
    TOO_LARGE = "too_large"
    TOO_MANY_ERRORS = "too_many_errors"
    BAD_PROFILE = "bad_profile"
    UNKNOWN_PROMPT = "unknown_prompt"
    BAD_LANGUAGE = "bad_language"
    ALREADY_QUEUED = "already_queued"
    NOT_QUEUED = "not_queued"
    INVITE_REQUIRED = "invite_required"
    PROOF_REQUIRED = "proof_required"
    PROOF_INVALID = "proof_invalid"
    UNKNOWN_ROOM = "unknown_room"
    NOT_IN_ROOM = "not_in_room"
    ROOM_CLOSED = "room_closed"
    TEXT_EMPTY = "text_empty"
    TEXT_TOO_LONG = "text_too_long"
    RATE_LIMITED = "rate_limited"
    INTERNAL_ERROR = "internal_error"
    NOT_EXTENDABLE = "not_extendable"
    CONTACT_HELD = "contact_held"
    CONTACT_NOT_ALLOWED = "contact_not_allowed"
    UNKNOWN_EVENT = "unknown_event"
    EVENT_CANCELLED = "event_cancelled"
    NOT_SIGNED_UP = "not_signed_up"
    LOBBY_NOT_OPEN = "lobby_not_open"
    EVENT_OVER = "event_over"


PLAIN_WORDS: dict[Code, str] = {
    Code.HELLO_REQUIRED: "Say hello first: the first message must be of type hello.",
    Code.HELLO_TIMEOUT: "No hello came in time, so this connection is closed.",
    Code.ALREADY_WELCOMED: "You have already said hello on this connection.",
    Code.UNSUPPORTED_VERSION: "This server speaks protocol version 1.",
    Code.UNKNOWN_TOKEN: "We do not know that sign-in token. Start afresh with token null.",
    Code.SUSPENDED: "Your account is suspended by a moderator.",
    Code.BAD_JSON: "That message was not valid JSON.",
    Code.BAD_FRAME: "That message is not shaped as the protocol expects.",
    Code.UNKNOWN_TYPE: "That message type does not exist.",
    Code.TOO_LARGE: "That message is too large (the limit is 16 KiB).",
    Code.TOO_MANY_ERRORS: "Too many messages could not be understood; closing the connection.",
    Code.BAD_PROFILE: "A profile answer does not match the questions offered.",
    Code.UNKNOWN_PROMPT: "One of the chosen prompts is not available.",
    Code.BAD_LANGUAGE: "Languages must be two-letter codes such as en or de.",
    Code.ALREADY_QUEUED: "You are already waiting for a partner.",
    Code.NOT_QUEUED: "You are not waiting for a partner.",
    Code.INVITE_REQUIRED: "This programme needs an invite code to join.",
    Code.PROOF_REQUIRED: "Checking your connection first: solve the challenge that follows, "
                         "then join again with its proof.",
    Code.PROOF_INVALID: "That proof was not accepted (expired, already used or wrong); "
                        "solve the new challenge that follows.",
    Code.UNKNOWN_ROOM: "That conversation does not exist.",
    Code.NOT_IN_ROOM: "You are not in that conversation.",
    Code.ROOM_CLOSED: "That conversation has ended.",
    Code.TEXT_EMPTY: "The message is empty.",
    Code.TEXT_TOO_LONG: "The message is too long (the limit is 2,000 characters).",
    Code.RATE_LIMITED: "You are sending too fast. Wait a moment and try again.",
    Code.INTERNAL_ERROR: "Something went wrong on our side. Your conversation is safe; try again.",
    Code.NOT_EXTENDABLE: "This conversation cannot be made longer (no set length, or done once).",
    Code.CONTACT_HELD: ("This message was not sent: it holds contact details (a phone number, "
                        "an e-mail, a link or a handle). They are shared only when you both "
                        "agree to exchange contact details."),
    Code.CONTACT_NOT_ALLOWED: "Contact details cannot be exchanged in this conversation.",
    Code.UNKNOWN_EVENT: "There is no such event. Check the link you were given.",
    Code.EVENT_CANCELLED: "This event was cancelled.",
    Code.NOT_SIGNED_UP: ("There is no sign-up for this event with that token: it was "
                         "withdrawn, or it was made in another browser."),
    Code.LOBBY_NOT_OPEN: ("The lobby is not open yet: it opens a few minutes before the "
                          "start. Come back then."),
    Code.EVENT_OVER: "This event is over. Thank you for coming.",
}


class ProtocolError(Exception):
    """A client frame or action was refused; becomes an `error` frame."""

    def __init__(self, code: Code, message: str | None = None, ref: str | None = None) -> None:
        super().__init__(code.value)
        self.code = code
        self.message = message or PLAIN_WORDS[code]
        self.ref = ref
