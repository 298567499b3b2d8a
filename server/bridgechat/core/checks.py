"""Both safety checks on one chat message, sharing one first look (docs/safety.md).

Every chat message passes the contact check (core/contact.py) and the watch
list (core/watch.py), and almost none holds anything either looks for. Each
check alone first asks an automaton whether the text holds any of its words:
two passes, two calls out of Python, the text lowered and encoded twice.
For an ASCII text (most chat) `SafetyChecks` asks once: one automaton holds
both sets of words, and reads the lowered text and, after a NUL that no word
holds, the same text without separators (where the watch list looks). Only a
text in which that finds something, or with seven digits, goes on to the
slower parts. Other texts go through each check as it stands. The answers
are the same as the checks' own; tests/test_safety_core.py compares them over
the corpus.
"""

from __future__ import annotations

from ahocorasick_rs import BytesAhoCorasick, Implementation

from bridgechat.core.contact import ContactCheck
from bridgechat.core.contact_words import ASCII_WORD_LIST
from bridgechat.core.watch import UNSEPARATED, WatchList

__all__ = ["SafetyChecks"]

CONTACT, WATCH = 1, 2  # what a word of the shared automaton is for (both, for a few)


class SafetyChecks:
    """The deck's checks: either may be None (turned off), not both."""

    __slots__ = ("automaton", "contact", "kinds", "watch")

    def __init__(self, contact: ContactCheck | None, watch: WatchList | None) -> None:
        if contact is None and watch is None:
            raise ValueError("no check to run")
        self.contact, self.watch = contact, watch
        kinds: dict[bytes, int] = {}
        for word in ASCII_WORD_LIST if contact is not None else ():
            kinds[word.encode("ascii")] = CONTACT
        for word in watch.ascii_words if watch is not None else ():
            key = word.encode("ascii")
            kinds[key] = kinds.get(key, 0) | WATCH
        words = list(kinds)
        self.kinds = [kinds[w] for w in words]
        # Overlapping matches: one word must not hide another that starts inside it.
        self.automaton = BytesAhoCorasick(words, implementation=Implementation.DFA)

    def inspect(self, text: str, contact: bool = True) -> tuple[str | None, bool]:
        """(the kind of contact detail found, or None; whether a watched phrase is there)
        for a cleaned chat text. `contact` False: details may pass here, so none is sought."""
        seek = self.contact if contact else None
        if not text.isascii():
            return (seek.find(text) if seek is not None else None,
                    self.watch is not None and self.watch.hits(text))
        raw = text.lower().encode("ascii")
        end = len(raw)
        words = watched = False
        kinds = self.kinds
        for i, start, stop in self.automaton.find_matches_as_indexes(
                raw + b"\0" + raw.translate(None, UNSEPARATED), overlapping=True):
            if start > end:
                watched = watched or kinds[i] & WATCH != 0
            elif stop <= end:
                words = words or kinds[i] & CONTACT != 0
        return (seek.find_ascii(text, raw, words) if seek is not None else None,
                watched and self.watch is not None and self.watch.confirm(text))
