"""`bridgechat bench`: benchmarks that print figures.

    relay        bridgechat.bench.relay        load generator: throughput, latency, server CPU
    connections  bridgechat.bench.connections  server memory per idle connection
    matching     bridgechat.bench.matching     the matching rounds, in process
    soak         bridgechat.bench.soak         steady load for minutes: memory growth, latency drift
    flood        bridgechat.bench.flood        one address floods: is it refused, do others notice?
    day          bridgechat.bench.day          a conversation day: sign-ups, lobby, batch, chat

relay, connections, soak and day are clients of a running server and need the `bench`
extra (`websockets`); nothing else in bridgechat imports it. Each module is
imported only when its benchmark runs, so `bridgechat` itself starts
without the extra, and `main` says what to install instead of a traceback.
"""

from __future__ import annotations

import importlib
import sys

BENCHMARKS = ("relay", "connections", "matching", "soak", "flood", "day")
# Top-level modules that only the bench extra installs.
EXTRA_MODULES = frozenset({"websockets"})
NEEDS_EXTRA = "bridgechat bench needs the bench extra: pip install 'bridgechat[bench]'"


def main(what: str, argv: list[str]) -> int:
    """Run benchmark `what` with its own command line `argv`; its exit status.

    2 for an unknown benchmark, or when the bench extra is not installed."""
    if what not in BENCHMARKS:
        print(f"unknown benchmark {what!r}", file=sys.stderr)
        return 2
    try:
        module = importlib.import_module(f"bridgechat.bench.{what}")
    except ImportError as exc:
        if (exc.name or "").partition(".")[0] not in EXTRA_MODULES:
            raise
        print(NEEDS_EXTRA, file=sys.stderr)
        return 2
    code: int = module.main(argv)
    return code
