"""The load generator's client processes: how many, their file limit, their loop, their end.

Shared by `bench relay` and `bench connections`, which both spread their
clients over spawned processes, one per core they may use by default.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import multiprocessing as mp
import os
import resource
from collections.abc import Callable, Coroutine, Sequence
from multiprocessing.connection import Connection
from typing import Any


def usable_cpus() -> int:
    """Cores this process may run on (taskset narrows them), not the machine's."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def raise_nofile() -> int:
    """Lift this process's open-file limit to the hard limit (children inherit it)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 20)
    if soft < want:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def split(total: int, parts: int) -> list[tuple[int, int]]:
    """(first, count) for each part, as even as can be."""
    out, first = [], 0
    for i in range(parts):
        n = total // parts + (1 if i < total % parts else 0)
        out.append((first, n))
        first += n
    return [p for p in out if p[1] > 0]


def run_loop(main: Coroutine[Any, Any, None], use_uvloop: bool) -> None:
    """asyncio.run, on uvloop when asked and installed."""
    if use_uvloop:
        with contextlib.suppress(ImportError):
            loop_mod = importlib.import_module("uvloop")
            loop: asyncio.AbstractEventLoop = loop_mod.new_event_loop()
            with asyncio.Runner(loop_factory=lambda: loop) as runner:
                runner.run(main)
            return
    asyncio.run(main)


def spawn(target: Callable[[Any, Connection, Any], None], jobs: Sequence[Any]
          ) -> tuple[Any, list[tuple[Any, Connection]]]:
    """One spawned process per job, each given its job, its end of a pipe, and the queue
    all of them report on; returns that queue and (process, our end of its pipe) each."""
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    workers: list[tuple[Any, Connection]] = []
    for job in jobs:
        mine, theirs = ctx.Pipe()
        proc = ctx.Process(target=target, args=(job, theirs, out), daemon=True)
        proc.start()
        workers.append((proc, mine))
    return out, workers


def stop_workers(workers: list[tuple[Any, Any]], wait: float) -> None:
    """Ask each client process to stop, then make sure it has."""
    for _, pipe in workers:
        with contextlib.suppress(OSError):
            pipe.send(("stop",))
    for proc, _ in workers:
        proc.join(wait)
        if proc.is_alive():
            proc.terminate()
            proc.join(5)
