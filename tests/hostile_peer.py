"""Members for tests/test_hostile_stateful.py: a reader per socket, a check of every frame.

Built on the `websockets` library only, from docs/protocol.md (no code of the
server). Unlike tests/wsclient.py's sequential `expect`, each `Peer` reads
its socket all the time in a task and keeps every frame, so frames that
come on their own schedule (a partner's messages, `typing`, `away`) never
get in the way of waiting for an answer; every frame read is checked by
the shared `Watch` as it arrives, and every close the server makes is
checked against what was sent on that socket. Also: the hypothesis
strategies for hostile frames and raw payloads. Every wait is bounded.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

# Every server frame type docs/protocol.md names (the contract and this server's additions).
SERVER_TYPES = frozenset({
    "welcome", "queued", "left_queue", "matched", "message", "ack", "left", "typing", "stage",
    "resumed", "away", "back", "closed", "reported", "thanks", "error", "notice", "extend",
    "extended", "challenge",
})
ISO_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$")
B64URL_RE = re.compile(r"^[A-Za-z0-9_-]+={0,2}$")
BIG = 64 * 1024  # frames over this close the connection with 1009
BAD_UTF8 = 1007  # RFC 6455 7.4.1: a text frame that is not UTF-8
TOO_BIG = 1009
POLICY = 1008
REPLACED = 4001
# Types a well-behaved member in a room may be sent (no error, no closed, no left).
CALM = frozenset({"welcome", "queued", "matched", "stage", "message", "ack", "typing", "away",
                  "back", "resumed"})


class Watch:
    """Every frame and close seen by every peer, checked; what broke the rules."""

    def __init__(self, codes: frozenset[str]) -> None:
        self.codes = codes
        self.problems: list[str] = []

    def reset(self) -> None:
        self.problems = []

    def bad(self, who: str, what: str) -> None:
        self.problems.append(f"{who}: {what}")

    def assert_clean(self) -> None:
        assert not self.problems, "\n".join(self.problems[:20])

    def frame(self, who: str, raw: str | bytes) -> dict[str, Any] | None:
        """The frame if it is well-formed; else None, and the problem noted."""
        if not isinstance(raw, str):
            self.bad(who, f"binary frame from the server: {raw[:80]!r}")
            return None
        try:
            f = json.loads(raw)
        except ValueError:
            self.bad(who, f"not JSON: {raw[:200]!r}")
            return None
        if not isinstance(f, dict) or not isinstance(f.get("type"), str):
            self.bad(who, f"not an object with a string type: {raw[:200]!r}")
            return None
        kind = f["type"]
        if kind not in SERVER_TYPES:
            self.bad(who, f"undocumented frame type: {raw[:200]}")
        elif kind == "error":
            message = f.get("message")
            if f.get("code") not in self.codes:
                self.bad(who, f"error code not in docs/protocol.md: {raw[:300]}")
            if not (isinstance(message, str) and " " in message.strip()):
                self.bad(who, f"error without plain words: {raw[:300]}")
            if "ref" in f and f["ref"] is not None and not isinstance(f["ref"], str):
                self.bad(who, f"error ref is not a string: {raw[:300]}")
        elif kind == "message" and not self.message_ok(f):
            self.bad(who, f"malformed message: {raw[:300]}")
        elif kind == "ack" and not (isinstance(f.get("id"), str) and type(f.get("seq")) is int
                                    and ISO_RE.match(str(f.get("ts")))):
            self.bad(who, f"malformed ack: {raw[:300]}")
        return f

    @staticmethod
    def message_ok(f: dict[str, Any]) -> bool:
        tag = f.get("tag")
        if not (isinstance(f.get("room"), str) and type(f.get("seq")) is int and f["seq"] > 0
                and isinstance(f.get("from"), str) and isinstance(f.get("text"), str)
                and ISO_RE.match(str(f.get("ts"))) and isinstance(tag, str)
                and B64URL_RE.match(tag)):
            return False
        return len(base64.urlsafe_b64decode(tag + "=" * (-len(tag) % 4))) >= 8


@dataclass
class Conn:
    """One socket of a peer, and what was sent on it that allows the server to close it."""

    ws: ClientConnection
    reader: asyncio.Task[None] | None = None
    welcomed: bool = False
    ours: bool = False  # we closed or dropped it
    big: bool = False
    bad_utf8: bool = False
    too_many: bool = False
    replaceable: bool = False
    close_code: int | None = None


class Peer:
    """A member: its sockets one after another, every frame read on any of them."""

    def __init__(self, name: str, url: str, address: Callable[[], str], watch: Watch,
                 hostile: bool = False) -> None:
        self.name, self.url, self.address, self.watch = name, url, address, watch
        self.hostile = hostile
        self.frames: list[dict[str, Any]] = []
        self.conns: list[Conn] = []
        self.changed = asyncio.Event()
        self.welcome: dict[str, Any] = {}
        self.token: str | None = None
        self.room, self.alias = "", ""
        self.partner: Peer = self
        self.acked: dict[str, dict[str, Any]] = {}  # well-behaved sends: id -> seq, ts, text
        self.sent_ids: dict[str, set[str]] = {}  # every send id -> the rooms it was sent to

    # -- sockets -------------------------------------------------------------------------
    @property
    def conn(self) -> Conn:
        return self.conns[-1]

    @property
    def closed(self) -> bool:
        return not self.conns or self.conn.reader is None or self.conn.reader.done()

    async def open(self) -> None:
        ws = await connect(self.url, local_addr=(self.address(), 0), open_timeout=5,
                           close_timeout=2, compression=None, ping_interval=None,
                           max_size=2**22, proxy=None)
        conn = Conn(ws, replaceable=self.hostile)
        conn.reader = asyncio.create_task(self.read(conn))
        self.conns.append(conn)

    reopen = open

    async def read(self, conn: Conn) -> None:
        try:
            async for raw in conn.ws:
                f = self.watch.frame(self.name, raw)
                if f is None:
                    continue
                if f["type"] == "welcome":
                    conn.welcomed = True
                elif f["type"] == "error" and f.get("code") == "too_many_errors":
                    conn.too_many = True
                self.frames.append(f)
                self.changed.set()
        except ConnectionClosed:
            pass
        finally:
            conn.close_code = conn.ws.close_code
            self.changed.set()
            self.judge_close(conn)

    def judge_close(self, conn: Conn) -> None:
        """A close by the server must be one that what was sent on the socket calls for."""
        code = conn.close_code
        if conn.ours:
            return
        allowed = {POLICY: conn.too_many, TOO_BIG: conn.big, BAD_UTF8: conn.bad_utf8,
                   REPLACED: conn.replaceable}
        if not allowed.get(code or 0, False):
            self.watch.bad(self.name, f"the server closed the socket with {code} "
                                      f"(too_many_errors {conn.too_many}, over 64 KiB sent "
                                      f"{conn.big}, bad UTF-8 sent {conn.bad_utf8})")

    def abort(self) -> None:
        if not self.closed:
            self.conn.ours = True
            transport = self.conn.ws.transport
            if transport is not None:
                transport.abort()

    async def ended(self, wait: float) -> None:
        if self.conns and self.conn.reader is not None:
            await asyncio.wait_for(asyncio.shield(self.conn.reader), wait)

    def expect_replaced(self) -> asyncio.Task[None]:
        self.conn.replaceable = True
        reader = self.conn.reader
        assert reader is not None
        return reader

    async def close(self) -> None:
        for conn in self.conns:
            conn.ours = True
        await asyncio.gather(*(asyncio.wait_for(c.ws.close(), 2) for c in self.conns),
                             return_exceptions=True)
        for c in self.conns:
            if c.reader is not None:
                c.reader.cancel()
        await asyncio.gather(*(c.reader for c in self.conns if c.reader is not None),
                             return_exceptions=True)

    # -- sending -------------------------------------------------------------------------
    async def send(self, frame: Any) -> None:
        """JSON, \\u-escaped (so a lone surrogate goes out as the escape a browser sends)."""
        if isinstance(frame, dict) and frame.get("type") == "send" and isinstance(
                frame.get("id"), str):
            self.sent_ids.setdefault(frame["id"], set()).add(str(frame.get("room")))
        await self.send_raw(json.dumps(frame, ensure_ascii=True))

    async def send_raw(self, data: Any) -> None:
        if self.closed:
            return
        conn = self.conn
        kind = data[0] if isinstance(data, tuple) else None
        payload = data[1] if isinstance(data, tuple) else data
        size = sum(len(p) for p in payload) if kind == "fragments" else len(
            payload.encode() if isinstance(payload, str) else payload)
        conn.big = conn.big or size > BIG
        conn.bad_utf8 = conn.bad_utf8 or kind == "text-bytes"
        try:
            if kind == "text-bytes":
                await conn.ws.send(payload, text=True)
            else:
                await conn.ws.send(payload)
        except ConnectionClosed:
            if not self.hostile:
                raise

    # -- waiting -------------------------------------------------------------------------
    async def wait(self, want: Callable[[dict[str, Any]], bool], wait: float,
                   start: int = 0) -> dict[str, Any]:
        """The first frame from index `start` on that `want` takes; fails after `wait` s."""
        loop = asyncio.get_running_loop()
        deadline, i = loop.time() + wait, start
        while True:
            for f in self.frames[i:]:
                if want(f):
                    return f
            i = len(self.frames)
            left = deadline - loop.time()
            if left <= 0 or self.closed:
                raise AssertionError(f"{self.name}: no such frame within {wait} s (closed: "
                                     f"{self.closed}); last frames {self.frames[-5:]}")
            self.changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), left)

    async def hello(self, token: str | None) -> dict[str, Any]:
        start = len(self.frames)
        await self.send({"type": "hello", "v": 1, "token": token})
        f = await self.wait(lambda f: f["type"] in ("welcome", "error"), 5, start)
        assert f["type"] == "welcome", f"{self.name}: hello refused: {f}"
        self.welcome = f
        self.token = f["token"] or self.token
        return f

    async def say(self, text: str, id_: str | None = None) -> dict[str, Any]:
        """A chat message in our room; its ack (an error fails the test)."""
        id_ = id_ or uuid.uuid4().hex[:16]
        start = len(self.frames)
        await self.send({"type": "send", "room": self.room, "id": id_, "text": text})
        f = await self.wait(lambda f: (f["type"] == "ack" and f.get("id") == id_)
                            or (f["type"] == "error" and f.get("ref") == id_), 5, start)
        assert f["type"] == "ack", f"{self.name}: send refused: {f}"
        self.acked.setdefault(id_, {"seq": f["seq"], "ts": f["ts"], "text": text})
        return f

    def heard(self) -> list[dict[str, Any]]:
        return [f for f in self.frames if f["type"] == "message" and f.get("room") == self.room]

    def last_seq(self) -> int:
        """The last seq this member has seen: a message heard, or an ack of its own."""
        return max([f["seq"] for f in self.heard()] + [a["seq"] for a in self.acked.values()],
                   default=0)

    async def caught_up(self, wait: float) -> None:
        """Every message the partner got an ack for has reached us."""
        want = {a["seq"] for a in self.partner.acked.values()}
        with contextlib.suppress(AssertionError):
            await self.wait(lambda _: want <= {f["seq"] for f in self.heard()}, wait)
        missing = want - {f["seq"] for f in self.heard()}
        assert not missing, f"{self.name}: the partner's acknowledged seqs {sorted(missing)} " \
                            f"never arrived; heard {[f['seq'] for f in self.heard()]}"

    async def resume(self, after: int, wait: float) -> list[dict[str, Any]]:
        """`resume` after `after`, page by page; the messages replayed."""
        replayed: list[dict[str, Any]] = []
        for _ in range(20):
            start = len(self.frames)
            await self.send({"type": "resume", "room": self.room, "after": after})
            done = await self.wait(lambda f: f["type"] in ("resumed", "error"), wait, start)
            assert done["type"] == "resumed", f"{self.name}: resume refused: {done}"
            page = [f for f in self.frames[start:self.frames.index(done, start)]
                    if f["type"] == "message" and f.get("room") == self.room]
            replayed += page
            assert done.get("complete") is True, f"{self.name}: history lost: {done}"
            if not done.get("more"):
                return replayed
            after = page[-1]["seq"] if page else after
        raise AssertionError(f"{self.name}: resume never ended")

    async def barrier(self, wait: float) -> None:
        """Answers come in frame order: once `leave_queue` is answered, all before it were."""
        if self.closed or not self.conn.welcomed:
            return
        start = len(self.frames)
        await self.send({"type": "leave_queue"})
        with contextlib.suppress(AssertionError):
            await self.wait(lambda f: f["type"] == "left_queue" or f.get("code") in (
                "not_queued", "too_many_errors"), wait, start)
            return
        if not self.closed:
            self.watch.bad(self.name, f"no answer to leave_queue in {wait} s")

    # -- the checks of a well-behaved member ------------------------------------------------
    def assert_exactly_once(self) -> None:
        """Every acknowledged message of the partner, once each, in order, as sent."""
        heard = self.heard()
        seqs = [f["seq"] for f in heard]
        assert seqs == sorted(set(seqs)), f"{self.name}: out of order or twice: {seqs}"
        sent = sorted(self.partner.acked.values(), key=lambda a: a["seq"])
        assert seqs == [a["seq"] for a in sent], (
            f"{self.name}: heard seqs {seqs}, the partner was acknowledged "
            f"{[a['seq'] for a in sent]}")
        for f, a in zip(heard, sent, strict=True):
            assert (f["text"], f["from"]) == (a["text"], self.partner.alias), (f, a)

    def assert_untroubled(self) -> None:
        odd = [f for f in self.frames if f["type"] not in CALM
               or f.get("room", self.room) != self.room]
        assert not odd, f"{self.name}, a well-behaved member, was sent {odd[:5]}"
        assert not any(c.close_code not in (None, 1000) and not c.ours for c in self.conns
                       if not c.replaceable), f"{self.name}: closed by the server"

    def assert_heard_once(self, sender: Peer) -> None:
        """A quiet partner: the sender's messages in order, and every one it was acked for."""
        heard = [f for f in self.heard() if f["from"] == sender.alias]
        seqs = [f["seq"] for f in heard]
        assert seqs == sorted(set(seqs)), f"{self.name}: out of order or twice: {seqs}"
        acked = {f["seq"] for f in sender.frames if f["type"] == "ack"
                 and sender.sent_ids.get(f["id"]) == {self.room}}
        missing = acked - set(seqs)
        assert not missing, f"{self.name}: acknowledged to {sender.name} but never heard: " \
                            f"{sorted(missing)}; heard {seqs}"


# -- hostile frames (hypothesis strategies); "$..." values are filled in by the test ----

JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner,
                                                                max_size=3),
    max_leaves=6)
ROOM = st.sampled_from(["$good", "$own", "$own", "", "nope"]) | st.text(max_size=70) | JSONISH
ID = st.sampled_from(["$fresh", "$fresh", "hdup", "", "x" * 65]) | st.text(max_size=10) | JSONISH
TEXT = (st.sampled_from(["hi", "", "   ", "\u200b\u2060", "\x00", "\u202egnp.exe", "a\ud800b",
                         "\udfff", "x" * 2001, "\U0001f642" * 2000, "e\u0301" * 60])
        | st.text(max_size=40) | JSONISH)
LANGS = st.sampled_from(["zz", "zy", "e", "eng", "", "ZZ", "pt-BR"]) | JSONISH
FIELDS: dict[str, dict[str, st.SearchStrategy[Any]]] = {
    "hello": {"v": st.sampled_from([1, 1, 2, 0, "1", None, 1.0]),
              "token": st.sampled_from([None, "$token", "", "bad"]) | st.text(max_size=30),
              "lang": st.sampled_from(["en", "pt-BR", "", "x" * 100, "-"]) | JSONISH},
    "join": {"prompts": st.lists(st.sampled_from(["$prompt", "nope", ""]) | JSONISH, max_size=6),
             "languages": st.lists(LANGS, max_size=6),
             "profile": st.dictionaries(
                 st.sampled_from(["age_band", "origin", "area", "politics", "shoe"]),
                 st.sampled_from(["18-29", "60+", "urban", "left", "?"]) | JSONISH, max_size=5),
             "stances": st.dictionaries(st.sampled_from(["$prompt", "x"]),
                                        st.sampled_from(["agree", "meh"]) | JSONISH, max_size=2),
             "mode": st.sampled_from(["bridge", "language_buddy", "generations", "x"]) | JSONISH,
             "group": st.integers(-1, 6) | JSONISH, "learning": st.lists(LANGS, max_size=3),
             "invite": st.text(max_size=20) | JSONISH},
    "leave_queue": {},
    "send": {"room": ROOM, "id": ID, "text": TEXT},
    "typing": {"room": ROOM},
    "resume": {"room": ROOM, "after": st.integers(-3, 2**70) | JSONISH},
    "leave": {"room": ROOM},
    "block": {"room": ROOM},
    "report": {"room": ROOM,
               "reason": st.sampled_from(["spam", "harassment", "other", "x" * 40])
               | st.text(max_size=40) | JSONISH,
               "note": st.text(max_size=50) | JSONISH,
               "messages": st.just("$evidence") | st.lists(JSONISH, max_size=3)},
    "feedback": {"room": ROOM, "common_ground": st.integers(-1, 7) | JSONISH,
                 "again": st.booleans() | JSONISH},
    "extend": {"room": ROOM, "agree": st.booleans() | JSONISH},
}


def junk_frames() -> st.SearchStrategy[Any]:
    """Client frames of every type with right, wrong and missing fields; other junk types."""
    typed = [st.fixed_dictionaries({"type": st.just(t), **fs}) for t, fs in FIELDS.items()]
    loose = [st.fixed_dictionaries({"type": st.just(t)}, optional={**fs, "zz": JSONISH})
             for t, fs in FIELDS.items()]
    odd = st.fixed_dictionaries({"type": st.text(max_size=12) | JSONISH},
                                optional={"room": ROOM, "id": ID, "text": TEXT})
    return st.one_of(*typed, *loose, odd, JSONISH)


DEEP = "[" * 1000 + "]" * 1000


def raw_payloads() -> st.SearchStrategy[Any]:
    """Text that is not a frame, binary frames, fragments, invalid UTF-8, oversized frames."""
    fixed = st.sampled_from([
        "not json", "{", "", " ", "[]", "3", '"hello"', "null", "{}", '{"type":1}',
        '{"type":"nope"}', '{"type":"hello"', DEEP, '{"type":"send","id":' + DEEP + "}",
        '{"type":"send","room":"r","id":"1","text":"' + "x" * 17_000 + '"}',
        "x" * (70 * 1024),
        '{"type":"send","room":"r","id":"1","text":"\\ud800"}',
        '{"type":"hello","v":1,"token":null,"lang":"\\udfff"}', '{"type":"hello","v":1e400}',
        '{"type":"resume","room":"r","after":1e308}', '{"type":"leave_queue","type":"hello"}',
        '\ufeff{"type":"leave_queue"}', b"\x00\x01binary", b'{"type":"leave_queue"}',
        ("text-bytes", b'{"type":"send","room":"r","id":"1","text":"\xff\xfe"}'),
        ("fragments", ['{"type":"leave', '_queue"}']),
        ("fragments", [b'{"type":', b'"leave_queue"}']),
    ])
    return st.one_of(fixed, st.text(max_size=60), st.binary(max_size=40))


addresses = itertools.count(1)


def next_address() -> str:
    """A loopback source address of its own for each socket (127.77.0.2, 127.77.0.3, ...)."""
    n = next(addresses)
    return f"127.{77 + n // 64516 % 100}.{n // 254 % 254}.{n % 254 + 1}"
