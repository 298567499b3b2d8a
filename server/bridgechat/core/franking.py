"""Message franking: a tag on every relayed message, checked when reported.

The server keeps no message text. Each `message` frame carries
tag = HMAC-SHA256(key, [room, seq, from, ts, text]) under a secret key that
rotates; a reporter submits the frames as received and the server checks
each tag, so evidence cannot be forged and nothing is stored before a
report. Once a key is retired, messages tagged with it can no longer be
verified: that is the retention limit for reportable evidence, by design.

Pure: keys come in as bytes (the caller draws them from its CSPRNG).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import struct
from dataclasses import dataclass, field

import msgspec

KEY_BYTES = 32
KID = struct.Struct(">I")
canonical = msgspec.json.Encoder().encode
MAC_BYTES = hashlib.sha256().digest_size


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(slots=True)
class FrankingKeys:
    """The current key and the retired ones that still verify, by key id."""

    keys: dict[int, bytes] = field(default_factory=dict)
    created: dict[int, float] = field(default_factory=dict)
    current: int = 0
    # key id -> an HMAC with the key already set up, copied for each message
    # (the key's padding is hashed once per key, not once per message).
    macs: dict[int, hmac.HMAC] = field(default_factory=dict, repr=False, compare=False)

    def load(self, keys: dict[int, tuple[bytes, float]]) -> None:
        """Take the shared set of keys (from the broker); the newest one signs."""
        self.keys = {k: v[0] for k, v in keys.items()}
        self.created = {k: v[1] for k, v in keys.items()}
        self.current = max(keys, default=0)
        self.macs.clear()

    def rotate(self, key: bytes, now: float) -> int:
        """Make `key` the one that signs from now on; older keys still verify."""
        if len(key) < KEY_BYTES:
            raise ValueError("franking keys must be at least 32 bytes")
        kid = self.current + 1
        self.keys[kid] = key
        self.created[kid] = now
        self.current = kid
        return kid

    def retire_before(self, cutoff: float) -> list[int]:
        """Forget keys (other than the current one) created before `cutoff`."""
        old = [k for k, t in self.created.items() if t < cutoff and k != self.current]
        for kid in old:
            del self.keys[kid]
            del self.created[kid]
            self.macs.pop(kid, None)
        return old

    def tag(self, room: str, seq: int, sender: str, ts: str, text: str) -> str:
        """Tag one message under the current key: base64url of key id and MAC.

        The key's HMAC is set up once per key and copied for each message.
        A key id and a MAC are 36 bytes, so the base64 has no `=` to strip."""
        kid = self.current
        base = self.macs.get(kid)
        if base is None:
            base = self.macs[kid] = hmac.new(self.keys[kid], digestmod=hashlib.sha256)
        mac = base.copy()
        mac.update(canonical([room, seq, sender, ts, text]))
        return base64.urlsafe_b64encode(KID.pack(kid) + mac.digest()).decode()

    def verify(self, room: str, seq: int, sender: str, ts: str, text: str, tag: str) -> bool:
        """True only if `tag` was made by a key we still hold for exactly these fields.

        Rare (a report's evidence), so the HMAC is set up afresh each time."""
        try:
            raw = unb64(tag)
        except (binascii.Error, ValueError):
            return False
        if len(raw) != KID.size + MAC_BYTES:
            return False
        key = self.keys.get(KID.unpack(raw[: KID.size])[0])
        if key is None:
            return False
        mac = hmac.digest(key, canonical([room, seq, sender, ts, text]), hashlib.sha256)
        return hmac.compare_digest(mac, raw[KID.size :])
