"""Does a text hold any of a fixed set of words? The safety checks' first question.

Both the contact check and the watch list first ask whether a message holds
any of a few dozen words ("insta", "mail", "dot"; the watched phrases), and
almost every message does not. A regular expression answers by trying every
branch at every position, which costs a few microseconds on a line of chat;
an Aho-Corasick automaton (the Rust `ahocorasick_rs` package) reads the text
once, whatever the number of words, and answers in a fraction of that.
Measured in docs/performance.md ("What the safety checks cost").
"""

from __future__ import annotations

from collections.abc import Iterable

from ahocorasick_rs import AhoCorasick, BytesAhoCorasick, Implementation

__all__ = ["Substrings"]


class Substrings:
    """A fixed set of words, to look for anywhere in a text (not only at word starts)."""

    __slots__ = ("ascii", "automaton")

    def __init__(self, words: Iterable[str]) -> None:
        unique = sorted({w for w in words if w})
        # A DFA: more memory than the default for a few dozen words, and faster to read with.
        self.automaton = AhoCorasick(unique, implementation=Implementation.DFA) if unique else None
        # Most messages are ASCII: as bytes, the automaton need not count characters.
        ascii_words = [w.encode("ascii") for w in unique if w.isascii()]
        self.ascii = (BytesAhoCorasick(ascii_words, implementation=Implementation.DFA)
                      if ascii_words else None)

    def any_in(self, text: str) -> bool:
        automaton = self.automaton
        return automaton is not None and bool(automaton.find_matches_as_indexes(text))

    def any_in_ascii(self, text: bytes) -> bool:
        """`any_in` for a text known to be ASCII, encoded: the same answer, sooner."""
        automaton = self.ascii
        return automaton is not None and bool(automaton.find_matches_as_indexes(text))
