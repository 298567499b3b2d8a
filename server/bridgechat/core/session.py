"""One member connection's rules, with no I/O: a sans-I/O session.

Like websockets' `Protocol` and h11's `Connection`: the aiohttp handler
feeds each frame it reads to `Session.receive` with the time, and carries
out the answer. The answer is the decoded frame, for the node to carry out,
or a `Reply` the session made itself (an error, perhaps with a close), or
None (a frame from a connection that no longer counts). Whatever the member
sent, a bad frame changes nothing but the bad-frame count.

The rules that live here, and only here:
- hello first, and only once, in protocol version 1;
- at most `bad_limit` bad frames a minute, then an error and close 1008;
- a chat message's text (trimmed, not empty, not too long), the send rate
  (a token bucket, with a smaller burst on a member's first day; a resend of
  a known message is free) and the typing throttle;
- the safety checks on every chat message (docs/safety.md): whether it holds
  contact details (`held`, the kind found) in a room where they were not
  exchanged, and whether it holds a phrase of the deck's watch list
  (`flagged`). The node decides what follows; the text is not kept here;
- answers in the order of the frames: a frame that is not a chat message
  waits until every message begun before it has its answer (`must_wait`);
- a replaced or cut-off connection does nothing more;
- the heartbeat: after `every` seconds without a frame the member is
  pinged, and no answer within half of that ends the connection. Any frame,
  a ping or a pong counts (`heard`). One sweep over all sessions does this
  for a whole node (`Node.sweep`), instead of a timer per connection.

Time comes in as an argument (monotonic seconds), so tests drive it with a
hand-made clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Literal

from bridgechat.core import protocol
from bridgechat.core.checks import SafetyChecks
from bridgechat.core.limits import WindowCounter
from bridgechat.core.protocol import Code, ProtocolError
from bridgechat.core.text import clean

POLICY_VIOLATION = 1008  # RFC 6455 7.4.1
REPLACED = (4001, "replaced by a newer connection")
CUT_OFF = (4003, "closed by the server")
# RFC 6455 7.4.1, "service restart": the client reconnects and resumes what it missed.
CATCH_UP = (1012, "reconnect to catch up")
TYPING_EVERY = 1.0  # seconds between `typing` frames passed on to the others
# A page of history (protocol.RESUME_PAGE messages) costs as much of the send budget
# as this many messages: replaying is cheap to ask for and dear to answer. Two:
# the whole history (500 messages, 10 pages) fits in a first day's burst of 20.
RESUME_COST = 2.0


class Phase(Enum):
    GREETING = "greeting"  # until a hello is accepted
    OPEN = "open"
    DONE = "done"  # replaced, cut off or closed for bad frames: frames are ignored


@dataclass(frozen=True, slots=True)
class Reply:
    """What the session answers by itself: an encoded frame, then perhaps a close."""

    frame: bytes
    close: tuple[int, str] | None = None


@dataclass(frozen=True, slots=True)
class Limits:
    send_rate: float = 5.0
    send_burst: float = 30.0
    # A member's first day: a script that signs up and sprays gets fewer at once.
    first_day_burst: float = 20.0
    bad_per_minute: int = 30
    # A connection must say hello this soon: one that only answers pings would
    # otherwise hold a socket forever.
    hello_within: float = 10.0


class Session:
    """The state and rules of one member's connection."""

    __slots__ = (
        "allowed",
        "bad",
        "burst",
        "checks",
        "exchanged",
        "filled",
        "first_day_burst",
        "flagged",
        "greet_by",
        "heard_at",
        "held",
        "inflight",
        "lang",
        "member",
        "phase",
        "pinged_at",
        "rate",
        "tokens",
        "typed_at",
    )

    def __init__(self, limits: Limits = Limits(), now: float = 0.0,
                 checks: SafetyChecks | None = None) -> None:
        self.phase = Phase.GREETING
        self.greet_by = now + limits.hello_within
        self.heard_at = now  # the last frame, ping or pong from the member
        self.pinged_at: float | None = None  # our ping not yet answered
        self.member: str | None = None
        self.lang = "en"
        self.rate, self.burst = limits.send_rate, limits.send_burst
        self.tokens, self.filled = limits.send_burst, float("-inf")
        self.first_day_burst = limits.first_day_burst
        self.bad = WindowCounter(limits.bad_per_minute, 60.0)
        self.typed_at = float("-inf")
        # Chat messages begun and not yet answered (a Redis round trip).
        self.inflight = 0
        # Whether the `send` just received is within the rate limit. The broker
        # refuses it if not, unless it resends a message it already numbered.
        self.allowed = True
        # The safety checks, and what they found in the `send` just received: the kind
        # of contact detail (None: none, or exchanged in that room), a watched phrase.
        self.checks = checks
        self.exchanged: set[str] = set()
        self.held: str | None = None
        self.flagged = False

    def receive(self, data: str | bytes, now: float) -> protocol.ClientFrame | Reply | None:
        """Take one WebSocket message (text: str, binary: bytes) read at `now`."""
        if self.phase is Phase.DONE:
            return None
        self.heard_at, self.pinged_at = now, None
        if type(data) is bytes:
            return self.bad_frame(ProtocolError(
                Code.BAD_FRAME, "Send JSON text frames, not binary."), now)
        try:
            frame = protocol.decode(data)
        except ProtocolError as err:
            return self.bad_frame(err, now)
        if self.phase is Phase.OPEN:
            if type(frame) is protocol.Send:
                # The text's rules, and the send rate, here in line: this runs
                # for every chat message (ARCHITECTURE.md counts the calls).
                text = clean(frame.text)
                if not text or len(text) > protocol.MAX_TEXT:
                    return self.refuse(ProtocolError(
                        Code.TEXT_TOO_LONG if text else Code.TEXT_EMPTY), frame)
                frame.text = text
                if self.checks is not None:
                    self.held, self.flagged = self.checks.inspect(
                        text, frame.room not in self.exchanged)
                # Charged now, so that messages still under way count; the broker
                # refuses it if over, unless it resends a message it already numbered.
                self.allowed = self.charge(now, 1.0)
                return frame
            if type(frame) is protocol.Resume and not self.charge(now, RESUME_COST):
                return self.refuse(ProtocolError(Code.RATE_LIMITED), frame)
            if type(frame) is protocol.Hello:
                return self.refuse(ProtocolError(Code.ALREADY_WELCOMED))
            return frame
        if type(frame) is not protocol.Hello:
            return self.bad_frame(ProtocolError(Code.HELLO_REQUIRED,
                                                ref=getattr(frame, "id", None)), now)
        if frame.v != protocol.VERSION:
            return self.refuse(ProtocolError(Code.UNSUPPORTED_VERSION))
        if frame.lang:
            # BCP 47 to its primary language: "pt-BR" -> "pt".
            self.lang = frame.lang.split("-")[0].lower()[:8]
        return frame

    def heard(self, now: float) -> None:
        """A ping or a pong from the member: they are there."""
        self.heard_at, self.pinged_at = now, None

    def liveness(self, now: float, every: float) -> Literal["ping", "hang up"] | Reply | None:
        """What the heartbeat asks for now: a ping, giving up on a silent member, closing
        a connection that never said hello (a Reply), or nothing."""
        if self.phase is Phase.DONE:
            return None
        if self.phase is Phase.GREETING and now >= self.greet_by:
            self.phase = Phase.DONE
            return Reply(protocol.error_frame(ProtocolError(Code.HELLO_TIMEOUT)),
                         (POLICY_VIOLATION, "no hello in time"))
        if self.pinged_at is not None:
            return "hang up" if now - self.pinged_at >= every / 2 else None
        if now - self.heard_at >= every:
            self.pinged_at = now
            return "ping"
        return None

    def charge(self, now: float, cost: float) -> bool:
        """Take `cost` from the send budget, if it holds that much: a token bucket,
        `burst` at once, then `rate` a second (a `send` costs 1, a `resume` page more)."""
        tokens = min(self.burst, self.tokens + (now - self.filled) * self.rate)
        self.filled = now
        if tokens < cost:
            self.tokens = tokens
            return False
        self.tokens = tokens - cost
        return True

    def welcome(self, member: str, first_day: bool = False) -> None:
        """The node accepted the hello: this connection now speaks for `member`, who
        joined today if `first_day` (then the burst is smaller)."""
        self.member = member
        self.phase = Phase.OPEN
        if first_day:
            self.burst = min(self.burst, self.first_day_burst)
            self.tokens = min(self.tokens, self.burst)

    def must_wait(self, frame: protocol.ClientFrame) -> bool:
        """Must this frame wait for the chat messages begun before it?"""
        return self.inflight > 0 and type(frame) is not protocol.Send

    def sent(self, allowed: bool, fresh: bool) -> None:
        """A chat message was numbered; a resend after a reconnect costs nothing."""
        if allowed and not fresh:
            self.tokens = min(self.burst, self.tokens + 1)

    def send_failed(self, allowed: bool) -> None:
        """A chat message was refused (no such room, ...): its token comes back."""
        if allowed:
            self.tokens = min(self.burst, self.tokens + 1)

    def may_type(self, now: float) -> bool:
        """At most one `typing` a second goes to the others."""
        if now - self.typed_at < TYPING_EVERY:
            return False
        self.typed_at = now
        return True

    def refuse(self, err: ProtocolError, frame: protocol.ClientFrame | None = None) -> Reply:
        """The error frame for a frame that was understood but refused."""
        if err.ref is None and frame is not None:
            err.ref = getattr(frame, "id", None)
        return Reply(protocol.error_frame(err))

    def bad_frame(self, err: ProtocolError, now: float) -> Reply:
        """Answer a bad frame; past the limit, say why and close with 1008."""
        if self.bad.hit(now) > self.bad.limit:
            self.phase = Phase.DONE
            return Reply(protocol.error_frame(ProtocolError(Code.TOO_MANY_ERRORS)),
                         (POLICY_VIOLATION, "too many bad frames"))
        return Reply(protocol.error_frame(err))

    def end(self, why: tuple[int, str]) -> tuple[int, str]:
        """A newer connection replaced this one, or the server cut it off: nothing more."""
        self.phase = Phase.DONE
        return why
