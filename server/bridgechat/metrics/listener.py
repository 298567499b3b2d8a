"""/metrics on a listener of its own (`metrics_listen`, "HOST:PORT"), never the members' port.

An aiohttp AppRunner and TCPSite beside the members' one: the port can stay
inside a private network while the members' port faces the internet. The
text is made by prometheus-client (`choose_encoder` honours a scraper asking
for OpenMetrics). It serves nothing else: any other path is a 404.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

from aiohttp import web
from prometheus_client.exposition import choose_encoder

from bridgechat.metrics.meters import NodeMetrics

Refresh = Callable[[], Awaitable[None]]
# A scrape never waits longer than this on the refresh (the broker's readiness, the pool).
REFRESH_BUDGET = 3.0


def parse_listen(text: str) -> tuple[str | None, int]:
    """"HOST:PORT" ("127.0.0.1:9464", "[::1]:9464"; ":9464" is every interface)."""
    host, sep, port = text.strip().rpartition(":")
    if not sep or not port.isdigit() or int(port) > 65535:
        raise ValueError(f"metrics listen address must be HOST:PORT, not {text!r}")
    host = host.removeprefix("[").removesuffix("]")
    return host or None, int(port)


class MetricsListener:
    """The listener; it answers 503 until the node it reports on is there (`serve`)."""

    def __init__(self, listen: str) -> None:
        self.host, self.port = parse_listen(listen)
        self.metrics: NodeMetrics | None = None
        self.refresh: Refresh | None = None
        app = web.Application()
        app.router.add_get("/metrics", self.scrape)
        self.runner = web.AppRunner(app, access_log=None)

    async def start(self) -> None:
        await self.runner.setup()
        try:
            await web.TCPSite(self.runner, self.host, self.port).start()
        except BaseException:
            await self.runner.cleanup()
            raise

    def serve(self, metrics: NodeMetrics, refresh: Refresh | None = None) -> None:
        self.metrics, self.refresh = metrics, refresh

    @property
    def bound_port(self) -> int:
        """The port listened on (the one asked for, or the one given for port 0)."""
        return int(self.runner.addresses[0][1])

    async def close(self) -> None:
        self.metrics = self.refresh = None
        await self.runner.cleanup()

    async def scrape(self, request: web.Request) -> web.Response:
        metrics, refresh = self.metrics, self.refresh
        if metrics is None:
            raise web.HTTPServiceUnavailable(text="The node is starting.")
        if refresh is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(refresh(), REFRESH_BUDGET)
        encode, content_type = choose_encoder(request.headers.get("Accept", ""))
        return web.Response(body=encode(metrics.registry),
                            headers={"Content-Type": content_type, "Cache-Control": "no-store"})


async def open_listener(listen: str | None) -> MetricsListener | None:
    """The listener, listening; None when metrics are off."""
    if not listen:
        return None
    listener = MetricsListener(listen)
    await listener.start()
    return listener


LISTENER = web.AppKey("metrics_listener", MetricsListener)
