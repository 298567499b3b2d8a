"""Loopback only: the address a benchmark connects to, and the many it connects from.

The benchmarks load a server on this machine and nothing else: every URL
must name an address in 127.0.0.0/8 (`localhost` is taken as 127.0.0.1).
Each client then connects from an address of its own in 127.0.0.0/8
(127.0.0.1, 127.0.0.2, ... 127.0.0.254, 127.0.1.1, ...), so whatever the
server limits per address (connections, hellos, sends) applies as it would
to that many real members, none sharing an address with another, and no
single source address runs out of ephemeral ports. Linux routes the whole
of 127.0.0.0/8 to the loopback interface: any of it can be bound as is.
"""

from __future__ import annotations

import ipaddress

from websockets.asyncio.client import ClientConnection, connect

LOOPBACK = ipaddress.IPv4Network("127.0.0.0/8")
SOURCES = 254 * 256 * 256  # 127.b.c.d with d in 1..254: no .0 or .255 host part


class NotLoopback(ValueError):
    """A URL that does not name this machine's IPv4 loopback."""


def loopback_host(host: str) -> str:
    """The 127.0.0.0/8 address to connect to for `host`, else NotLoopback."""
    if host.lower() == "localhost":
        return "127.0.0.1"
    try:
        addr = ipaddress.ip_address(host)
    except ValueError:
        addr = None
    if isinstance(addr, ipaddress.IPv4Address) and addr in LOOPBACK:
        return str(addr)
    if addr is not None and addr.is_loopback:
        raise NotLoopback(f"{host}: use 127.0.0.1 (the clients connect from many addresses "
                          "in 127.0.0.0/8; IPv6 loopback is a single address)")
    raise NotLoopback(f"{host or '(no host)'} is not a loopback address: the benchmarks "
                      "load a server on this machine only (127.0.0.0/8)")


def source_address(client: int) -> str:
    """The address client number `client` connects from (wraps after 16.6 million)."""
    n = client % SOURCES
    return f"127.{n // (254 * 256)}.{(n // 254) % 256}.{1 + n % 254}"


async def open_ws(url: str, client: int, *, open_timeout: float,
                  origin: str | None = None) -> ClientConnection:
    """A WebSocket to `url` (already checked loopback) from client `client`'s own address:
    no compression offered, no client pings, no proxy, frames up to 1 MiB."""
    extra = {"Origin": origin} if origin else None
    return await connect(url, compression=None, ping_interval=None, max_size=2**20,
                         open_timeout=open_timeout, additional_headers=extra, proxy=None,
                         local_addr=(source_address(client), 0))
