"""Client addresses, turned into keys for rate limits and never kept.

Why a keyed hash: a rate limit needs to know that two requests came from the
same place, not where that is. HMAC-SHA256 under a random salt that lives
only in this process's memory and is replaced every day gives a key that is
stable for one day and then useless: once the salt is dropped, nobody (the
operator, a subpoena, a thief with the disk) can tell which address a key
stood for, or link yesterday's keys to today's. Plausible Analytics counts
visitors the same way.

The salt is never written anywhere, so a restart also starts a new salt: a
limit may reset early, which is the safe direction. Several nodes each have
their own salt, so a limit counts per node. Pure: time comes in as an
argument, and the salt source can be replaced in tests.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
from collections.abc import Callable

DAY = 86400.0
SALT_BYTES = 32


def normalise(ip: str, ipv6_prefix: int = 64) -> str:
    """One spelling per address; an IPv6 address stands for its /64.

    Why the prefix: one IPv6 subscriber usually holds a whole /64 and can
    pick a fresh address from it for every request, which would make each
    request look like a new client.
    """
    try:
        addr = ipaddress.ip_address(ip.strip())
    except ValueError:
        return ip.strip().lower()
    if isinstance(addr, ipaddress.IPv6Address):
        mapped = addr.ipv4_mapped
        if mapped is not None:
            return str(mapped)
        return str(ipaddress.ip_network(f"{addr}/{ipv6_prefix}", strict=False))
    return str(addr)


class AddressHasher:
    """hash(ip, now): a key for `ip` that changes with the salt, every `period` seconds."""

    def __init__(self, period: float = DAY, *, ipv6_prefix: int = 64,
                 salt: Callable[[int], bytes] = secrets.token_bytes) -> None:
        if period <= 0:
            raise ValueError("the salt period must be positive")
        self.period = period
        self.ipv6_prefix = ipv6_prefix
        self._new_salt = salt
        self._salt: bytes | None = None
        self._epoch: int | None = None

    def _epoch_of(self, now: float) -> int:
        # Aligned to UTC days (with the default period), so every node of a
        # deployment changes salt at the same moment.
        return int(now // self.period)

    def hash(self, ip: str, now: float) -> str:
        """HMAC-SHA256 of the normalised address under the salt of `now`'s day, in hex."""
        epoch = self._epoch_of(now)
        if self._salt is None or epoch != self._epoch:
            self._salt = self._new_salt(SALT_BYTES)
            self._epoch = epoch
        data = normalise(ip, self.ipv6_prefix).encode()
        return hmac.digest(self._salt, data, hashlib.sha256).hex()

    def forget(self, now: float) -> bool:
        """Drop a salt whose day is over, even if no request came to replace it.

        Called by the retention job, so that a quiet night does not keep
        yesterday's salt (and with it the link to yesterday's addresses) alive.
        """
        if self._salt is not None and self._epoch != self._epoch_of(now):
            self._salt = None
            self._epoch = None
            return True
        return False
