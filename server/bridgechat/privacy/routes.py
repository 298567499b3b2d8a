"""Members' rights, conversation records, impact figures, and the retention job.

docs/privacy.md is the inventory this module enforces: what is kept, where,
for how long. Four parts, wired by `setup_privacy(app)`:
- `/api/me`: a member downloads (Art. 20) or erases (Art. 17) everything
  held about them, proving who they are with their token in a bearer header;
- the node's record and feedback sinks: a closed room leaves an anonymous
  record, with no member id, for the figures;
- `/api/impact` and `/api/impact.csv`: those figures, small counts suppressed
  (server/bridgechat/privacy/impact.py), for every record or one event's;
- `enforce_retention`: deletes what has been kept long enough, rotates and
  retires franking keys, drops a stale address salt; run on a schedule.
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import hmac
import io
import json
import logging
import math
import random
import secrets
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

from aiohttp import web

from bridgechat.jobs import every, stop
from bridgechat.node import Node
from bridgechat.node.parts import RoomRecord
from bridgechat.privacy import impact
from bridgechat.privacy.addresses import AddressHasher
from bridgechat.settings import Settings
from bridgechat.store import Store, hash_token
from bridgechat.web.keys import NODE, SETTINGS
from bridgechat.web.origin import origin_allowed

log = logging.getLogger("bridgechat.privacy")

ADDRESSES = web.AppKey("addresses", AddressHasher)
NOISE_KEY = web.AppKey("impact_noise_key", bytes)
# (epsilon, day, event slug or None) -> (when computed, monotonic; the report)
IMPACT_CACHE: web.AppKey[dict[tuple[float | None, str, str | None],
                              tuple[float, impact.Figures]]] = web.AppKey("impact_cache")
IMPACT_TTL = 60.0  # seconds a computed report is served again: new data shows within a minute
MAX_TOKEN = 256
MAX_SLUG = 64  # events/spec.py's longest slug
EPSILON_RANGE = (0.01, 10.0)


def day_of(now: float) -> str:
    return datetime.fromtimestamp(now, UTC).date().isoformat()


# -- members' rights ------------------------------------------------------------

def refuse(status: type[web.HTTPException], code: str, message: str) -> web.HTTPException:
    """An HTTP error with the same shape as a WebSocket `error`: a code and plain words."""
    challenge = status is web.HTTPUnauthorized
    return status(text=json.dumps({"error": code, "message": message}),
                  content_type="application/json",
                  headers={"WWW-Authenticate": 'Bearer realm="bridgechat"'} if challenge else None)


async def member_of(request: web.Request) -> str:
    """The member whose token is in `Authorization: Bearer`, or a 401 (403: foreign Origin).

    No CSRF token is needed: a browser never adds this header by itself, so
    another site cannot make a member's browser send it. Origin is checked
    all the same when a browser sends one.
    """
    if not origin_allowed(request, request.app[SETTINGS], missing_ok=True):
        raise refuse(web.HTTPForbidden, "origin_not_allowed",
                     "This page may not act on your Bridgechat data.")
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > MAX_TOKEN:
        raise refuse(web.HTTPUnauthorized, "token_required",
                     "Send your member token in the header 'Authorization: Bearer <token>'.")
    node = request.app[NODE]
    row = await node.db(node.store.member_by_token, hash_token(token))
    if row is None:
        raise refuse(web.HTTPUnauthorized, "unknown_token",
                     "We hold nothing for this token: it was never issued here, "
                     "or its member's data has been erased.")
    return row.id


def _finite(value: object) -> object:
    """JSON has no Infinity: an indefinite suspension is said in words."""
    if isinstance(value, float) and not math.isfinite(value):
        return "indefinitely"
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


async def get_me(request: web.Request) -> web.Response:
    """Art. 20: everything held about the member, as JSON to keep."""
    member = await member_of(request)
    data = await request.app[NODE].members.export(member)
    if data is None:  # erased between the two look-ups
        raise refuse(web.HTTPUnauthorized, "unknown_token", "Your data has been erased.")
    data["exported"] = day_of(time.time())
    resp = web.json_response(_finite(data))
    resp.headers["Cache-Control"] = "no-store"
    resp.headers["Content-Disposition"] = 'attachment; filename="bridgechat-my-data.json"'
    return resp


async def delete_me(request: web.Request) -> web.Response:
    """Art. 17: leave every room, drop the ticket and socket, delete every row."""
    member = await member_of(request)
    await request.app[NODE].members.erase(member)
    log.info("member erased on request")
    resp = web.json_response({
        "erased": True,
        "message": "Everything this server held about you has been deleted. Your token no "
                   "longer works; you can start afresh at any time.",
    })
    resp.headers["Cache-Control"] = "no-store"
    return resp


# -- records and figures --------------------------------------------------------

def install_sinks(node: Node) -> None:
    """Give the node somewhere to leave records of closed rooms and their feedback."""

    async def record(rec: RoomRecord) -> str | None:
        if rec.messages == 0:
            return None  # nobody wrote: not a conversation
        return await node.db(node.store.add_record, rec.prompt, rec.day, rec.size,
                            rec.divides, impact.duration_bucket(rec.seconds), rec.event)

    async def feedback(record_id: str, common_ground: int, again: bool) -> None:
        await node.db(node.store.add_feedback, record_id, common_ground, again)

    node.hooks.record_sink = record
    node.hooks.feedback_sink = feedback


def epsilon_of(request: web.Request) -> float | None:
    raw = request.query.get("epsilon")
    if raw is None:
        return None
    try:
        eps = float(raw)
    except ValueError:
        eps = math.nan
    low, high = EPSILON_RANGE
    if not low <= eps <= high:  # False for nan too
        raise refuse(web.HTTPBadRequest, "bad_epsilon",
                     f"epsilon must be a number from {low} to {high}.")
    return eps


async def event_prompts(request: web.Request) -> tuple[str | None, list[str]]:
    """The event asked for with `?event=<slug>` (None: every record), and the prompts its
    rows are: the event's own, or the whole catalogue's. 404 for a slug we do not know."""
    node, slug = request.app[NODE], request.query.get("event")
    if slug is None:
        return None, list(node.catalog.prompts)
    event = await node.db(node.store.event_by_slug, slug) if 0 < len(slug) <= MAX_SLUG else None
    if event is None:
        raise refuse(web.HTTPNotFound, "unknown_event",
                     "There is no event with this slug (the last part of its page's address).")
    return event.slug, list(event.prompts)


async def current_figures(request: web.Request) -> impact.Figures:
    """The report for today, computed at most once a minute per epsilon and event."""
    node, eps, today = request.app[NODE], epsilon_of(request), day_of(time.time())
    event, prompts = await event_prompts(request)
    cache, key = request.app[IMPACT_CACHE], (eps, today, event)
    hit = cache.get(key)
    if hit is not None and time.monotonic() - hit[0] < IMPACT_TTL:
        return hit[1]
    records = await node.db(node.store.conversations, event)
    # The same data and epsilon always get the same noise, so asking again and
    # averaging the answers learns nothing; new data draws new noise. The event is in
    # the seed too: two events with alike records draw unrelated noise.
    seed = hmac.digest(request.app[NOISE_KEY], repr((eps, today, event, records)).encode(),
                       hashlib.sha256)
    fig = await asyncio.to_thread(
        impact.figures, records, prompts, [d.id for d in node.deck.dimensions], today,
        eps, random.Random(seed), event)
    if len(cache) > 32:
        cache.clear()
    cache[key] = (time.monotonic(), fig)
    return fig


async def impact_json(request: web.Request) -> web.Response:
    return web.json_response(impact.as_json(await current_figures(request)))


async def impact_csv(request: web.Request) -> web.Response:
    fig = await current_figures(request)
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(impact.as_csv(fig))
    resp = web.Response(text=out.getvalue(), content_type="text/csv", charset="utf-8")
    # A slug is lower-case letters, digits and hyphens: safe in a file name as it is.
    name = f"bridgechat-impact-{fig.event}.csv" if fig.event else "bridgechat-impact.csv"
    resp.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return resp


# -- retention ------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Swept:
    """What one run of the retention job did."""

    members: int
    reports: int
    key_rotated: bool
    keys_retired: int
    salt_dropped: bool


@dataclass(slots=True)
class Sightings:
    """When the job ran, and when the oldest room open at that run was opened.

    Why: a closed room can still be reported for the report window, but the
    broker lists only open rooms. A room that closed since the last run was
    open at that run (or opened after it), so the oldest room seen at each
    recent run bounds what any reportable room may hold.
    """

    seen: list[tuple[float, float]] = field(default_factory=list)

    def keep_from(self, now: float, oldest_open: float, window: float) -> float:
        """The earliest moment whose franking key must still verify."""
        self.seen = [(t, o) for t, o in self.seen if t >= now - window]
        self.seen.append((now, oldest_open))
        return min(now - window, *(o for _, o in self.seen))


def key_cutoff(created: dict[int, float], keep_from: float) -> float:
    """Keys made before this time can go: all but the one signing at `keep_from` and later.

    Retiring a key is the last step of forgetting a conversation: after it,
    nobody (a member, a moderator, the operator) can prove what was written
    under it, and a report citing those messages verifies nothing.
    """
    return max((t for t in created.values() if t <= keep_from), default=keep_from)


async def enforce_retention(store: Store, node: Node, now: float, settings: Settings,
                            addresses: AddressHasher | None = None,
                            sightings: Sightings | None = None) -> Swept:
    """Delete and forget what docs/privacy.md says is kept no longer than `now` allows."""
    members = 0
    waiting = {t.member for t in await node.broker.pool.tickets()}
    for member in await node.db(store.inactive_members, day_of(now - settings.member_retention)):
        # Someone connected, queued or seated is not inactive, whatever the last day says.
        if (member in node.links or member in waiting
                or await node.broker.rooms.member_rooms(member)):
            continue
        await node.members.erase(member)
        members += 1
    reports = await node.db(store.purge_reports, now - settings.report_retention)

    # Franking keys are shared by every node: one node (the matching leader) turns them.
    rotated, retired = False, 0
    if await node.broker.pool.lead(node.id, ttl=max(2.0, 8 * settings.tick)):
        opened = [room.created for r in await node.broker.rooms.open_rooms()
                  if (room := await node.broker.rooms.room(r)) is not None]
        window = settings.report_window + settings.retention_every
        keep_from = (sightings or Sightings()).keep_from(now, min(opened, default=now), window)
        before = dict(node.keys.created)
        cutoff = key_cutoff(before, keep_from)
        rotated = now - before.get(node.keys.current, -math.inf) >= settings.key_rotation
        if rotated:
            await node.rotate_keys(now, cutoff)
        else:
            await node.broker.keys.retire_franking_keys(cutoff)
            await node.sync_keys()
        retired = len(set(before) - set(node.keys.created))
    salt = addresses.forget(now) if addresses is not None else False
    for what, count in (("members", members), ("reports", reports), ("keys", retired)):
        if count:
            log.info("retention deleted", extra={"what": what, "count": count})
    return Swept(members, reports, rotated, retired, salt)


# -- wiring ---------------------------------------------------------------------

async def _privacy_ctx(app: web.Application) -> AsyncIterator[None]:

    node, settings = app[NODE], app[SETTINGS]
    install_sinks(node)

    sightings = Sightings()

    async def sweep() -> None:
        await enforce_retention(node.store, node, time.time(), settings, app[ADDRESSES], sightings)

    task = asyncio.create_task(every(settings.retention_every, sweep, "retention"))
    yield
    await stop([task])


def setup_privacy(app: web.Application) -> None:
    """Routes and the retention job; call before the catch-all static route."""
    app[ADDRESSES] = AddressHasher()
    app[NOISE_KEY] = secrets.token_bytes(32)
    app[IMPACT_CACHE] = {}
    app.router.add_get("/api/me", get_me)
    app.router.add_delete("/api/me", delete_me)
    app.router.add_get("/api/impact", impact_json)
    app.router.add_get("/api/impact.csv", impact_csv)
    # After the lifecycle context, so app[NODE] exists; torn down before it.
    app.cleanup_ctx.append(_privacy_ctx)
