"""A small Bridgechat test client built on the `websockets` library only.

It shares no code with the server: everything here is written from the
wire contract and the server's notes (docs/protocol.md).
Every wait is bounded, so a broken server fails a test fast instead of
hanging it.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import re
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

TIMEOUT = 5.0
"""Default bound on any single wait for a frame."""

QUIET = 0.5
"""How long a member must hear nothing to count as 'got nothing'."""

NONE: frozenset[str] = frozenset()
"""Ignore no frame: the default everywhere. A test that must let a kind of frame
pass (a partner's `typing`, say) names it at the call site."""

# Real ISO 639-1 codes. Each test takes its own, so members of different
# tests never share a language and can't be matched with each other even on
# a server shared by a whole module.
_LANGS = (
    "fi", "sv", "da", "nb", "nl", "de", "fr", "it", "es", "pt", "pl", "cs", "sk", "hu", "ro",
    "bg", "el", "tr", "uk", "ru", "lt", "lv", "et", "sl", "hr", "sr", "bs", "mk", "sq", "hy",
    "ka", "az", "kk", "uz", "ky", "tg", "mn", "fa", "ps", "ur", "hi", "bn", "pa", "gu", "mr",
    "ta", "te", "kn", "ml", "si", "ne", "th", "lo", "km", "my", "vi", "id", "ms", "tl", "jv",
    "su", "zh", "ja", "ko", "ar", "he", "am", "ti", "so", "sw", "yo", "ig", "ha", "zu", "xh",
    "af", "rw", "mg", "eu", "ca", "gl", "cy", "ga", "gd", "br", "is", "fo", "lb", "mt", "eo",
    "la", "oc", "co", "sc", "tt", "ba", "cv", "os", "be", "ln",
)
_lang_counter = itertools.count()
_topic_counter = itertools.count()

DIVIDE_A = {"age_band": "18-29", "origin": "born_here", "area": "rural", "politics": "left"}
DIVIDE_B = {"age_band": "60+", "origin": "newcomer", "area": "urban", "politics": "right"}
"""Two profiles that differ on every default dimension: matched on the next tick."""


def fresh_lang() -> str:
    """A language no earlier call in this test process has handed out."""
    return _LANGS[next(_lang_counter) % len(_LANGS)]


def fresh_topic() -> int:
    """An index into welcome.prompts, rotating so tests spread over the deck."""
    return next(_topic_counter)


def marker() -> str:
    """A unique word of 32 letters: random digits could read as a phone number, which the
    server holds back (docs/safety.md), where the marker must travel through a chat."""
    return uuid.uuid4().hex.translate(DIGITS_AS_LETTERS)


DIGITS_AS_LETTERS = str.maketrans("0123456789", "ghijklmnop")


def dumps(frame: Any) -> str:
    """Compact JSON, UTF-8 (not \\u escapes), as a browser would send it."""
    return json.dumps(frame, ensure_ascii=False, separators=(",", ":"))


ISO_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$")
B64URL_RE = re.compile(r"^[A-Za-z0-9_-]+={0,2}$")


def assert_iso8601(value: Any) -> datetime:
    assert isinstance(value, str) and ISO_RE.match(value), f"not ISO 8601: {value!r}"
    return datetime.fromisoformat(value)


def assert_b64url(value: Any) -> bytes:
    assert isinstance(value, str) and B64URL_RE.match(value), f"not base64url: {value!r}"
    raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    assert len(raw) >= 8, f"tag too short to be a MAC: {value!r}"
    return raw


class Member:
    """One WebSocket connection to /ws, with bounded helpers for each frame."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.welcome: dict[str, Any] = {}
        self.token: str | None = None
        self.seen: list[dict[str, Any]] = []
        self.found: list[dict[str, Any]] = []
        self.stages: dict[str, dict[str, Any]] = {}  # room -> the last stage card taken

    # -- raw I/O ---------------------------------------------------------------
    async def send(self, frame: dict[str, Any]) -> None:
        await self.ws.send(dumps(frame))

    async def send_raw(self, data: str | bytes) -> None:
        await self.ws.send(data)

    async def recv(self, wait: float = TIMEOUT, ignore: frozenset[str] = NONE
                   ) -> dict[str, Any]:
        """The next frame whose type is not in `ignore` (by default: the next frame)."""
        deadline = time.monotonic() + wait
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no frame within {wait} s")
            try:
                raw = await asyncio.wait_for(self.ws.recv(), left)
            except TimeoutError:
                raise AssertionError(f"no frame within {wait} s") from None
            assert isinstance(raw, str), f"server sent a binary frame: {raw!r}"
            frame = json.loads(raw)
            assert isinstance(frame, dict), f"server frame is not an object: {raw}"
            assert isinstance(frame.get("type"), str), f"server frame has no type: {raw}"
            self.seen.append(frame)
            if frame["type"] not in ignore:
                return frame

    async def find(self, type_: str, wait: float = TIMEOUT, **fields: Any) -> dict[str, Any]:
        """The first frame like this, already seen or arriving in time; others pass by.

        For frames that come on their own schedule (timed stage cards, queue
        hints): the only helper that lets other frames go by, as its name says."""
        def like(f: dict[str, Any]) -> bool:
            return f["type"] == type_ and all(f.get(k) == v for k, v in fields.items())

        for f in self.seen:
            if like(f) and not any(f is g for g in self.found):
                self.found.append(f)
                return f
        deadline = time.monotonic() + wait
        while True:
            frame = await self.recv(max(0.0, deadline - time.monotonic()))
            if like(frame):
                self.found.append(frame)
                return frame

    async def expect(self, type_: str, wait: float = TIMEOUT, ignore: frozenset[str] = NONE,
                     **fields: Any) -> dict[str, Any]:
        """The very next frame (not in `ignore`) must be `type_`, with these field values.

        A room's opening `stage` card comes right behind its `matched` (docs/protocol.md):
        expecting `matched` takes that card too, checks it and keeps it in `stages`."""
        frame = await self.recv(wait, ignore)
        assert frame["type"] == type_, f"expected {type_!r}, got {frame}"
        for key, value in fields.items():
            assert frame.get(key) == value, f"{type_}.{key}: expected {value!r}, got {frame}"
        if type_ == "matched":
            await self.take_stage(frame["room"], wait, ignore)
        return frame

    async def take_stage(self, room: str, wait: float = TIMEOUT,
                         ignore: frozenset[str] = NONE) -> dict[str, Any]:
        """The room's current stage card, which must be the next frame."""
        frame = await self.recv(wait, ignore)
        assert frame["type"] == "stage" and frame.get("room") == room, (
            f"expected the stage card of room {room!r}, got {frame}")
        assert isinstance(frame.get("card"), str), frame  # empty for a deck without cards
        self.stages[room] = frame
        return frame

    async def expect_error(self, code: str, wait: float = TIMEOUT,
                           ignore: frozenset[str] = NONE) -> dict[str, Any]:
        frame = await self.expect("error", wait, ignore=ignore)
        assert frame.get("code") == code, f"expected error {code!r}, got {frame}"
        message = frame.get("message")
        assert isinstance(message, str) and message.strip(), f"error without a message: {frame}"
        assert message != code and " " in message.strip(), f"message is not plain words: {frame}"
        return frame

    async def expect_nothing(self, within: float = QUIET, ignore: frozenset[str] = NONE) -> None:
        """No frame of any kind (but those in `ignore`) arrives within `within` seconds."""
        deadline = time.monotonic() + within
        while (left := deadline - time.monotonic()) > 0:
            try:
                raw = await asyncio.wait_for(self.ws.recv(), left)
            except TimeoutError:
                return
            except ConnectionClosed as exc:
                raise AssertionError(f"expected no frame, the server closed: {exc}") from None
            frame = json.loads(raw) if isinstance(raw, str) else {"type": None, "binary": raw}
            if isinstance(frame, dict):
                self.seen.append(frame)
            if not (isinstance(frame, dict) and frame.get("type") in ignore):
                raise AssertionError(f"expected no frame within {within} s, got {frame}")

    async def expect_close(
        self, wait: float = TIMEOUT,
    ) -> tuple[int | None, list[dict[str, Any]]]:
        """Read until the server closes; return its close code and the frames before it."""
        frames: list[dict[str, Any]] = []
        deadline = time.monotonic() + wait
        try:
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"connection still open after {wait} s: {frames}")
                try:
                    raw = await asyncio.wait_for(self.ws.recv(), left)
                except TimeoutError:
                    raise AssertionError(
                        f"connection still open after {wait} s: {frames}") from None
                frames.append(json.loads(raw) if isinstance(raw, str) else {"binary": raw})
        except ConnectionClosed as exc:
            return (exc.rcvd.code if exc.rcvd else None), frames

    # -- member frames ---------------------------------------------------------
    async def hello(self, token: str | None = None, **extra: Any) -> dict[str, Any]:
        await self.send({"type": "hello", "v": 1, "token": token, **extra})
        welcome = await self.expect("welcome")
        self.welcome = welcome
        if welcome.get("token"):
            self.token = welcome["token"]
        # Back in open rooms: each room's current stage card follows the welcome.
        for room in welcome.get("rooms") or []:
            await self.take_stage(room["room"])
        return welcome

    @property
    def member_id(self) -> str:
        return str(self.welcome["member"])

    def prompt_id(self, index: int) -> str:
        prompts = self.welcome["prompts"]
        return str(prompts[index % len(prompts)]["id"])

    async def join(self, prompts: list[str], languages: list[str],
                   profile: dict[str, str] | None = None, **extra: Any) -> dict[str, Any]:
        frame: dict[str, Any] = {"type": "join", "prompts": prompts, "languages": languages}
        if profile is not None:
            frame["profile"] = profile
        frame.update(extra)
        await self.send(frame)
        return await self.expect("queued")

    async def say(self, room: str, text: str, id_: str | None = None) -> dict[str, Any]:
        """Send a chat message and return its ack."""
        id_ = id_ or uuid.uuid4().hex[:16]
        await self.send({"type": "send", "room": room, "id": id_, "text": text})
        return await self.expect("ack", id=id_)

    def abort(self) -> None:
        """Drop the TCP connection with no close handshake, like a lost phone signal."""
        transport = self.ws.transport
        assert transport is not None
        transport.abort()

    async def close(self) -> None:
        try:
            await asyncio.wait_for(self.ws.close(), 2)
        except (TimeoutError, OSError, ConnectionClosed):
            self.abort()


@dataclass
class Pair:
    a: Member
    b: Member
    room: str
    prompt: str
    lang: str
    a_matched: dict[str, Any]
    b_matched: dict[str, Any]

    @property
    def a_alias(self) -> str:
        return str(self.a_matched["you"])

    @property
    def b_alias(self) -> str:
        return str(self.b_matched["you"])


@dataclass
class Clients:
    """Opens connections to one server and closes all of them at the end."""

    ws_url: str
    members: list[Member] = field(default_factory=list)

    async def __aenter__(self) -> Clients:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await asyncio.gather(*(m.close() for m in self.members), return_exceptions=True)

    async def connect(self, **kwargs: Any) -> Member:
        """A connection that has not said hello yet."""
        kwargs.setdefault("open_timeout", TIMEOUT)
        kwargs.setdefault("close_timeout", 2)
        ws = await connect(self.ws_url, **kwargs)
        member = Member(ws)
        self.members.append(member)
        return member

    async def member(self, token: str | None = None, **kwargs: Any) -> Member:
        """A connection that has said hello and got welcome."""
        member = await self.connect(**kwargs)
        await member.hello(token)
        return member

    async def pair(self, prompt: str | None = None, lang: str | None = None,
                   profile_a: dict[str, str] | None = None,
                   profile_b: dict[str, str] | None = None) -> Pair:
        """Two fresh members matched in one room (their profiles cross a divide)."""
        a = await self.member()
        b = await self.member()
        prompt = prompt or a.prompt_id(fresh_topic())
        lang = lang or fresh_lang()
        await a.join([prompt], [lang], profile_a or DIVIDE_A)
        await b.join([prompt], [lang], profile_b or DIVIDE_B)
        a_matched = await a.expect("matched")
        b_matched = await b.expect("matched")
        assert a_matched["room"] == b_matched["room"], (a_matched, b_matched)
        return Pair(a, b, a_matched["room"], prompt, lang, a_matched, b_matched)


async def assert_still_chatting(pair: Pair, text: str = "still here?") -> None:
    """The room still works both ways: each side's message reaches the other once."""
    ack = await pair.a.say(pair.room, text)
    msg = await pair.b.expect("message", room=pair.room, seq=ack["seq"], text=text)
    assert msg["from"] == pair.a_alias
    ack2 = await pair.b.say(pair.room, text + " yes")
    assert ack2["seq"] == ack["seq"] + 1
    await pair.a.expect("message", room=pair.room, seq=ack2["seq"], text=text + " yes")
