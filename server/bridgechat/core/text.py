"""What a chat message's text may hold: something visible, and no direction overrides.

Two tricks get past a plain strip(): a message of only zero-width or control
characters (U+200B, U+2060, NUL...) shows as an empty line, and the
bidirectional overrides and isolates (U+202A-U+202E, U+2066-U+2069) make a
line display in another order than it was typed, so it can seem to say what
it does not. Members' pages show each message in its own element with
`dir="auto"`, so no message needs them: they are removed. Other format
characters stay (the zero-width joiner builds emoji and some scripts), but a
message must hold at least one character that is neither a control, a format
character nor a separator.

The common case costs one C-level call: printable ASCII, which has none of these.
"""

from __future__ import annotations

import re
import unicodedata

# ASCII controls but tab and newline, and the direction controls: removed. A regular
# expression, so that text with none of them costs one scan in C.
REMOVED = re.compile("[\x00-\x08\x0b-\x1f\x7f\u202a-\u202e\u2066-\u2069]")
INVISIBLE = frozenset({"C", "Z"})  # Cc, Cf, Cs, Co, Cn; Zs, Zl, Zp


def clean(text: str) -> str:
    """The text as it is relayed, without surrounding space; "" when nothing shows."""
    if text.isascii() and text.isprintable():
        return text.strip()
    text = REMOVED.sub("", text).strip()
    for c in text:
        if unicodedata.category(c)[0] not in INVISIBLE:
            return text
    return ""
