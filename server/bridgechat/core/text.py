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

import unicodedata

BIDI_CONTROLS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
# ASCII controls but tab and newline, and the direction controls, mapped to nothing.
REMOVED = str.maketrans({c: None for c in
                         [*(chr(i) for i in range(32) if chr(i) not in "\t\n"), "\x7f",
                          *BIDI_CONTROLS]})
INVISIBLE = frozenset({"C", "Z"})  # Cc, Cf, Cs, Co, Cn; Zs, Zl, Zp


def clean(text: str) -> str:
    """The text as it is relayed, without surrounding space; "" when nothing shows."""
    if text.isascii() and text.isprintable():
        return text.strip()
    text = text.translate(REMOVED).strip()
    for c in text:
        if unicodedata.category(c)[0] not in INVISIBLE:
            return text
    return ""
