"""The watch list: phrases an operator wants members to be able to report in one tap.

A deck may list words and phrases per language (slurs, threats, requests for
photos). A message that holds one is relayed as usual; only its recipients
get a quiet `nudge` beside it ("This message may break the rules. Report
it?"). Nothing is stored and no moderator is told: this module only answers
yes or no, on the text of one message, and forgets it.

Both the phrases and each message are reduced to a skeleton before they are
compared, so that the easy disguises do not get through:
- NFKC folds full-width and styled letters (ｆｏｏ, 𝐟𝐨𝐨) to plain ones;
- format characters (zero-width space, joiner, soft hyphen...) are removed;
- case is folded;
- a letter that looks like an ASCII letter in another script (Cyrillic а,
  Greek ο) becomes that ASCII letter, by the Unicode confusables table that
  the `confusable_homoglyphs` package ships;
- runs of spaces and punctuation become one space ("send,  nudes" matches
  "send nudes"), and three or more single letters in a row are joined
  ("s.e.n.d" and "s e n d" are "send").
Phrases match whole words only: "ass" does not match "class".
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping

from confusable_homoglyphs import confusables

from bridgechat.core.protocol import ServerFrame
from bridgechat.core.substrings import Substrings


class Nudge(ServerFrame, tag="nudge"):
    """To the recipients of message `seq` only: it may break the rules; report it?"""

    room: str
    seq: int


SEPARATORS = re.compile(r"[\W_]+")
# In ASCII, the same characters removed by one C-level pass (the prefilter's text).
# (bytes.translate: str.translate deletes one character at a time, six times slower.)
UNSEPARATED = bytes(c for c in range(128) if not chr(c).isalnum())


def _fold_table() -> dict[int, str | None]:
    """str.translate's table: format characters removed, and each non-ASCII character
    that looks like one ASCII letter or digit turned into that one (lower case)."""
    table: dict[int, str | None] = {}
    for char, glyphs in confusables.confusables_data.items():
        if len(char) != 1 or char.isascii():
            continue
        for g in glyphs:
            c = g["c"]
            if len(c) == 1 and c.isascii() and c.isalnum():
                table[ord(char)] = c.lower()
                break
    # Format characters live in the first two planes and among the tags (plane 14).
    for cp in (*range(0x20000), *range(0xE0000, 0xE0080)):
        if unicodedata.category(chr(cp)) == "Cf":
            table[cp] = None
    return table


FOLD = _fold_table()
# Three or more single letters or digits in a row are one spaced-out word: "s e n d".
SPELLED = re.compile(r"(?<!\w)(?:\w ){2,}\w(?!\w)")


def skeleton(text: str) -> str:
    """The text as the watch list compares it (the module's docstring lists the steps)."""
    text = text.casefold()
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text).translate(FOLD)
    text = SEPARATORS.sub(" ", text).strip()
    if " " in text:
        text = SPELLED.sub(lambda m: m[0].replace(" ", ""), text)
    return text


class WatchList:
    """The deck's phrases in every language, as one expression over skeletons."""

    __slots__ = ("ascii_words", "pattern", "size", "squashed")

    def __init__(self, phrases: Mapping[str, Iterable[str]]) -> None:
        # Every language's phrases apply to every message: members of one room may
        # write in any of their languages.
        folded = sorted({s for group in phrases.values() for p in group if (s := skeleton(p))},
                        key=len, reverse=True)
        self.size = len(folded)
        self.pattern = (re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, folded)) + r")(?!\w)")
                        if folded else None)
        # The phrases without their spaces, to look for in a text without its separators:
        # what every match needs, and cheaper to search, so most messages stop there.
        # (Only the phrases all in ASCII: the others can never be in an ASCII text.)
        self.ascii_words = tuple(s.replace(" ", "") for s in folded if s.isascii())
        self.squashed = Substrings(self.ascii_words)

    def hits(self, text: str) -> bool:
        """Does the message hold a watched phrase?"""
        if self.pattern is None:
            return False
        low = text.casefold()
        if low.isascii() and not self.squashed.any_in_ascii(
                low.encode("ascii").translate(None, UNSEPARATED)):
            return False
        return self.pattern.search(skeleton(text)) is not None

    def confirm(self, text: str) -> bool:
        """`hits` without its first look, for a text core/checks.py found may hold one."""
        return self.pattern is not None and self.pattern.search(skeleton(text)) is not None
