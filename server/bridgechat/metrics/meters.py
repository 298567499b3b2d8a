"""One node's metrics, in a registry of its own (several nodes in one process never collide).

Every name starts with `bridgechat_`; docs/metrics.md lists each. Labels take
only small fixed sets: an error code of the protocol, a matching mode, a
number of divides. Never a member, a token, a room, a prompt or an address.

What is cheap on purpose: a relayed chat message costs one counter increment;
the children of labelled counters met on the hot path (errors by code) are
bound once, here, so counting allocates no label tuple. The gauges a node can
read from its own state (connections) are read when scraped, not kept up to date.
"""

from __future__ import annotations

import typing
from collections.abc import Callable, Iterable

import msgspec
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    disable_created_metrics,
)

from bridgechat.core import protocol
from bridgechat.core.protocol import Code

# No `_created` series beside each counter and histogram: Prometheus does not need them.
disable_created_metrics()  # type: ignore[no-untyped-call]  # no annotations upstream

MODES: frozenset[str] = frozenset(typing.get_args(protocol.Mode))
OTHER = "other"
# A deck has a handful of dimensions; a larger count (a custom deck) is told as "9+".
MAX_DIVIDES = 9

WAIT_BUCKETS = (0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800)
ROUND_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5)
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5)
LAG_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5)


class ErrorCode(msgspec.Struct):
    """The one field read back from an error frame the session made itself."""

    code: str


read_error = msgspec.json.Decoder(ErrorCode).decode


class NodeMetrics:
    """The meters of one node; `registry` is what /metrics exposes."""

    def __init__(self) -> None:
        self.registry = r = CollectorRegistry(auto_describe=True)
        self.connections = Gauge(
            "bridgechat_connections", "Member WebSockets open on this node.", registry=r)
        self.waiting = Gauge(
            "bridgechat_members_waiting",
            "Members in the waiting pool (shared by all nodes), read at scrape time.",
            registry=r)
        self.ready = Gauge(
            "bridgechat_ready",
            "1 if this node reaches what it shares with other nodes (as /readyz), else 0.",
            registry=r)
        self.wait = Histogram(
            "bridgechat_wait_seconds", "Seconds from join to matched, per matched member.",
            buckets=WAIT_BUCKETS, registry=r)
        self.matches = Counter(
            "bridgechat_matches", "Rooms opened by the matcher, by mode and divides crossed.",
            ["mode", "divides"], registry=r)
        self.relayed = Counter(
            "bridgechat_messages_relayed",
            "Chat messages numbered and passed on (a resend of a known message not again).",
            registry=r)
        self.errors = Counter(
            "bridgechat_errors", "Error frames sent to members, by the protocol's error code.",
            ["code"], registry=r)
        self.by_code = {c: self.errors.labels(c.value) for c in Code}
        self.rate_limited = Counter(
            "bridgechat_rate_limited", "Chat messages refused for coming too fast.",
            registry=r)
        self.nudges = Counter(
            "bridgechat_watch_nudges",
            "Chat messages holding a phrase of the deck's watch list (a count, nothing more).",
            registry=r)
        self.challenges = Counter(
            "bridgechat_challenges",
            "Proof-of-work challenges sent before a join (the bot barrier was on).",
            registry=r)
        self.proofs_refused = Counter(
            "bridgechat_proofs_refused",
            "Joins whose proof of work was forged, expired or already used.",
            registry=r)
        self.evictions = Counter(
            "bridgechat_outbox_evictions",
            "Members disconnected because they did not read their messages (outbox full).",
            registry=r)
        self.round = Histogram(
            "bridgechat_match_round_seconds", "Seconds one matching round computes.",
            buckets=ROUND_BUCKETS, registry=r)
        self.redis = Histogram(
            "bridgechat_redis_latency_seconds", "Seconds a Redis PING takes (every few s).",
            buckets=LATENCY_BUCKETS, registry=r)
        self.database = Histogram(
            "bridgechat_database_latency_seconds",
            "Seconds a store call takes, waiting for the store's thread included.",
            buckets=LATENCY_BUCKETS, registry=r)
        self.loop_lag = Histogram(
            "bridgechat_event_loop_lag_seconds",
            "How late the event loop woke a task that slept (sampled twice a second).",
            buckets=LAG_BUCKETS, registry=r)
        # Memory, CPU, open files and their limit: how close the process is to its limits.
        ProcessCollector(namespace="bridgechat", registry=r)

    def read_connections(self, count: Callable[[], int]) -> None:
        """The connections gauge asks `count` when scraped."""
        self.connections.set_function(count)

    def refused(self, code: Code) -> None:
        """An `error` frame answered a member's frame."""
        self.by_code[code].inc()
        if code is Code.RATE_LIMITED:
            self.rate_limited.inc()

    def error_frame(self, frame: bytes) -> None:
        """An `error` frame the session made by itself (already encoded): its code counted."""
        try:
            code = Code(read_error(frame).code)
        except (msgspec.DecodeError, ValueError):
            return
        self.refused(code)

    def matched(self, mode: str, divides: int, waited: Iterable[float]) -> None:
        """A room opened: its mode, how many divides it crosses, how long each member waited."""
        count = str(divides) if divides <= MAX_DIVIDES else f"{MAX_DIVIDES}+"
        self.matches.labels(mode if mode in MODES else OTHER, count).inc()
        for seconds in waited:
            self.wait.observe(max(0.0, seconds))
