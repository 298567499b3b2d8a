"""The bot barrier: a proof of work before `join`, asked for when joins come in a flood.

No third party, no cookie, nothing to click: the page solves a small puzzle
in a Web Worker (client_web/pow.js) and sends the answer with `join`.
docs/protocol.md ("Bot barrier") has the frames, docs/safety.md the figures.

The rule (`Barrier.cost`), per node, for each `join` that came without a
valid proof:

- off: never a challenge;
- always: a challenge every time, at BASE_COST;
- auto (the default): such joins are counted over the last minute; below
  `per_minute` no challenge, at n times `per_minute` a challenge of
  BASE_COST * 2**(n - 1), at most MAX_COST. When the flood passes, the
  count falls, and joins go through without one again.

The puzzle is altcha's v1 scheme: find the number n, 0 <= n <= maxnumber,
with SHA-256(salt + n) in hex equal to `challenge`. The challenge is signed
(HMAC-SHA256) under a key derived from the franking key named in its salt
(`k`), so every node can check any node's challenges with the keys they
already share, and its salt holds its expiry (`expires`, whole seconds).
`check` says whether a proof is ours, solved and unexpired, and returns the
token that spends it; spending it once across all nodes is the broker's
(`KeyRing.spend`).

Pure: the time, the keys and the randomness come in as arguments (altcha's
own expiry check reads the wall clock, so it is turned off and made here,
against `now`); hashing is computation, not I/O.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Literal

import msgspec

# altcha's v1 API, from its module (the package's own `..._v1` aliases are not re-exports
# that mypy --strict accepts): the same public functions.
from altcha.v1 import ChallengeOptions, Payload, create_challenge, verify_solution
from msgspec import Meta

from bridgechat.core.franking import FrankingKeys
from bridgechat.core.limits import WindowCounter
from bridgechat.core.protocol import ServerFrame

MODES = ("auto", "always", "off")
ALGORITHM: Literal["SHA-256"] = "SHA-256"
CHALLENGE_SECONDS = 120.0  # a challenge expires this long after it was made
BASE_COST = 20_000  # maxnumber at the threshold (and always, with --bot-barrier always)
MAX_COST = 1_000_000  # the cost stops doubling here
WINDOW = 60.0  # joins are counted over this many seconds
# The multiple of the threshold at which the cost reaches MAX_COST (7: the joins counted
# are at most this many times the threshold, plus one).
STEPS = (MAX_COST // BASE_COST).bit_length() + 1
# A spent proof is remembered this long past its expiry: nodes' clocks (and Redis's) differ.
SKEW = 60.0
LABEL = b"bridgechat bot barrier v1"
SALT_BYTES = 12
NONCE_BYTES = SALT_BYTES + 8  # the salt, then the number hidden in the challenge
# A salt as `issue` writes it, and nothing else: a salt with its parameters reordered,
# repeated or added to is refused before altcha reads it (an older altcha re-encoded
# them before hashing, so a repeated `expires` could have passed for another time).
SALT = re.compile(rf"[0-9a-f]{{{2 * SALT_BYTES}}}\?expires=([0-9]{{1,12}})&k=([0-9]{{1,9}})&")


class Challenge(ServerFrame, tag="challenge"):
    """Solve this, then send `join` again with its `proof` (docs/protocol.md)."""

    algorithm: str
    challenge: str
    maxnumber: int
    salt: str
    signature: str


class Proof(msgspec.Struct):
    """A solved challenge, as the client sends it: base64 of this JSON object."""

    algorithm: str
    challenge: str
    number: Annotated[int, Meta(ge=0)]
    salt: str
    signature: str


read_proof = msgspec.json.Decoder(Proof).decode


@dataclass(slots=True)
class Barrier:
    """Whether a join must bring a proof now, and how hard its puzzle is."""

    mode: str
    per_minute: int
    joins: WindowCounter = field(init=False)

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"the bot barrier is one of {', '.join(MODES)}, not {self.mode!r}")
        if self.per_minute < 1:
            raise ValueError("the bot barrier's threshold must be 1 join a minute or more")
        self.joins = WindowCounter(self.per_minute * STEPS, WINDOW)

    def cost(self, now: float) -> int:
        """Count one join that came without a valid proof; the `maxnumber` of the
        challenge it gets (0: none, the join goes on)."""
        if self.mode == "off":
            return 0
        if self.mode == "always":
            return BASE_COST
        times = self.joins.hit(now) // self.per_minute
        return 0 if times < 1 else min(MAX_COST, BASE_COST << (times - 1))


@dataclass(frozen=True, slots=True)
class Spend:
    """A valid proof: spend `token` (its challenge's signature) once, remembered until `until`."""

    token: str
    until: float


def derive(key: bytes) -> bytes:
    """The barrier's HMAC key from a franking key (HMAC-SHA256 with a fixed label), so a
    challenge's signature can never pass for a message's tag, nor the other way round."""
    return hmac.digest(key, LABEL, hashlib.sha256)


def issue(keys: FrankingKeys, cost: int, now: float, nonce: bytes,
          lifetime: float = CHALLENGE_SECONDS) -> Challenge:
    """A challenge of `maxnumber` `cost`, signed under the current key, expiring `lifetime`
    seconds from `now`. `nonce`: NONCE_BYTES from the caller's CSPRNG (salt and number)."""
    if len(nonce) < NONCE_BYTES:
        raise ValueError(f"a challenge needs {NONCE_BYTES} random bytes")
    kid = keys.current
    made = create_challenge(ChallengeOptions(
        algorithm=ALGORITHM, max_number=cost, hmac_key=derive(keys.keys[kid]),
        salt=nonce[:SALT_BYTES].hex(),
        number=int.from_bytes(nonce[SALT_BYTES:NONCE_BYTES]) % (cost + 1),
        expires=datetime.fromtimestamp(now + lifetime, UTC), params={"k": str(kid)}))
    return Challenge(made.algorithm, made.challenge, made.max_number, made.salt, made.signature)


def check(keys: FrankingKeys, proof: str, now: float) -> Spend | None:
    """The spend of a proof that solves a challenge of ours, unexpired at `now`; None for
    anything else (not base64 JSON of the five fields, another algorithm, a salt not as
    `issue` writes it, a key we no longer hold, a forged signature, a wrong number)."""
    try:
        p = read_proof(base64.b64decode(proof, validate=True))
    except (binascii.Error, ValueError, msgspec.DecodeError):
        return None
    if p.algorithm != ALGORITHM:
        return None
    ours = SALT.fullmatch(p.salt)
    if ours is None or now > (expires := int(ours[1])):
        return None
    key = keys.keys.get(int(ours[2]))
    if key is None:
        return None
    payload = Payload(ALGORITHM, p.challenge, p.number, p.salt, p.signature)
    solved, _ = verify_solution(payload, derive(key), False)
    return Spend(p.signature, expires + SKEW) if solved else None
