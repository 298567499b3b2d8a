"""The bot barrier's pure core (core/barrier.py): when a join needs a proof, how hard its
puzzle is, and which proofs are good, with a hand-made clock and altcha as the solver."""

from __future__ import annotations

import base64
import json
import secrets
import time
from typing import Any

import pytest
from altcha import solve_challenge_v1
from bridgechat.core import protocol
from bridgechat.core.barrier import (
    BASE_COST,
    CHALLENGE_SECONDS,
    MAX_COST,
    NONCE_BYTES,
    SKEW,
    Barrier,
    Challenge,
    check,
    derive,
    issue,
)
from bridgechat.core.franking import FrankingKeys

NOW = 1_800_000_000.0


def keys(*created: float) -> FrankingKeys:
    k = FrankingKeys()
    for t in created or (0.0,):
        k.rotate(secrets.token_bytes(32), t)
    return k


def solve(c: Challenge) -> int:
    found = solve_challenge_v1(c.challenge, c.salt, c.algorithm, c.maxnumber)
    assert found is not None
    return found.number


def proof(c: Challenge, number: int | None = None, **change: Any) -> str:
    fields = {"algorithm": c.algorithm, "challenge": c.challenge,
              "number": solve(c) if number is None else number, "salt": c.salt,
              "signature": c.signature, **change}
    return base64.b64encode(json.dumps(fields).encode()).decode()


def made(k: FrankingKeys, cost: int = 1000, now: float = NOW, **kw: Any) -> Challenge:
    return issue(k, cost, now, secrets.token_bytes(NONCE_BYTES), **kw)


# -- the rule ------------------------------------------------------------------------


def test_auto_asks_nothing_below_the_threshold_then_asks_and_stops_after_the_flood() -> None:
    b = Barrier("auto", per_minute=10)
    assert [b.cost(NOW + i) for i in range(9)] == [0] * 9  # 9 joins in the minute
    assert b.cost(NOW + 9) == BASE_COST  # the 10th: at the threshold
    assert b.cost(NOW + 30) == BASE_COST
    # A minute on, the joins of the first 9.5 s have left the window: 2 are in it.
    assert b.cost(NOW + 69.5) == 0
    assert b.cost(NOW + 120) == 0  # the flood is over


def test_auto_cost_doubles_with_each_multiple_of_the_threshold_up_to_the_cap() -> None:
    b = Barrier("auto", per_minute=4)
    costs = [b.cost(NOW + i * 0.01) for i in range(40)]
    # The n-th join in the minute (from 1): n // 4 multiples of the threshold.
    assert costs[:3] == [0, 0, 0]
    assert costs[3] == costs[7 - 1] == 20_000
    assert costs[7] == 40_000 and costs[11] == 80_000 and costs[15] == 160_000
    assert costs[19] == 320_000 and costs[23] == 640_000
    assert costs[27] == MAX_COST == 1_000_000 and set(costs[27:]) == {MAX_COST}
    assert costs == sorted(costs)


def test_always_asks_at_the_base_cost_and_off_never_asks() -> None:
    always, off = Barrier("always", 120), Barrier("off", 120)
    assert {always.cost(NOW + i * 0.001) for i in range(1000)} == {BASE_COST}
    assert {off.cost(NOW + i * 0.001) for i in range(1000)} == {0}


def test_a_mode_or_threshold_that_cannot_be_is_refused() -> None:
    with pytest.raises(ValueError, match="auto, always, off"):
        Barrier("sometimes", 120)
    with pytest.raises(ValueError):
        Barrier("auto", 0)


# -- the puzzle ------------------------------------------------------------------------


def test_a_challenge_is_a_server_frame_of_altchas_v1_shape() -> None:
    k = keys()
    c = made(k, 5000)
    frame = json.loads(protocol.encode(c))
    assert frame == {"type": "challenge", "algorithm": "SHA-256", "challenge": c.challenge,
                     "maxnumber": 5000, "salt": c.salt, "signature": c.signature}
    assert c.salt.endswith(f"?expires={int(NOW + CHALLENGE_SECONDS)}&k={k.current}&")
    assert 0 <= solve(c) <= 5000


def test_a_solved_challenge_checks_out_once_spent_until_past_its_expiry() -> None:
    k = keys()
    c = made(k)
    spend = check(k, proof(c), NOW + 1)
    assert spend is not None
    assert spend.token == c.signature
    assert spend.until == int(NOW + CHALLENGE_SECONDS) + SKEW


def test_wrong_number_forged_signature_or_changed_fields_are_refused() -> None:
    k = keys()
    c = made(k)
    right = solve(c)
    assert check(k, proof(c, right + 1), NOW) is None
    assert check(k, proof(c, signature="0" * 64), NOW) is None
    # Signed under someone else's key: same puzzle, another signature.
    other = keys()
    assert check(k, proof(made(other)), NOW) is None
    # The salt as written by issue and nothing else: a repeated expiry is refused.
    later = int(NOW + 10 * CHALLENGE_SECONDS)
    assert check(k, proof(c, salt=f"expires={later}&" + c.salt), NOW) is None
    assert check(k, proof(c, salt=c.salt + f"expires={later}&"), NOW) is None
    assert check(k, proof(c, algorithm="SHA-1"), NOW) is None
    assert check(k, proof(c, number=-1), NOW) is None


def test_a_challenge_past_its_expiry_is_refused() -> None:
    k = keys()
    old = made(k, now=NOW - CHALLENGE_SECONDS - 5)
    assert check(k, proof(old), NOW) is None
    short = made(k, lifetime=2.0)
    good = proof(short)
    assert check(k, good, NOW + 1.0) is not None
    assert check(k, good, NOW + 3.0) is None


def test_anything_but_base64_json_of_the_five_fields_is_refused() -> None:
    k = keys()
    c = made(k)
    whole = json.loads(base64.b64decode(proof(c)))
    for bad in ["", "not base64!", base64.b64encode(b"[1, 2]").decode(),
                base64.b64encode(b'"algorithm challenge number salt signature"').decode(),
                base64.b64encode(b"\xff\xfe").decode(),
                base64.b64encode(json.dumps({**whole, "number": "7"}).encode()).decode(),
                base64.b64encode(json.dumps({**whole, "number": 2**70}).encode()).decode(),
                base64.b64encode(json.dumps(
                    {f: v for f, v in whole.items() if f != "signature"}).encode()).decode()]:
        assert check(k, bad, NOW) is None, bad


def test_every_key_still_held_checks_its_own_challenges() -> None:
    """A challenge names the key that signed it; after a rotation it still checks, and
    once that key is retired it no longer does."""
    k = keys(0.0)
    before = made(k)
    k.rotate(secrets.token_bytes(32), 100.0)
    after = made(k)
    assert after.salt.endswith("&k=2&") and before.salt.endswith("&k=1&")
    assert check(k, proof(before), NOW) is not None
    assert check(k, proof(after), NOW) is not None
    k.retire_before(50.0)
    assert check(k, proof(before), NOW) is None


def test_the_barriers_key_is_not_the_franking_key() -> None:
    k = keys()
    key = k.keys[k.current]
    assert derive(key) != key and len(derive(key)) == 32
    assert derive(key) == derive(key)


def test_a_challenge_needs_its_random_bytes() -> None:
    with pytest.raises(ValueError):
        issue(keys(), 1000, NOW, b"short")


def test_checking_a_proof_takes_microseconds() -> None:
    """What a node pays per proof (reported in docs/protocol.md): far less than a hash search."""
    k = keys()
    c = made(k, BASE_COST)
    good = proof(c)
    n = 2000
    began = time.perf_counter()
    for _ in range(n):
        assert check(k, good, NOW) is not None
    per = (time.perf_counter() - began) / n
    assert per < 0.002, f"{per * 1e6:.0f} µs a proof"
