"""Sign-in limits cannot be turned against an account's owner (docs/moderation.md, "Signing in").

The attackers and the owner come from distinct loopback addresses (127.0.0.x: the
whole /8 reaches the server on Linux, and it tells them apart by the peer address).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest
from conftest import LiveServer
from modclient import Mod, moderated_server

# Small limits, so the tests run in seconds (every number is a setting).
ADDRESS_ATTEMPTS = 4
LIMITS = ("--login-address-attempts", str(ADDRESS_ATTEMPTS), "--login-name-delay", "0.1",
          "--login-hash-workers", "1", "--login-hash-queue", "1")


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    server = moderated_server(tmp_path_factory, *LIMITS)
    yield server
    server.stop()


async def sign_in(mod: Mod, name: str, deadline: float) -> list[int]:
    """Sign in as a person would: after a 503 `busy`, wait as told and try again."""
    statuses = []
    while True:
        reply = await mod.login(name)
        statuses.append(reply.status)
        if reply.status != 503 or time.monotonic() > deadline:
            return statuses
        await asyncio.sleep(min(float(reply.headers["Retry-After"]), 0.5))


async def test_the_owner_signs_in_during_an_attack_from_many_addresses(
        srv: LiveServer) -> None:
    attackers = [Mod(srv.url, f"127.0.0.{i}") for i in range(10, 30)]
    owner, again, other = (Mod(srv.url, f"127.0.0.{i}") for i in (200, 201, 202))
    try:
        # Five wrong guesses from five addresses: once, that locked "mo" out for 15 minutes.
        for mod in attackers[:5]:
            assert (await mod.login("mo", "a wrong guess of a password")).status == 401
        assert (await owner.login("mo")).status == 200

        # A sustained attack from 20 addresses, each up to its own limit and beyond, during
        # which the owner signs in from yet another address, and another account too.
        done = asyncio.Event()

        async def guess(mod: Mod, n: int) -> list[int]:
            statuses = []
            while not done.is_set():
                statuses.append((await mod.login("mo", f"wrong guess {n} {len(statuses)}")).status)
                await asyncio.sleep(0.02)
            return statuses

        attack = asyncio.gather(*(guess(m, i) for i, m in enumerate(attackers)))
        await asyncio.sleep(0.3)
        deadline = time.monotonic() + 20
        mine, theirs = await asyncio.gather(sign_in(again, "mo", deadline),
                                            sign_in(other, "ann", deadline))
        done.set()
        results = await attack
        assert mine[-1] == 200 and 429 not in mine, mine
        assert theirs[-1] == 200 and 429 not in theirs, theirs
        # The attackers got no right answer, and each was held to its address's attempts.
        for statuses in results:
            assert 200 not in statuses and statuses.count(401) <= ADDRESS_ATTEMPTS, statuses
    finally:
        for mod in (*attackers, owner, again, other):
            await mod.http.close()


async def test_busy_answers_use_no_attempts(srv: LiveServer) -> None:
    async with Mod(srv.url, "127.0.0.77") as mod:
        # At once, more guesses than the hashing threads take: some are answered 503.
        burst = await asyncio.gather(*(mod.login(f"nobody{i}", "a wrong guess of it")
                                       for i in range(ADDRESS_ATTEMPTS)))
        statuses = [r.status for r in burst]
        assert set(statuses) <= {401, 503} and 503 in statuses, statuses
        assert all(r.headers["Retry-After"] for r in burst if r.status == 503)
        # Only the checked guesses counted: the rest of the address's attempts are left.
        left = ADDRESS_ATTEMPTS - statuses.count(401)
        for i in range(left):
            assert (await mod.login(f"later{i}", "a wrong guess of it")).status == 401
        limited = await mod.login("ann")
        assert limited.status == 429 and limited.body["error"] == "rate_limited"
    async with Mod(srv.url, "127.0.0.78") as elsewhere:
        assert (await elsewhere.login("ann")).status == 200
