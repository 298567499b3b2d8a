"""Both safety checks on one chat message, sharing one first look (docs/safety.md).

Every chat message passes the contact check (core/contact.py) and the watch
list (core/watch.py), and almost none holds anything either looks for. Each
check alone first asks an automaton whether the text holds any of its words:
two passes, two calls out of Python, the text lowered and encoded twice.
For an ASCII text (most chat) `SafetyChecks` asks once: one automaton holds
both sets of words, and reads the lowered text and, after a NUL that no word
holds, the same text without separators (where the watch list looks, and
where seven digits in a row stand for a possible phone number). Only a text
in which that finds something goes on to the slower parts, the same ones as
each check's own. Other texts go through each check as it stands. The
answers are the checks' own; tests/test_safety_core.py compares them over
the corpus. docs/performance.md has what this saves in a running server.
"""

from __future__ import annotations

from ahocorasick_rs import BytesAhoCorasick, Implementation

from bridgechat.core.contact import ContactCheck
from bridgechat.core.contact_words import ASCII_WORD_LIST
from bridgechat.core.watch import UNSEPARATED, WatchList

__all__ = ["SafetyChecks"]

CONTACT, WATCH, DIGITS = 1, 2, 4  # what a word of the shared automaton is for (or several)
# The unseparated half of the haystack: lower case, and every digit a 0, so that seven
# digits apart only by separators read "0000000", one more word for the automaton.
SQUASH = bytes.maketrans(b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ",
                         b"0000000000abcdefghijklmnopqrstuvwxyz")
SEVEN = b"0" * 7


class SafetyChecks:
    """The deck's checks: either may be None (turned off), not both."""

    __slots__ = ("automaton", "contact", "kinds", "watch")

    def __init__(self, contact: ContactCheck | None, watch: WatchList | None) -> None:
        if contact is None and watch is None:
            raise ValueError("no check to run")
        self.contact, self.watch = contact, watch
        kinds: dict[bytes, int] = {}
        if contact is not None:
            for word in ASCII_WORD_LIST:
                kinds[word.encode("ascii")] = CONTACT
            kinds[SEVEN] = DIGITS  # no word of the list holds a digit
        for word in watch.ascii_words if watch is not None else ():
            key = word.encode("ascii").translate(SQUASH)
            kinds[key] = kinds.get(key, 0) | WATCH
        words = list(kinds)
        self.kinds = [kinds[w] for w in words]
        self.automaton = BytesAhoCorasick(words, implementation=Implementation.DFA)

    def inspect(self, text: str, contact: bool = True) -> tuple[str | None, bool]:
        """(the kind of contact detail found, or None; whether a watched phrase is there)
        for a cleaned chat text. `contact` False: details may pass here, so none is sought."""
        seek = self.contact if contact else None
        if not text.isascii():
            return (seek.find(text) if seek is not None else None,
                    self.watch is not None and self.watch.hits(text))
        # Each call here costs more in a busy server than on its own (its code and tables
        # are out of the caches by the next message): as few as can be, and all in C.
        encoded = text.encode("ascii")
        raw = encoded.lower()
        end = len(raw)
        found = 0
        kinds = self.kinds
        # Overlapping matches: one word must not hide another that starts inside it.
        for i, start, _ in self.automaton.find_matches_as_indexes(
                b"\0".join((raw, encoded.translate(SQUASH, UNSEPARATED))), overlapping=True):
            found |= kinds[i] & (WATCH | DIGITS) if start > end else kinds[i] & CONTACT
        if not found:
            return None, False
        return (seek.find_ascii(text, raw, found & CONTACT != 0)
                if seek is not None and found & (CONTACT | DIGITS) else None,
                found & WATCH != 0 and self.watch is not None and self.watch.confirm(text))
