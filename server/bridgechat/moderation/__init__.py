"""Moderation: moderator accounts, the live dashboard feed, reports, invites, audit.

`setup_moderation(app)` adds the routes and a cleanup context that, once
the node exists, plugs this package into it: `report_sink` (reports are
sealed and stored), `invite_check` (with `--require-invite`) and a
listener that feeds `/ws/moderate`. docs/moderation.md describes the API.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator

from aiohttp import web

from bridgechat.jobs import every, stop
from bridgechat.moderation.auth import AUTH, Auth, setup_auth_routes
from bridgechat.moderation.hand import setup_hand_routes
from bridgechat.moderation.invites import make_check, setup_invite_routes
from bridgechat.moderation.live import RECHECK, REFRESH, WATCH, Watch, moderate_socket
from bridgechat.moderation.reports import DESK, Desk, ReportKeyError, Sealer, load_key
from bridgechat.moderation.routes import setup_api_routes
from bridgechat.moderation.shifts import purge_notes, setup_shift_routes
from bridgechat.moderation.suspensions import SUSPENSIONS, setup_suspension_routes
from bridgechat.web.keys import NODE, SETTINGS

log = logging.getLogger("bridgechat.moderation")

HOUR = 3600.0


def setup_moderation(app: web.Application) -> None:
    """Routes and startup wiring; call before the catch-all static route is added."""
    auth = Auth(app[SETTINGS])
    app[AUTH] = auth
    app[WATCH] = Watch(auth)
    app[DESK] = Desk()
    app[SUSPENSIONS] = app[DESK].suspensions
    setup_auth_routes(app)
    setup_api_routes(app)
    setup_shift_routes(app)
    setup_hand_routes(app)
    setup_suspension_routes(app)
    setup_invite_routes(app)
    app.router.add_get("/ws/moderate", moderate_socket)
    app.router.add_get("/moderate", moderate_page)
    app.cleanup_ctx.append(moderation_context)


async def moderate_page(request: web.Request) -> web.StreamResponse:
    raise web.HTTPFound("/moderate.html")


async def moderation_context(app: web.Application) -> AsyncIterator[None]:
    """Plug into the node made by app.py's `lifecycle`, which must run before this."""
    settings, node, auth, watch, desk = app[SETTINGS], app[NODE], app[AUTH], app[WATCH], app[DESK]
    try:
        key = load_key(settings)
    except ReportKeyError as exc:
        log.error(str(exc))
        raise
    auth.attach(node)
    desk.attach(node, Sealer(key))
    desk.on_opened.append(watch.report_opened)
    desk.on_resolved.append(watch.report_resolved)
    auth.on_end.append(watch.end_session)
    node.hooks.report_sink = desk.sink
    if settings.require_invite:
        node.hooks.invite_check = make_check(node)
    node.hooks.listeners.append(watch.poke)
    watch.open_reports = await node.db(node.store.open_report_count)

    async def tidy() -> None:
        await node.db(node.store.purge_sessions, time.time(), settings.moderator_idle)
        await desk.purge(settings.report_retention)
        await purge_notes(node, settings.report_retention)
        # Yesterday's salt must not outlive its day just because nobody signed in since.
        auth.addresses.forget(time.time())

    tasks = [
        asyncio.create_task(watch.run()),
        asyncio.create_task(watch.minutes()),
        asyncio.create_task(every(min(RECHECK, settings.moderator_idle / 2), watch.recheck,
                                  "recheck sessions")),
        asyncio.create_task(every(REFRESH, watch.refresh, "refresh dashboards")),
        asyncio.create_task(every(HOUR, tidy, "purge")),
    ]
    yield
    await stop(tasks)
    node.hooks.listeners.remove(watch.poke)
    auth.close()


__all__ = ["setup_moderation"]
