"""The bot barrier at `join`: a proof of work while joins come in a flood.

The rule and the puzzle are pure (core/barrier.py); here are the clock, the
randomness, the shared keys, the broker that spends a proof once across all
nodes, and what the member is sent. docs/protocol.md, "Bot barrier".
"""

from __future__ import annotations

import secrets
import time

from bridgechat.core import protocol
from bridgechat.core.barrier import NONCE_BYTES, Barrier, check, issue
from bridgechat.core.protocol import Code, ProtocolError
from bridgechat.node.links import Link
from bridgechat.node.parts import Shared


class JoinBarrier:
    def __init__(self, shared: Shared) -> None:
        settings = shared.settings
        self.shared = shared
        self.rule = Barrier(settings.bot_barrier, settings.bot_barrier_per_minute)
        self.lifetime = settings.bot_barrier_seconds

    async def admit(self, link: Link, f: protocol.Join) -> bool:
        """True: the join goes on. False: the member got `error` (proof_required, or
        proof_invalid for a proof that is not good) and then a fresh `challenge`.

        A good proof is spent (once, on any node) and lets the join through, whatever
        the barrier asks of others now; it is not counted as a join of the flood,
        since its challenge was. When the barrier asks nothing, a bad proof is ignored."""
        shared = self.shared
        if self.rule.mode == "off" or not shared.keys.keys:
            return True
        now = time.time()
        code = Code.PROOF_REQUIRED
        if f.proof is not None:
            spend = check(shared.keys, f.proof, now)
            if spend is not None and await shared.broker.keys.spend(spend.token, spend.until):
                return True
            code = Code.PROOF_INVALID
        cost = self.rule.cost(now)
        if not cost:
            return True
        challenge = issue(shared.keys, cost, now, secrets.token_bytes(NONCE_BYTES),
                          self.lifetime)
        metrics = shared.metrics
        metrics.refused(link.refuse(f, ProtocolError(code)))
        if code is Code.PROOF_INVALID:
            metrics.proofs_refused.inc()
        link.send(challenge)
        metrics.challenges.inc()
        return False
