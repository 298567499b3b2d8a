"""The moderators' API for events (docs/events.md): list, create, edit, cancel.

Changes are `guarded("admin")` (CSRF, Origin, session, role, in that order) and
each lands once in the audit log, in the same transaction as the change.
"""

from __future__ import annotations

import time
from typing import Any

from aiohttp import web

from bridgechat.events.desk import EventDesk, public_event
from bridgechat.events.live_view import PoolView, counted_days, live_view, rooms_names
from bridgechat.events.spec import EventError, event_fields, utc_iso
from bridgechat.moderation.auth import AUTH, Account, guarded, note_of, problem, read_json
from bridgechat.store.events import Event

EVENTS = web.AppKey("events_desk", EventDesk)


def refused(exc: EventError) -> web.HTTPException:
    status = 409 if exc.code in ("slug_taken", "event_cancelled", "event_over") else 400
    return problem(status, exc.code, exc.message)


async def admin_view(desk: EventDesk, event: Event) -> dict[str, Any]:
    out = public_event(event, desk.deck, await desk.count(event))
    out.update(id=event.id, created=utc_iso(event.created),
               starts_utc=utc_iso(event.starts), prompts=event.prompts)
    return out


async def find_event(desk: EventDesk, key: str) -> Event:
    """An event by id or slug, or a 404."""
    event = await desk.node.db(desk.node.store.event, key) or await desk.event(key)
    if event is None:
        raise problem(404, "unknown_event", "There is no such event.")
    return event


@guarded()
async def list_events(request: web.Request, who: Account) -> web.Response:
    desk = request.app[EVENTS]
    rows = await desk.node.db(desk.node.store.events)
    # The deck's languages: the dashboard's form asks a title in each of them.
    return web.json_response({"events": [await admin_view(desk, e) for e in rows],
                              "languages": list(desk.deck.languages())})


@guarded("admin")
async def create_event(request: web.Request, who: Account) -> web.Response:
    desk = request.app[EVENTS]
    body = await read_json(request)
    note = note_of(body, required=False)
    try:
        fields = event_fields(body, desk.deck, desk.known_prompts(), time.time())
    except EventError as exc:
        raise refused(exc) from None
    entry = request.app[AUTH].entry(who.username, "event.create", "", note)
    event = await desk.create(fields, entry)
    if event is None:
        raise problem(409, "slug_taken", f"Another event already has the slug "
                                         f"{fields['slug']}; choose another.")
    return web.json_response(await admin_view(desk, event), status=201)


def changeable(event: Event, now: float) -> None:
    if event.cancelled:
        raise problem(409, "event_cancelled", "This event was cancelled; create a new one.")
    if event.ends() <= now:
        raise problem(409, "event_over", "This event is over and can no longer change.")


@guarded("admin")
async def edit_event(request: web.Request, who: Account) -> web.Response:
    desk = request.app[EVENTS]
    body = await read_json(request)
    note = note_of(body, required=False)
    event = await find_event(desk, request.match_info["id"])
    now = time.time()
    changeable(event, now)
    try:
        fields = event_fields(body, desk.deck, desk.known_prompts(), now, before=event,
                              lobby_s=desk.node.settings.lobby_minutes * 60)
    except EventError as exc:
        raise refused(exc) from None
    entry = request.app[AUTH].entry(who.username, "event.edit", f"event:{event.slug}", note)
    changed = await desk.change(event, fields, entry)
    if changed is None:
        raise problem(404, "unknown_event", "There is no such event.")
    return web.json_response(await admin_view(desk, changed))


@guarded("admin")
async def cancel_event(request: web.Request, who: Account) -> web.Response:
    desk = request.app[EVENTS]
    body = await read_json(request)
    note = note_of(body, required=False)
    event = await find_event(desk, request.match_info["id"])
    changeable(event, time.time())
    entry = request.app[AUTH].entry(who.username, "event.cancel", f"event:{event.slug}", note)
    changed = await desk.change(event, {"cancelled": True}, entry)
    if changed is None:
        raise problem(404, "unknown_event", "There is no such event.")
    return web.json_response(await admin_view(desk, changed))


@guarded()
async def event_live(request: web.Request, who: Account) -> web.Response:
    """An event as it runs, for the dashboard's Events tab (live_view.py); any moderator."""
    desk = request.app[EVENTS]
    node = desk.node
    event = await find_event(desk, request.match_info["id"])
    tickets = await node.broker.pool.tickets()
    constraints = await node.queue.constraints(tickets)
    rooms = crossing2 = 0
    # Rooms are counted per UTC day: an event over midnight is counted on both days.
    for day in counted_days(event):
        r, c = await node.broker.counters.day(rooms_names(event.slug), day)
        rooms, crossing2 = rooms + r, crossing2 + c
    view = PoolView(tickets, node.deck.dimensions, constraints, node.shared.policy,
                    node.catalog.paused, {k: p.text for k, p in node.catalog.prompts.items()})
    body = live_view(event, await admin_view(desk, event), time.time(), await desk.count(event),
                     view, rooms, crossing2, node.settings.lobby_minutes * 60)
    return web.json_response(body)


def setup_admin_routes(app: web.Application) -> None:
    r = app.router
    r.add_get("/api/events", list_events)
    r.add_post("/api/events", create_event)
    r.add_patch("/api/events/{id}", edit_event)
    r.add_post("/api/events/{id}/cancel", cancel_event)
    r.add_get("/api/events/{id}/live", event_live)
