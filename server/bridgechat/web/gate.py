"""Who may open a member socket: a ceiling per node and per address, by keyed hash.

One address must not be able to take the node's sockets (and with them its
file descriptors) from everyone else. Each member socket is counted against
its address's keyed hash (privacy/addresses.py: the address itself is never
kept), and new handshakes from one address draw on a token bucket. The
numbers are settings, sized so that a school's or a library's members
behind one address are not refused (docs/security.md says why each).

Behind a reverse proxy every member seems to come from the proxy: with
`--trusted-proxy`, the member's address is read from `X-Forwarded-For`, and
only when the connection comes from one of those proxies.
"""

from __future__ import annotations

import ipaddress
import itertools
import time
from collections import Counter
from dataclasses import dataclass

from aiohttp import web

from bridgechat.privacy.addresses import AddressHasher
from bridgechat.settings import Settings

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
RETRY = {"Retry-After": "30"}
FULL = "This server is full. Please try again in a minute."
TOO_MANY = "Too many connections from your network. Please try again in a minute."
TOO_FAST = "Too many new connections from your network. Please try again in a minute."
# Buckets are forgotten once full again (they then say nothing a new one would not);
# pruning runs when this many are kept.
PRUNE_AT = 10_000


@dataclass(slots=True)
class Bucket:
    tokens: float
    filled: float


class Gate:
    def __init__(self, settings: Settings, hasher: AddressHasher | None = None) -> None:
        self.limit = settings.max_connections
        self.per_address = settings.connections_per_address
        self.burst = float(settings.connections_per_address)
        self.rate = settings.handshakes_per_minute / 60.0
        self.trusted: tuple[Network, ...] = tuple(
            ipaddress.ip_network(n, strict=False) for n in settings.trusted_proxies)
        self.hasher = hasher or AddressHasher()
        self.open: Counter[str] = Counter()
        self.total = 0
        self.buckets: dict[str, Bucket] = {}

    def address(self, peer: str | None, forwarded: str | None) -> str:
        """The member's address: the peer, or what a trusted proxy says it forwarded."""
        peer = peer or ""
        if not self.trusted or not forwarded or not self.is_trusted(peer):
            return peer
        # The rightmost address that is not one of our proxies: anything left of it
        # was written by the client and proves nothing.
        for hop in reversed([h.strip() for h in forwarded.split(",")]):
            if hop and not self.is_trusted(hop):
                return hop
        return peer

    def address_of(self, request: web.BaseRequest) -> str:
        """The member's (or moderator's) address for this request, by the rule above."""
        return self.address(request.remote, request.headers.get("X-Forwarded-For"))

    def is_trusted(self, ip: str) -> bool:
        try:
            addr = ipaddress.ip_address(ip)
        except ValueError:
            return False
        return any(addr in net for net in self.trusted)

    def admit(self, address: str, now: float | None = None
              ) -> tuple[web.HTTPException | None, str]:
        """(the refusal to raise, or None; the address's key). Admitted: counted until
        `leave(key)`. Refused: 503 when the node is full, 429 for one address."""
        now = time.time() if now is None else now
        key = self.hasher.hash(address, now)
        if self.total >= self.limit:
            return web.HTTPServiceUnavailable(text=FULL, headers=RETRY), key
        if self.open[key] >= self.per_address:
            return web.HTTPTooManyRequests(text=TOO_MANY, headers=RETRY), key
        if not self.draw(key, time.monotonic()):
            return web.HTTPTooManyRequests(text=TOO_FAST, headers=RETRY), key
        self.open[key] += 1
        self.total += 1
        return None, key

    def draw(self, key: str, now: float) -> bool:
        bucket = self.buckets.get(key)
        if bucket is None:
            if len(self.buckets) >= PRUNE_AT:
                self.prune(now)
            bucket = self.buckets[key] = Bucket(self.burst, now)
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.filled) * self.rate)
        bucket.filled = now
        if bucket.tokens < 1:
            return False
        bucket.tokens -= 1
        return True

    def prune(self, now: float) -> None:
        full = [k for k, b in self.buckets.items()
                if b.tokens + (now - b.filled) * self.rate >= self.burst]
        for k in full:
            del self.buckets[k]
        # Still crowded (many addresses, each busy): the oldest half goes, so pruning
        # stays rare. Their addresses start afresh, still bound by `per_address`.
        excess = len(self.buckets) - PRUNE_AT // 2
        for k in list(itertools.islice(self.buckets, max(0, excess))):
            del self.buckets[k]

    def leave(self, key: str) -> None:
        self.total -= 1
        left = self.open[key] - 1
        if left > 0:
            self.open[key] = left
        else:
            del self.open[key]
