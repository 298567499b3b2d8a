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
import importlib
import struct
from dataclasses import dataclass, field
from typing import Any

import msgspec

KEY_BYTES = 32
_KID = struct.Struct(">I")
_canonical = msgspec.json.Encoder().encode
_URLSAFE = bytes.maketrans(b"+/", b"-_")
_IPAD = bytes(x ^ 0x36 for x in range(256))
_OPAD = bytes(x ^ 0x5C for x in range(256))


def _builtin_sha256() -> Any:
    """CPython's own SHA-256 (`_sha2` from 3.12, `_sha256` before), else hashlib's.

    Why not OpenSSL's, which hashlib picks: a message usually finds the CPU
    idle and its caches cold, and there OpenSSL's generic digest path (a
    context copy, update and final through its provider layer) cost about
    20 us against 14 us for the compact built-in code, in the largest single
    item of a relayed message (bench/cold_path.py). Same function, same
    bytes; a test checks the tags against the standard library's hmac."""
    for name in ("_sha2", "_sha256"):
        try:
            return importlib.import_module(name).sha256
        except (ImportError, AttributeError):
            continue
    return hashlib.sha256


_sha256 = _builtin_sha256()


def _mac(inner0: Any, outer0: Any, payload: bytes) -> bytes:
    """HMAC-SHA256 (RFC 2104) from the key's two padded hash states, copied per
    message: the same bytes as hmac.digest, without setting up the key on every
    call."""
    inner = inner0.copy()
    inner.update(payload)
    outer = outer0.copy()
    outer.update(inner.digest())
    mac: bytes = outer.digest()
    return mac


def _pads(key: bytes) -> tuple[Any, Any]:
    """SHA-256 states after HMAC's inner and outer key blocks."""
    block = _sha256().block_size
    if len(key) > block:
        key = _sha256(key).digest()
    key = key.ljust(block, b"\0")
    return (_sha256(key.translate(_IPAD)), _sha256(key.translate(_OPAD)))


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(slots=True)
class FrankingKeys:
    """The current key and the retired ones that still verify, by key id."""

    keys: dict[int, bytes] = field(default_factory=dict)
    created: dict[int, float] = field(default_factory=dict)
    current: int = 0
    # key id -> (key, inner and outer hash states): HMAC set up once per key
    _states: dict[int, tuple[bytes, Any, Any]] = field(
        default_factory=dict, repr=False, compare=False)
    # The current key's id as the tag's first bytes, and its hash states; made by
    # the first `tag` after `load` or `rotate`.
    _signer: tuple[bytes, Any, Any] | None = field(default=None, repr=False, compare=False)

    def load(self, keys: dict[int, tuple[bytes, float]]) -> None:
        """Take the shared set of keys (from the broker); the newest one signs."""
        self.keys = {k: v[0] for k, v in keys.items()}
        self.created = {k: v[1] for k, v in keys.items()}
        self.current = max(keys, default=0)
        self._states.clear()
        self._signer = None

    def rotate(self, key: bytes, now: float) -> int:
        """Make `key` the one that signs from now on; older keys still verify."""
        if len(key) < KEY_BYTES:
            raise ValueError("franking keys must be at least 32 bytes")
        kid = self.current + 1
        self.keys[kid] = key
        self.created[kid] = now
        self.current = kid
        self._signer = None
        return kid

    def retire_before(self, cutoff: float) -> list[int]:
        """Forget keys (other than the current one) created before `cutoff`."""
        old = [k for k, t in self.created.items() if t < cutoff and k != self.current]
        for kid in old:
            del self.keys[kid]
            del self.created[kid]
            self._states.pop(kid, None)
        return old

    def tag(self, room: str, seq: int, sender: str, ts: str, text: str) -> str:
        """Tag one message under the current key: base64url of key id and MAC.

        Straight-line on purpose. A message usually finds the CPU's caches
        cold, where every Python call and lookup costs about a microsecond;
        this shape and the built-in SHA-256 took the tag from about 50 to
        28 µs there. A key id and a MAC are 36 bytes: never any `=`."""
        signer = self._signer
        if signer is None:
            kid = self.current
            signer = self._signer = (_KID.pack(kid), *self._states_of(kid, self.keys[kid]))
        prefix, inner0, outer0 = signer
        mac = _mac(inner0, outer0, _canonical([room, seq, sender, ts, text]))
        return binascii.b2a_base64(prefix + mac, newline=False).translate(_URLSAFE).decode()

    def verify(self, room: str, seq: int, sender: str, ts: str, text: str, tag: str) -> bool:
        """True only if `tag` was made by a key we still hold for exactly these fields."""
        try:
            raw = _unb64(tag)
        except (binascii.Error, ValueError):
            return False
        if len(raw) != _KID.size + hashlib.sha256().digest_size:
            return False
        kid = _KID.unpack(raw[: _KID.size])[0]
        key = self.keys.get(kid)
        if key is None:
            return False
        mac = _mac(*self._states_of(kid, key), _canonical([room, seq, sender, ts, text]))
        return hmac.compare_digest(mac, raw[_KID.size :])

    def _states_of(self, kid: int, key: bytes) -> tuple[Any, Any]:
        """The key's inner and outer hash states, made once per key."""
        states = self._states.get(kid)
        if states is None or states[0] is not key:
            states = self._states[kid] = (key, *_pads(key))
        return states[1], states[2]
