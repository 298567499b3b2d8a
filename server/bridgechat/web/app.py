"""create_app(settings): wires store, broker, node and routes; owns background tasks."""

from __future__ import annotations

import asyncio
import gc
import logging
import secrets
import time
from collections.abc import AsyncIterator
from importlib import resources
from pathlib import Path

from aiohttp import WSCloseCode, web

from bridgechat.broker import Broker
from bridgechat.broker.memory import MemoryBroker
from bridgechat.deck_file import load_deck
from bridgechat.events import setup_events
from bridgechat.jobs import every, stop
from bridgechat.metrics.listener import LISTENER, open_listener
from bridgechat.metrics.probes import Probes
from bridgechat.moderation import setup_moderation
from bridgechat.moderation.reports import load_key
from bridgechat.node import Node, restart
from bridgechat.privacy.routes import setup_privacy
from bridgechat.settings import Settings
from bridgechat.store import Store, sqlite_url
from bridgechat.web import member as handlers
from bridgechat.web.gate import Gate
from bridgechat.web.keys import GATE, NODE, SETTINGS, SOCKETS
from bridgechat.web.static import StaticFiles

log = logging.getLogger("bridgechat.app")



def static_root(settings: Settings) -> Path:
    if settings.static_dir is not None:
        return settings.static_dir.resolve()
    packaged = Path(str(resources.files("bridgechat"))) / "client_web"
    if packaged.is_dir():
        return packaged.resolve()
    # A checkout (server/bridgechat/web/app.py): client_web/ sits beside server/.
    return (Path(__file__).resolve().parents[3] / "client_web").resolve()


def make_broker(settings: Settings, node: str) -> Broker:
    if settings.redis:
        from bridgechat.broker.redis import RedisBroker

        return RedisBroker(settings.redis, node, history=settings.history)
    return MemoryBroker(history=settings.history)


def create_app(settings: Settings) -> web.Application:
    app = web.Application()
    app[SETTINGS] = settings
    app[SOCKETS] = set()
    app[GATE] = Gate(settings)

    async def metrics_listener(app: web.Application) -> AsyncIterator[None]:
        """/metrics on its own port (off unless asked for): bound first, before anything
        is created, so a port in use fails the start with nothing left behind."""
        listener = await open_listener(settings.metrics_listen)
        if listener is None:
            yield
            return
        app[LISTENER] = listener
        yield
        await listener.close()

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        settings.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        store = Store(settings.database or sqlite_url(settings.data_dir))
        node_id = secrets.token_hex(6)
        broker = make_broker(settings, node_id)
        node = Node(settings, store, broker, load_deck(settings.deck), node_id=node_id)
        seated = restart.load(broker, settings.data_dir, load_key(settings)) \
            if isinstance(broker, MemoryBroker) else set()
        await node.start()
        for member in seated:  # their sockets closed with the old process
            await node.life.drop_member(member)
        app[NODE] = node
        # Everything loaded so far (the libraries, the deck: some 10^5 objects) lives
        # as long as the process: out of the collector's sight, a full collection
        # no longer stalls every member's chat for tens of milliseconds.
        gc.collect()
        gc.freeze()

        async def heartbeat() -> None:
            node.sweep()

        async def forget_addresses() -> None:
            # Per-address counts that say no more than a fresh one would: dropped once a
            # minute, so they live about as long as the limit needs them, not until a cap.
            now = time.monotonic()
            app[GATE].prune(now)
            node.members.newcomers.prune(now)

        tasks = [
            asyncio.create_task(every(settings.tick, node.queue.tick, "match")),
            asyncio.create_task(every(1.0, node.housekeeping, "housekeeping")),
            # A quarter of the interval: a silent member is pinged within 1.25x of it.
            asyncio.create_task(every(settings.heartbeat / 4, heartbeat, "heartbeat")),
            asyncio.create_task(every(60.0, forget_addresses, "forget addresses")),
        ]
        listener = app.get(LISTENER)
        if listener is not None:
            probes = Probes(node.metrics, broker, redis=settings.redis is not None)
            listener.serve(node.metrics, probes.refresh)
            tasks.append(asyncio.create_task(probes.watch()))
        yield
        await stop(tasks)
        if isinstance(broker, MemoryBroker):
            restart.save(broker, settings.data_dir, load_key(settings))
        await node.stop()
        store.close()

    async def going_away(app: web.Application) -> None:
        sockets: set[web.WebSocketResponse] = app[SOCKETS]
        for ws in tuple(sockets):
            await ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutting down")

    app.cleanup_ctx.append(metrics_listener)
    app.cleanup_ctx.append(lifecycle)
    app.on_shutdown.append(going_away)
    app.on_response_prepare.append(handlers.security_headers)
    app.router.add_get("/healthz", handlers.healthz)
    app.router.add_get("/readyz", handlers.readyz)
    app.router.add_get("/ws", handlers.member_socket)
    setup_moderation(app)  # after `lifecycle` (it needs the node), before the static catch-all
    setup_privacy(app)  # likewise: /api/me, /api/impact, the retention job
    files = StaticFiles(static_root(settings))
    setup_events(app, files)  # likewise: /api/events, /e/{slug}, the sign-ups' retention
    app.router.add_get("/{tail:.*}", files.handle)
    return app
