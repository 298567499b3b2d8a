"""Moderator passwords: argon2id, hashed on worker threads, a few at a time.

Parameters are OWASP's minimum for argon2id (m = 19 MiB, t = 2, p = 1):
about 40 ms a hash here. Hashing runs off the event loop on a small pool;
at most `workers` run at once and at most `queue` more may wait, so a
flood of logins costs a bounded amount of memory and is refused beyond
that (`Busy`) instead of holding the server up.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

MEMORY_KIB = 19 * 1024
TIME_COST = 2
PARALLELISM = 1
# NIST SP 800-63B asks for at least 15 characters when a password is the only factor.
MIN_PASSWORD = 15
MAX_PASSWORD = 1024
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
ROLES = ("moderator", "admin")
T = TypeVar("T")

HASHER = PasswordHasher(time_cost=TIME_COST, memory_cost=MEMORY_KIB, parallelism=PARALLELISM,
                        hash_len=32, salt_len=16, type=Type.ID)


class Busy(Exception):
    """Too many password checks are already waiting; try again in a moment."""


def normal_username(name: str) -> str:
    return name.strip().lower()


def username_problem(name: str) -> str | None:
    """Plain words for what is wrong with a username, or None."""
    if not USERNAME.match(name):
        return ("A username is 1 to 64 characters: lower-case letters, digits, dot, dash "
                "or underscore, starting with a letter or digit.")
    return None


def password_problem(password: str) -> str | None:
    """Plain words for what is wrong with a new password, or None."""
    if len(password) < MIN_PASSWORD:
        return f"A password needs at least {MIN_PASSWORD} characters; a few words make a good one."
    if len(password) > MAX_PASSWORD:
        return f"A password may have at most {MAX_PASSWORD} characters."
    if not password.strip():
        return "A password cannot be only spaces."
    return None


def hash_password(password: str) -> str:
    """Blocking; for the command line. The server uses `Passwords.hash`."""
    return HASHER.hash(password)


def check(stored: str, password: str) -> tuple[bool, bool]:
    """(matches, needs a new hash). Blocking."""
    try:
        HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False, False
    return True, HASHER.check_needs_rehash(stored)


class Passwords:
    """Hashing and checking on a small pool of threads, with a bound on the backlog."""

    def __init__(self, workers: int = 2, queue: int = 16) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="argon2")
        self._slots = asyncio.Semaphore(workers)
        self._limit = workers + queue
        self._inside = 0
        # Checked against when a username is unknown, so the answer takes as long.
        self._dummy = HASHER.hash("not a password of anyone")

    async def _run(self, fn: Callable[..., T], *args: str, bounded: bool = True) -> T:
        if bounded and self._inside >= self._limit:
            raise Busy()
        self._inside += 1
        try:
            async with self._slots:
                loop = asyncio.get_running_loop()
                return await loop.run_in_executor(self._pool, fn, *args)
        finally:
            self._inside -= 1

    async def hash(self, password: str) -> str:
        return await self._run(HASHER.hash, password)

    async def check(self, stored: str | None, password: str,
                    bounded: bool = True) -> tuple[bool, bool]:
        """(matches, needs rehash); with no stored hash, spends the same time and fails.

        bounded False: the check waits for a thread however many already do (for checks
        from the slow lanes, which have a bound of their own)."""
        ok, rehash = await self._run(check, stored or self._dummy, password, bounded=bounded)
        return ok and stored is not None, rehash

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
