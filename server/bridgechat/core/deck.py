"""The prompt deck: prompts members choose from and the profile dimensions.

An operator replaces the default (data/deck.toml) with `--deck FILE`
(read by bridgechat/deck_file.py). Parsing validates the whole file at once,
so a typo fails at start-up with the file's name and the field, not later in
a member's join.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any


class DeckError(ValueError):
    """The deck file is not usable; the message names the field."""


@dataclass(frozen=True, slots=True)
class Prompt:
    id: str
    text: str
    lang: str = "en"
    # language code -> the prompt in that language
    translations: dict[str, str] = field(default_factory=dict)

    def text_in(self, lang: str | None) -> tuple[str, str]:
        """(text, its language): the member's language where the deck has it."""
        if lang and lang != self.lang and lang in self.translations:
            return self.translations[lang], lang
        return self.text, self.lang


@dataclass(frozen=True, slots=True)
class Card:
    """A conversation card shown at a stage (icebreaker or reflect)."""

    stage: str
    text: str
    lang: str = "en"
    translations: dict[str, str] = field(default_factory=dict)

    def text_in(self, lang: str | None) -> str:
        return self.translations.get(lang or "", self.text)


@dataclass(frozen=True, slots=True)
class Dimension:
    id: str
    label: str
    buckets: tuple[str, ...]
    weight: float = 1.0
    # False: counts for matching but is never named to members.
    disclose: bool = True
    # Special-category data (GDPR Art. 9): the client asks for explicit opt-in.
    sensitive: bool = False
    translations: dict[str, str] = field(default_factory=dict)
    # Buckets that mark a member as under 18: contact details stay held for their rooms.
    minors: tuple[str, ...] = ()

    def label_in(self, lang: str | None) -> str:
        return self.translations.get(lang or "", self.label)


STAGES = ("icebreaker", "reflect")


@dataclass(frozen=True, slots=True)
class Safety:
    """The deck's `[safety]` table (docs/safety.md)."""

    # Hold back phone numbers, e-mails, links and handles until both agree. Always on
    # in a room with a member under 18 (a bucket in some dimension's `minors`).
    hold_contact_details: bool = True
    # language code -> the phrases that earn the recipient a nudge (core/watch.py)
    watch: dict[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Deck:
    prompts: tuple[Prompt, ...]
    dimensions: tuple[Dimension, ...]
    cards: tuple[Card, ...] = ()
    safety: Safety = Safety()

    def languages(self) -> tuple[str, ...]:
        """Every language the deck speaks: its prompts' and their translations'."""
        found = dict.fromkeys(p.lang for p in self.prompts)
        for p in self.prompts:
            found.update(dict.fromkeys(p.translations))
        return tuple(found)

    def has_minor(self, profile: Iterable[tuple[str, str]]) -> bool:
        """Does this profile mark its member as under 18?"""
        minors = {(d.id, b) for d in self.dimensions for b in d.minors}
        return bool(minors) and any(answer in minors for answer in profile)

    def cards_for(self, stage: str) -> tuple[Card, ...]:
        return tuple(c for c in self.cards if c.stage == stage)

    def prompt(self, prompt_id: str) -> Prompt | None:
        for p in self.prompts:
            if p.id == prompt_id:
                return p
        return None

    def dimension(self, dim_id: str) -> Dimension | None:
        for d in self.dimensions:
            if d.id == dim_id:
                return d
        return None


def _str(table: dict[str, Any], key: str, where: str) -> str:
    value = table.get(key)
    if not isinstance(value, str) or not value.strip():
        raise DeckError(f"{where}: `{key}` must be a non-empty string")
    return value


def _translations(table: dict[str, Any], where: str) -> dict[str, str]:
    raw = table.get("translations", {})
    if not isinstance(raw, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and v.strip() for k, v in raw.items()
    ):
        raise DeckError(f"{where}: `translations` must map language codes to text")
    return dict(raw)


def parse_deck(data: dict[str, Any], source: str = "deck") -> Deck:
    """Build a Deck from parsed TOML, checking every field."""
    prompts: list[Prompt] = []
    for i, raw in enumerate(data.get("prompts", [])):
        where = f"{source}: prompts[{i}]"
        prompts.append(Prompt(_str(raw, "id", where), _str(raw, "text", where),
                              raw.get("lang", "en"), _translations(raw, where)))
    cards: list[Card] = []
    for i, raw in enumerate(data.get("cards", [])):
        where = f"{source}: cards[{i}]"
        stage = _str(raw, "stage", where)
        if stage not in STAGES:
            raise DeckError(f"{where}: `stage` must be one of {', '.join(STAGES)}")
        cards.append(Card(stage, _str(raw, "text", where), raw.get("lang", "en"),
                          _translations(raw, where)))
    dims: list[Dimension] = []
    for i, raw in enumerate(data.get("dimensions", [])):
        where = f"{source}: dimensions[{i}]"
        buckets = raw.get("buckets")
        if not isinstance(buckets, list) or len(buckets) < 2 or not all(
            isinstance(b, str) for b in buckets
        ):
            raise DeckError(f"{where}: `buckets` must list at least two strings")
        weight = raw.get("weight", 1.0)
        if not isinstance(weight, int | float) or weight < 0:
            raise DeckError(f"{where}: `weight` must be a number >= 0")
        dims.append(Dimension(
            _str(raw, "id", where), _str(raw, "label", where), tuple(buckets), float(weight),
            bool(raw.get("disclose", True)), bool(raw.get("sensitive", False)),
            _translations(raw, where), _minors(raw, buckets, where),
        ))
    if not prompts:
        raise DeckError(f"{source}: the deck has no prompts")
    for kind, ids in (("prompt", [p.id for p in prompts]), ("dimension", [d.id for d in dims])):
        if len(set(ids)) != len(ids):
            raise DeckError(f"{source}: a {kind} id appears twice")
    return Deck(tuple(prompts), tuple(dims), tuple(cards), _safety(data.get("safety", {}), source))


def _minors(raw: dict[str, Any], buckets: list[str], where: str) -> tuple[str, ...]:
    minors = raw.get("minors", [])
    if not isinstance(minors, list) or not all(m in buckets for m in minors):
        raise DeckError(f"{where}: `minors` must list some of the dimension's buckets")
    return tuple(minors)


def _safety(raw: Any, source: str) -> Safety:
    where = f"{source}: safety"
    if not isinstance(raw, dict):
        raise DeckError(f"{where} must be a table")
    hold = raw.get("hold_contact_details", True)
    if not isinstance(hold, bool):
        raise DeckError(f"{where}: `hold_contact_details` must be true or false")
    watch = raw.get("watch", {})
    if not isinstance(watch, dict) or not all(
        isinstance(k, str) and isinstance(v, list) and all(isinstance(p, str) for p in v)
        for k, v in watch.items()
    ):
        raise DeckError(f"{where}: `watch` must map language codes to lists of phrases")
    return Safety(hold, {k: tuple(v) for k, v in watch.items()})

