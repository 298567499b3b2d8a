"""What every part of a node shares: settings, store, broker, deck, keys, hooks.

`Shared` is handed to each part at construction (composition: the parts
hold it, nobody inherits from it). The records that leave a node for the
store (reports, anonymous room records) are defined here too, so the
moderation and privacy packages can build their hooks without importing
the node itself.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Protocol, TypeVar

from bridgechat.broker import Broker
from bridgechat.core import protocol
from bridgechat.core.deck import Deck, Prompt
from bridgechat.core.franking import FrankingKeys
from bridgechat.matching import Policy
from bridgechat.metrics.meters import NodeMetrics
from bridgechat.settings import Settings
from bridgechat.store import Store
from bridgechat.store.events import Event

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class ReportDraft:
    """A member's report with only the evidence whose franking tags checked out."""

    room: str
    prompt: str
    reason: str
    note: str | None
    reporter: str
    evidence: tuple[protocol.Message, ...]
    # Member ids behind the verified messages: whom a suspension applies to.
    authors: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RoomRecord:
    """What a closed room leaves for aggregate figures: no member ids, no text."""

    prompt: str
    day: str
    size: int
    divides: tuple[str, ...]
    seconds: float
    messages: int
    reason: str
    # The event whose lobby opened the room (its slug), for per-event figures.
    event: str | None = None


@dataclass(frozen=True, slots=True)
class QueueEntry:
    ticket: str
    prompts: tuple[str, ...]
    languages: tuple[str, ...]
    mode: str
    waited_s: float


ReportSink = Callable[[ReportDraft], Awaitable[str]]
RecordSink = Callable[[RoomRecord], Awaitable[str | None]]
FeedbackSink = Callable[[str, int, bool], Awaitable[None]]
InviteCheck = Callable[[str | None], Awaitable[bool]]


class SignupAnswers(Protocol):
    """What an event's sign-up answered, as the lobby needs it for a Ticket (the events
    package's TicketData has this shape; named here so the node never imports it)."""

    @property
    def signup(self) -> str: ...
    @property
    def prompts(self) -> tuple[str, ...]: ...
    @property
    def languages(self) -> tuple[str, ...]: ...
    @property
    def learning(self) -> tuple[str, ...]: ...
    @property
    def profile(self) -> tuple[tuple[str, str], ...]: ...
    @property
    def stances(self) -> tuple[tuple[str, str], ...]: ...
    @property
    def mode(self) -> str: ...
    @property
    def group(self) -> int: ...
    @property
    def lang(self) -> str: ...


# (event id, sign-up token) -> that sign-up's answers, or None if there is none.
SignupLookup = Callable[[Event, str], Awaitable[SignupAnswers | None]]


@dataclass(slots=True)
class Hooks:
    """What the moderation and privacy packages plug in; None: that feature is off."""

    report_sink: ReportSink | None = None
    record_sink: RecordSink | None = None
    feedback_sink: FeedbackSink | None = None
    invite_check: InviteCheck | None = None
    # Events (events/): the sign-up a lobby's token opens; None: events are off.
    signup_ticket: SignupLookup | None = None
    # Observers (the moderators' live view) told "queue" or "rooms" on a change.
    listeners: list[Callable[[str], None]] = field(default_factory=list)

    def changed(self, what: str) -> None:
        for fn in self.listeners:
            fn(what)


def today() -> str:
    return datetime.now(UTC).date().isoformat()


class Catalog:
    """The prompts on offer (the store's, with the deck's translations) and the paused ones."""

    def __init__(self, deck: Deck) -> None:
        self.deck = deck
        self.prompts: dict[str, Prompt] = {}
        self.paused: set[str] = set()

    def load(self, stored: Sequence[Prompt]) -> None:
        self.prompts = {p.id: self.with_translations(p) for p in stored}

    def with_translations(self, prompt: Prompt) -> Prompt:
        """The deck's translations, where the stored prompt still says what the deck says."""
        ours = self.deck.prompt(prompt.id)
        if ours is not None and ours.text == prompt.text:
            return replace(prompt, translations=ours.translations)
        return prompt

    def text(self, prompt_id: str, lang: str, fallback: str | None = None) -> str:
        """The prompt in the member's language (or what the room recorded, if retired)."""
        p = self.prompts.get(prompt_id)
        if p is None:
            return fallback if fallback is not None else prompt_id
        return p.text_in(lang)[0]


class StoreThread:
    """Store calls run on one thread of their own, so the loop never waits on disk.

    `observe` is told each call's seconds, the wait for the thread included (metrics)."""

    def __init__(self, observe: Callable[[float], None] | None = None) -> None:
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store")
        self.observe = observe

    async def __call__(self, fn: Callable[..., T], *args: object) -> T:
        began = time.perf_counter()
        try:
            return await asyncio.get_running_loop().run_in_executor(self.pool, fn, *args)
        finally:
            if self.observe is not None:
                self.observe(time.perf_counter() - began)

    def close(self) -> None:
        self.pool.shutdown(wait=True)


@dataclass(slots=True)
class Shared:
    """This node's settings and adapters, and the state every part reads."""

    id: str
    settings: Settings
    store: Store
    db: StoreThread
    broker: Broker
    deck: Deck
    catalog: Catalog
    keys: FrankingKeys
    hooks: Hooks
    policy: Policy
    rng: random.Random
    # This node's meters (metrics/meters.py), exposed when --metrics-listen is set.
    metrics: NodeMetrics = field(default_factory=NodeMetrics)
    # member -> suspended until (wall clock), as last seen by this node
    suspended: dict[str, float] = field(default_factory=dict)

    async def publish(self, members: Sequence[str], frame: protocol.ServerFrame) -> None:
        """One frame to each member, on whichever node they are connected."""
        if members:
            await self.broker.fanout.publish(members, protocol.encode(frame))


class RecentEvents:
    """Events by slug as the store said at most `ttl` seconds ago: a batch opening
    thousands of rooms (each asks its event's length), or a lobby checking every 2 s
    that its event is still on, costs one store read per event and interval."""

    MAX = 64  # events remembered; beyond, all are forgotten and read again

    def __init__(self, shared: Shared, ttl: float) -> None:
        self.shared = shared
        self.ttl = ttl
        self.seen: dict[str, tuple[float, Event | None]] = {}  # slug -> (read at, row)

    async def get(self, slug: str) -> Event | None:
        now = time.monotonic()
        hit = self.seen.get(slug)
        if hit is None or now - hit[0] > self.ttl:
            event = await self.shared.db(self.shared.store.event_by_slug, slug)
            if len(self.seen) >= self.MAX:
                self.seen.clear()
            hit = self.seen[slug] = (now, event)
        return hit[1]
