"""Moderators' hand on the live node: matching waiting members by hand, speaking to a room.

`POST /api/match/check` says whether the chosen waiting tickets may share a
room and why the matcher had not paired them (bridgechat.matching.hand);
`POST /api/match` opens that room the way the matcher does; `POST
/api/rooms/{id}/notice` gives every seated member of a live room a
moderator's words. Both actions are held in the broker, not the database,
so each audit entry is written first (docs/moderation.md, "Audit log"); a
notice's text is the entry's note and is kept nowhere else.
"""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web

from bridgechat.core.text import clean
from bridgechat.matching import HandCheck
from bridgechat.moderation.auth import AUTH, Account, guarded, note_of, problem, read_json

TICKET_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
MAX_TICKETS = 8
MAX_NOTICE = 300


def ticket_ids(body: dict[str, Any]) -> list[str]:
    tickets = body.get("tickets")
    if (not isinstance(tickets, list) or not 1 <= len(tickets) <= MAX_TICKETS
            or not all(isinstance(t, str) and TICKET_ID.match(t) for t in tickets)):
        raise problem(400, "bad_tickets", "tickets is a list of the waiting tickets' ids, "
                                          "two to four of them.")
    return tickets


def answer(found: HandCheck) -> dict[str, Any]:
    refused = found.refused
    return {"ok": refused is None, "refused": None if refused is None else refused.code,
            "message": None if refused is None else refused.message,
            "why_not": [{"code": f.code, "message": f.message} for f in found.why_not]}


@guarded()
async def check_match(request: web.Request, who: Account) -> web.Response:
    ids = ticket_ids(await read_json(request))
    found = await request.app[AUTH].node.desk.check_hand(ids)
    return web.json_response(answer(found))


@guarded()
async def hand_match(request: web.Request, who: Account) -> web.Response:
    body = await read_json(request)
    ids = ticket_ids(body)
    note = note_of(body, required=False)
    auth = request.app[AUTH]
    desk = auth.node.desk
    found = await desk.check_hand(ids)
    if found.refused is not None:
        code = found.refused.code
        raise problem(404 if code == "unknown_ticket" else 409, code, found.refused.message)
    assert found.group is not None  # nothing refused: check_hand built the room
    # The tickets are taken as the room opens, after the entry is stored: one that left
    # the pool in between (matched, or its member gone) gets an entry and a 404.
    room_id = desk.new_room_id()
    await auth.audit(who.username, "room.hand_match", f"room:{room_id}", note)
    if not await desk.hand_match(found.group, room_id):
        raise problem(404, "unknown_ticket", "At least one of these members is no longer "
                                             "waiting: nobody was matched.")
    return web.json_response({"room": room_id, "prompt": found.group.prompt}, status=201)


@guarded()
async def room_notice(request: web.Request, who: Account) -> web.Response:
    body = await read_json(request)
    raw = body.get("message")
    # Cleaned as members' messages are (core/text.py): what they see is what is audited.
    message = clean(raw) if isinstance(raw, str) else ""
    if not 1 <= len(message) <= MAX_NOTICE:
        raise problem(400, "bad_message", f"A notice is 1 to {MAX_NOTICE} characters of "
                                          "visible text.")
    room_id = request.match_info["id"]
    auth = request.app[AUTH]
    desk = auth.node.desk
    if not await desk.live_room(room_id):
        raise problem(404, "unknown_room", "There is no live room with that id.")
    await auth.audit(who.username, "room.notice", f"room:{room_id}", message)
    if not await desk.notice(room_id, message):
        raise problem(404, "unknown_room", "There is no live room with that id.")
    return web.Response(status=204)


def setup_hand_routes(app: web.Application) -> None:
    r = app.router
    r.add_post("/api/match/check", check_match)
    r.add_post("/api/match", hand_match)
    r.add_post("/api/rooms/{id}/notice", room_notice)
