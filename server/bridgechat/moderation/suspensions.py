"""Suspensions as records: which report gave them, by whom, until when; lifting one early.

What keeps a member out is `member.suspended_until` (node/members.py, read
at every `hello` on every node). A record here says why it is set: a row
per suspension a moderator gave, with the author's pseudonym, the report,
the moderator and the times in the clear and the member id sealed under
the report key (the suspension id bound in), so lifting can find the
member without the table naming anyone. Whatever happens to the records,
the member's row holds the end of the longest suspension still in force.
"""

from __future__ import annotations

import logging
import secrets
import time
from typing import Any, Literal, Protocol

from aiohttp import web

from bridgechat.core.protocol import iso
from bridgechat.moderation.auth import AUTH, Account, guarded, note_of, problem, read_json
from bridgechat.node import Node
from bridgechat.store.moderation import AuditEntry, SuspensionRow

log = logging.getLogger("bridgechat.moderation")


class Sealing(Protocol):
    """What this module needs of moderation/reports.py's `Sealer`."""

    key_id: str

    def seal(self, label: str, payload: dict[str, Any]) -> bytes: ...

    def unseal(self, label: str, blob: bytes) -> dict[str, Any]: ...

    def pseudonym(self, member: str) -> str: ...


class Holder(Protocol):
    """The reports desk, which holds the node and the sealer once the server runs."""

    @property
    def node(self) -> Node: ...

    @property
    def sealer(self) -> Sealing: ...


def shown(row: SuspensionRow) -> dict[str, Any]:
    return {"id": row.id, "author": row.author, "since": iso(row.since),
            "until": None if row.until is None else iso(row.until),
            "report": row.report, "by": row.by}


class Suspensions:
    def __init__(self, holder: Holder) -> None:
        self.holder = holder

    def record(self, member: str, report: str | None, by: str, now: float,
               until: float | None) -> SuspensionRow:
        """A record for the store to write with the report's resolution (None: indefinitely)."""
        sealer = self.holder.sealer
        sid = secrets.token_urlsafe(12)
        return SuspensionRow(id=sid, author=sealer.pseudonym(member), report=report, by=by,
                             since=now, until=until, key_id=sealer.key_id,
                             sealed=sealer.seal(sid, {"member": member}))

    def member_of(self, row: SuspensionRow) -> str | None:
        """The member a record is about; None if it was sealed under another key."""
        if row.key_id != self.holder.sealer.key_id:
            return None
        member: str = self.holder.sealer.unseal(row.id, row.sealed)["member"]
        return member

    async def enforce(self, member: str, author: str) -> None:
        """Set the member's suspension to the end of their longest one in force, or lift it.

        Two suspensions may overlap: lifting one, or giving a shorter one, must not
        cut the other short."""
        node = self.holder.node
        until = await node.db(node.store.suspended_until, author, time.time())
        await node.members.suspend(member, until)

    async def active(self) -> list[dict[str, Any]]:
        node = self.holder.node
        return [shown(r) for r in await node.db(node.store.active_suspensions, time.time())]

    async def lift(self, suspension_id: str, by: str,
                   audit: AuditEntry) -> Literal["unknown", "ended"] | None:
        """Lift it (the entry written with it); the member may join at once on any node."""
        node = self.holder.node
        done = await node.db(node.store.lift_suspension, suspension_id, by, time.time(), audit)
        if done != "lifted":
            return done
        row = await node.db(node.store.suspension, suspension_id)
        member = None if row is None else self.member_of(row)
        if row is not None and member is not None:
            await self.enforce(member, row.author)
        return None

    async def purge(self, retention: float) -> None:
        """Records ended (lifted or over) longer ago than the reports' retention go, and
        those of members who no longer exist (erased, or gone after inactivity)."""
        node = self.holder.node
        now = time.time()
        whose = {r.id: m for r in await node.db(node.store.active_suspensions, now)
                 if (m := self.member_of(r)) is not None}
        alive = await node.db(node.store.existing_members, sorted(set(whose.values())))
        orphans = sorted(sid for sid, m in whose.items() if m not in alive)
        gone = await node.db(node.store.purge_suspensions, now - retention, orphans)
        if gone:
            log.info("suspension records deleted after retention", extra={"count": gone})


SUSPENSIONS = web.AppKey("moderation_suspensions", Suspensions)

LIFT_PROBLEMS = {
    "unknown": (404, "unknown_suspension", "There is no such suspension (it may have been "
                                           "deleted after its retention period)."),
    "ended": (409, "already_lifted", "This suspension has already been lifted or is over."),
}


@guarded()
async def list_suspensions(request: web.Request, who: Account) -> web.Response:
    return web.json_response({"suspensions": await request.app[SUSPENSIONS].active()})


@guarded()
async def lift_suspension(request: web.Request, who: Account) -> web.Response:
    body = await read_json(request)
    note = note_of(body, required=True)
    sid = request.match_info["id"]
    entry = request.app[AUTH].entry(who.username, "suspension.lift", f"suspension:{sid}", note)
    trouble = await request.app[SUSPENSIONS].lift(sid, who.username, entry)
    if trouble is not None:
        raise problem(*LIFT_PROBLEMS[trouble])
    return web.Response(status=204)


def setup_suspension_routes(app: web.Application) -> None:
    app.router.add_get("/api/suspensions", list_suspensions)
    app.router.add_post("/api/suspensions/{id}/lift", lift_suspension)


__all__ = ["SUSPENSIONS", "Suspensions", "setup_suspension_routes"]
