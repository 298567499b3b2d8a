"""Shifts: who is on duty now, and the note one shift leaves for the next.

On duty means signed in: a moderator with a session that has neither expired
nor sat idle past `--moderator-idle`. The note is stored (store/shifts.py) and
audited `shift.note` in the same transaction; the audit entry names the note,
not its text, so the text is deleted with the note after the retention period.
The feed sends a `shift` frame when the note or the moderators on duty change.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

from aiohttp import web

from bridgechat.core.protocol import iso
from bridgechat.moderation.auth import AUTH, Account, guarded, problem, read_json
from bridgechat.moderation.live import WATCH
from bridgechat.node import Node
from bridgechat.store.shifts import ShiftNote

MAX_TEXT = 2000


async def shift_state(node: Node) -> dict[str, Any]:
    """The `shift` object of the API and the feed (docs/moderation.md, "Shifts")."""
    duty = await node.db(node.store.on_duty, time.time(), node.settings.moderator_idle)
    note = await node.db(node.store.shift_note)
    return {"on_duty": [{"moderator": name, "since": iso(since)} for name, since in duty],
            "note": None if note is None else {"text": note.text, "by": note.moderator,
                                               "at": iso(note.at)}}


@guarded()
async def show_shift(request: web.Request, who: Account) -> web.Response:
    return web.json_response(await shift_state(request.app[AUTH].node))


@guarded()
async def leave_note(request: web.Request, who: Account) -> web.Response:
    body = await read_json(request)
    text = body.get("text")
    if not isinstance(text, str) or not text.strip() or len(text) > MAX_TEXT:
        raise problem(400, "bad_note", f"A shift note is 1 to {MAX_TEXT} characters of text.")
    auth = request.app[AUTH]
    note = ShiftNote(id=secrets.token_hex(8), text=text.strip(), moderator=who.username,
                     at=time.time())
    await auth.node.db(auth.node.store.add_shift_note, note,
                       auth.entry(who.username, "shift.note", f"shift_note:{note.id}"))
    request.app[WATCH].poke("shift")
    return web.json_response(await shift_state(auth.node), status=201)


async def purge_notes(node: Node, retention: float) -> int:
    """Delete shift notes older than the retention period (the hourly purge)."""
    return await node.db(node.store.purge_shift_notes, time.time() - retention)


def setup_shift_routes(app: web.Application) -> None:
    watch = app[WATCH]

    async def view() -> dict[str, Any]:
        return await shift_state(watch.node)

    watch.shift_view = view
    app.router.add_get("/api/shift", show_shift)
    app.router.add_post("/api/shift/note", leave_note)
