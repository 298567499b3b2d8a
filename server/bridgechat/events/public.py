"""The members' side of an event (docs/events.md): its page, its data, signing up ahead.

No account, e-mail or phone number: signing up returns a random token, kept
in the member's browser, that alone changes or withdraws the sign-up (in
`Authorization: Bearer`, which no other site can make a browser send). Origin
is checked all the same when a browser sends one.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import quote

from aiohttp import web

from bridgechat.events.desk import public_event
from bridgechat.events.ics import calendar
from bridgechat.events.routes import EVENTS
from bridgechat.events.spec import SLUG, EventError, local_iso
from bridgechat.moderation.auth import problem, read_json
from bridgechat.privacy.routes import MAX_TOKEN
from bridgechat.store import hash_token
from bridgechat.store.events import Event, Signup
from bridgechat.web.keys import GATE, SETTINGS
from bridgechat.web.origin import origin_allowed
from bridgechat.web.static import StaticFiles

# The member page's languages (client_web/i18n.js): an answer's interface language.
INTERFACE = ("en", "de", "es", "fr", "pl", "sv", "uk", "ar")
EVENT_PAGE = web.AppKey("event_page", StaticFiles)


def no_store(resp: web.Response) -> web.Response:
    resp.headers["Cache-Control"] = "no-store"
    return resp


async def open_event(request: web.Request) -> Event:
    slug = request.match_info["slug"]
    event = await request.app[EVENTS].event(slug) if SLUG.match(slug) else None
    if event is None:
        raise problem(404, "unknown_event", "There is no event at this address. Check the "
                                            "link you were given.")
    return event


def open_for_signups(event: Event, now: float) -> None:
    if event.cancelled:
        raise problem(409, "event_cancelled", "This event was cancelled.")
    if now >= event.signup_deadline:
        raise problem(409, "signup_closed", "Sign-ups for this event have closed.")


def same_site(request: web.Request) -> None:
    if not origin_allowed(request, request.app[SETTINGS], missing_ok=True):
        raise problem(403, "origin_not_allowed", "This page may not act on your sign-up.")


async def holder(request: web.Request) -> tuple[Event, Signup]:
    """The event at this address and the sign-up whose token is in `Authorization:
    Bearer` (a 401 without one), for a request from this site."""
    same_site(request)
    event = await open_event(request)
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > MAX_TOKEN:
        raise problem(401, "token_required", "Send your event token in the header "
                                             "'Authorization: Bearer <token>'.",
                      headers={"WWW-Authenticate": 'Bearer realm="bridgechat"'})
    row = await request.app[EVENTS].find(event, token)
    if row is None:
        raise problem(401, "unknown_token", "There is no sign-up for this token: it was "
                                            "withdrawn, or the event is over.")
    return event, row


def answers_body(body: dict[str, Any]) -> dict[str, Any]:
    return {k: body[k] for k in ("prompts", "languages", "learning", "profile", "stances",
                                 "lang") if k in body}


async def show(request: web.Request) -> web.Response:
    event = await open_event(request)
    body = public_event(event, request.app[EVENTS].deck)
    # The page offers "Enter the lobby" from then on; the node's rule (node/lobby.py).
    opens = event.starts - request.app[SETTINGS].lobby_minutes * 60
    body["lobby_opens"] = local_iso(opens, event.tz)
    return no_store(web.json_response(body))


async def sign_up(request: web.Request) -> web.Response:
    same_site(request)
    desk, now = request.app[EVENTS], time.time()
    event = await open_event(request)
    open_for_signups(event, now)
    body = await read_json(request)
    if event.invite_hash is not None:
        code = body.get("invite")
        if not isinstance(code, str) or hash_token(code) != event.invite_hash:
            raise problem(403, "invite_required", "This event needs the invite code its "
                                                  "organisers gave you.")
    gate = request.app[GATE]
    if not desk.newcomers.allow(gate.hasher.hash(gate.address_of(request), now),
                                time.monotonic()):
        raise problem(429, "rate_limited", "Too many sign-ups from here in the last hour. "
                                           "Try again later.", headers={"Retry-After": "600"})
    try:
        token, data = await desk.sign_up(event, answers_body(body), INTERFACE)
    except EventError as exc:
        raise problem(400, exc.code, exc.message) from None
    return no_store(web.json_response({"token": token, "signup": data}, status=201))


async def mine(request: web.Request) -> web.Response:
    _, row = await holder(request)
    data = request.app[EVENTS].unseal(row)
    if data is None:
        raise problem(409, "wrong_key", "This sign-up cannot be read with this server's key.")
    return no_store(web.json_response({"signup": data}))


async def change(request: web.Request) -> web.Response:
    event, row = await holder(request)
    open_for_signups(event, time.time())
    body = await read_json(request)
    try:
        data = await request.app[EVENTS].change_signup(event, row, answers_body(body),
                                                       INTERFACE)
    except EventError as exc:
        raise problem(400, exc.code, exc.message) from None
    return no_store(web.json_response({"signup": data}))


async def withdraw(request: web.Request) -> web.Response:
    event, row = await holder(request)
    open_for_signups(event, time.time())
    await request.app[EVENTS].withdraw(row)
    return no_store(web.json_response({"withdrawn": True}))


async def ics(request: web.Request) -> web.Response:
    event = await open_event(request)
    settings = request.app[SETTINGS]
    base = (settings.public_url or f"{request.scheme}://{request.host}").rstrip("/")
    url = f"{base}/e/{quote(event.slug)}"
    body = calendar(event, url, request.host.split(":")[0] or "bridgechat",
                    request.query.get("lang"), time.time())
    return web.Response(body=body, headers={
        "Content-Type": "text/calendar; charset=utf-8",
        "Content-Disposition": f'attachment; filename="{event.slug}.ics"',
        "Cache-Control": "no-cache"})


async def page(request: web.Request) -> web.Response:
    """/e/{slug}: the event page, the same for every event (it reads /api/e/{slug}, and
    says so in the member's language when there is no such event)."""
    return request.app[EVENT_PAGE].respond(request, "event.html")


def setup_public_routes(app: web.Application, files: StaticFiles) -> None:
    app[EVENT_PAGE] = files
    r = app.router
    r.add_get("/e/{slug}", page)
    r.add_get("/api/e/{slug}", show)
    r.add_post("/api/e/{slug}/signup", sign_up)
    r.add_get("/api/e/{slug}/signup", mine)
    r.add_put("/api/e/{slug}/signup", change)
    r.add_delete("/api/e/{slug}/signup", withdraw)
    r.add_get("/api/e/{slug}/calendar.ics", ics)
