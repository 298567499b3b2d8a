"""What travels on a member's Redis channel: an envelope that names its kind.

Each pub/sub message on `bc:m:{member}` is one kind byte, written by the
sender, followed by the body; the listener reads the kind and never looks
inside the body to guess it. One kind per meaning:

| kind | body | the receiving node calls |
| --- | --- | --- |
| `f` (FRAME) | an encoded frame | `inbox.deliver(member, frame)` |
| `s` (SAID) | a `Said` as a JSON array (as history keeps it) | `inbox.hear((member,), said)` |
| `c` (CUT) | an encoded frame (the error to show) | `inbox.cut(member, frame)` |

The send script (redis_send.py) writes SAID envelopes; it is handed the kind
byte from here as an argument, so the byte is written down once.
"""

from __future__ import annotations

FRAME = b"f"
SAID = b"s"
CUT = b"c"
KINDS = (FRAME, SAID, CUT)


def seal(kind: bytes, body: bytes) -> bytes:
    """The envelope for one body of this kind."""
    if kind not in KINDS:
        raise ValueError(f"unknown envelope kind {kind!r}")
    return kind + body


def kind_of(envelope: bytes) -> bytes:
    """The envelope's kind (one of KINDS, or something unknown to be dropped)."""
    return envelope[:1]


def body_of(envelope: bytes) -> bytes:
    return envelope[1:]
