"""Events: a conversation day announced ahead, its page and signing up for it.

`setup_events(app, files)` adds the moderators' API (routes.py), the members'
page and API (public.py) and a cleanup context that, once the node exists,
attaches the desk (desk.py) and runs the retention of sign-ups: they are
deleted once their event has ended plus the grace period. docs/events.md
describes it all.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

from aiohttp import web

from bridgechat.events.desk import EventDesk, TicketData
from bridgechat.events.public import setup_public_routes
from bridgechat.events.routes import EVENTS, setup_admin_routes
from bridgechat.jobs import every, stop
from bridgechat.moderation.reports import Sealer, load_key
from bridgechat.web.keys import NODE, SETTINGS
from bridgechat.web.static import StaticFiles


def setup_events(app: web.Application, files: StaticFiles) -> None:
    """Routes and wiring; call after the node's lifecycle context, before the static
    catch-all route."""
    app[EVENTS] = EventDesk(app[SETTINGS].new_members_per_hour)
    setup_admin_routes(app)
    setup_public_routes(app, files)
    app.cleanup_ctx.append(_events_ctx)


async def _events_ctx(app: web.Application) -> AsyncIterator[None]:
    settings, desk = app[SETTINGS], app[EVENTS]
    node = app[NODE]
    desk.attach(node, Sealer(load_key(settings)))
    # The node's lobby reads sign-ups through the desk (node/lobby.py), as moderation and
    # privacy plug their sinks into the node's hooks from their own contexts.
    node.hooks.signup_ticket = desk.signup_ticket

    async def retention() -> None:
        # Sign-ups are kept until their event has ended plus the grace period.
        await desk.purge(time.time(), settings.grace_period)
        desk.newcomers.prune(time.monotonic())

    await retention()
    task = asyncio.create_task(every(settings.retention_every, retention, "event retention"))
    yield
    await stop([task])


__all__ = ["EVENTS", "EventDesk", "TicketData", "setup_events"]
