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

from ahocorasick_rs import AhoCorasick

__all__ = ["Substrings"]


class Substrings:
    """A fixed set of words, to look for anywhere in a text (not only at word starts)."""

    __slots__ = ("automaton",)

    def __init__(self, words: Iterable[str]) -> None:
        unique = sorted({w for w in words if w})
        self.automaton = AhoCorasick(unique) if unique else None

    def any_in(self, text: str) -> bool:
        automaton = self.automaton
        return automaton is not None and bool(automaton.find_matches_as_indexes(text))
