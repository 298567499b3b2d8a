"""EventDesk: events and sign-ups on a running node, the answers sealed at rest.

Why sealed rather than in clear: a sign-up's answers (profile buckets, stances,
languages) are what the batch at the start will match on, so they must be kept
whole until then; on disk they are AES-GCM under the report key
(moderation/reports.py's Sealer, with the sign-up id bound in), so a copy of
the database alone tells nothing about anyone. The token is random and only
its hash is stored. Both go once the event has ended plus the grace period.

The lobby (node/lobby.py) reads a member's answers through `signup_ticket`.
"""

from __future__ import annotations

import logging
import secrets
import time
from dataclasses import dataclass
from typing import Any

from bridgechat.core.deck import Deck
from bridgechat.core.limits import PerKey
from bridgechat.events.spec import EventError, answers, local_iso
from bridgechat.moderation.reports import ReportKeyError, Sealer
from bridgechat.node import Node
from bridgechat.store import hash_token
from bridgechat.store.events import Event, Signup
from bridgechat.store.moderation import AuditEntry

log = logging.getLogger("bridgechat.events")


@dataclass(frozen=True, slots=True)
class TicketData:
    """What the lobby needs to make a matching Ticket for a signed-up member."""

    signup: str
    event: str
    prompts: tuple[str, ...]
    languages: tuple[str, ...]
    learning: tuple[str, ...]
    profile: tuple[tuple[str, str], ...]
    stances: tuple[tuple[str, str], ...]
    mode: str
    group: int
    lang: str


class EventDesk:
    def __init__(self, per_hour: int) -> None:
        self.attached: tuple[Node, Sealer] | None = None
        # Sign-ups a keyed address hash may make an hour, as for new members.
        self.newcomers = PerKey(per_hour, 3600.0)

    def attach(self, node: Node, sealer: Sealer) -> None:
        self.attached = (node, sealer)

    @property
    def node(self) -> Node:
        assert self.attached is not None, "EventDesk used before the node started"
        return self.attached[0]

    @property
    def sealer(self) -> Sealer:
        assert self.attached is not None, "EventDesk used before the node started"
        return self.attached[1]

    @property
    def deck(self) -> Deck:
        return self.node.deck

    def known_prompts(self) -> set[str]:
        return {p.id for p in self.deck.prompts} | set(self.node.catalog.prompts)

    # -- events ---------------------------------------------------------------------

    async def event(self, slug: str) -> Event | None:
        return await self.node.db(self.node.store.event_by_slug, slug)

    async def create(self, fields: dict[str, Any], audit: AuditEntry) -> Event | None:
        event = Event(id=secrets.token_hex(8), created=time.time(), **fields)
        audit.target = f"event:{event.slug}"
        return event if await self.node.db(self.node.store.add_event, event, audit) else None

    async def change(self, event: Event, fields: dict[str, Any],
                     audit: AuditEntry) -> Event | None:
        return await self.node.db(self.node.store.update_event, event.id, fields, audit)

    # -- sign-ups -------------------------------------------------------------------

    def seal(self, signup_id: str, data: dict[str, Any]) -> bytes:
        return self.sealer.seal(f"signup:{signup_id}", data)

    def unseal(self, row: Signup) -> dict[str, Any] | None:
        if row.key_id != self.sealer.key_id:
            return None
        try:
            return self.sealer.unseal(f"signup:{row.id}", row.sealed)
        except ReportKeyError:
            return None

    async def sign_up(self, event: Event, body: dict[str, Any],
                      interface: tuple[str, ...]) -> tuple[str, dict[str, Any]]:
        data = answers(body, event, self.deck, interface)
        token, now = secrets.token_urlsafe(32), time.time()
        row = Signup(id=secrets.token_hex(8), event_id=event.id, token_hash=hash_token(token),
                     key_id=self.sealer.key_id, sealed=b"", created=now, changed=now)
        row.sealed = self.seal(row.id, data)
        await self.node.db(self.node.store.add_signup, row)
        log.info("event sign-up", extra={"what": event.slug})
        return token, data

    async def find(self, event: Event, token: str) -> Signup | None:
        return await self.node.db(self.node.store.signup, event.id, hash_token(token))

    async def change_signup(self, event: Event, row: Signup, body: dict[str, Any],
                            interface: tuple[str, ...]) -> dict[str, Any]:
        data = answers(body, event, self.deck, interface)
        if not await self.node.db(self.node.store.change_signup, row.id, self.sealer.key_id,
                                  self.seal(row.id, data), time.time()):
            raise EventError("unknown_signup", "This sign-up no longer exists.")
        return data

    async def withdraw(self, row: Signup) -> bool:
        return await self.node.db(self.node.store.delete_signup, row.id)

    async def count(self, event: Event) -> int:
        return await self.node.db(self.node.store.signup_count, event.id)

    async def signup_ticket(self, event: Event, token: str) -> TicketData | None:
        """The answers of the sign-up `token` opens for this event (as the lobby just read
        it), ready for a Ticket; None if there is none (withdrawn, purged, or sealed under
        another key)."""
        row = await self.node.db(self.node.store.signup, event.id, hash_token(token))
        data = None if row is None else self.unseal(row)
        if data is None or row is None:
            return None
        return TicketData(
            signup=row.id, event=event.id, prompts=tuple(data["prompts"]),
            languages=tuple(data["languages"]), learning=tuple(data["learning"]),
            profile=tuple(sorted(data["profile"].items())),
            stances=tuple(sorted(data["stances"].items())), mode=event.mode, group=event.group,
            lang=data["lang"])

    async def purge(self, now: float, grace: float) -> int:
        """Delete the sign-ups of events that ended more than `grace` seconds ago."""
        gone = await self.node.db(self.node.store.purge_signups, now - grace)
        if gone:
            log.info("retention deleted", extra={"what": "event sign-ups", "count": gone})
        return gone


def public_event(event: Event, deck: Deck, signups: int | None = None) -> dict[str, Any]:
    """An event as anyone may see it: in the deck's languages, times with their offset."""
    prompts = []
    for pid in event.prompts:
        p = deck.prompt(pid)
        if p is not None:
            prompts.append({"id": p.id, "text": p.text, "lang": p.lang,
                            "texts": {p.lang: p.text, **p.translations}})
    out: dict[str, Any] = {
        "slug": event.slug, "title": event.titles, "description": event.descriptions,
        "starts": local_iso(event.starts, event.tz), "tz": event.tz,
        "signup_deadline": local_iso(event.signup_deadline, event.tz),
        "ends": local_iso(event.ends(), event.tz), "length_min": event.length_min,
        "mode": event.mode, "group": event.group, "cancelled": event.cancelled,
        "invite_required": event.invite_hash is not None, "prompts": prompts,
        "languages": list(deck.languages()),
        "questions": [{"id": d.id, "label": d.label, "labels": {"en": d.label, **d.translations},
                       "buckets": list(d.buckets), "sensitive": d.sensitive}
                      for d in deck.dimensions],
    }
    if signups is not None:
        out["signups"] = signups
    return out
