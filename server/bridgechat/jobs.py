"""Background jobs: run a coroutine every so often, surviving its failures."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger("bridgechat.jobs")


async def every(seconds: float, job: Callable[[], Awaitable[None]], name: str) -> None:
    """Run `job` forever; a failing round is logged and the next one runs."""
    while True:
        await asyncio.sleep(seconds)
        try:
            await job()
        except Exception:
            log.exception("background job failed", extra={"what": name})


async def stop(tasks: list[asyncio.Task[None]]) -> None:
    """Cancel background jobs and wait until each has stopped."""
    for t in tasks:
        t.cancel()
    for t in tasks:
        with contextlib.suppress(asyncio.CancelledError):
            await t
