"""Plain words for matches: why two people were matched, and why nobody is found yet.

Texts come from a catalog keyed by reason code, so a translation is one more
catalog entry. A reason never carries a bucket value, and `because` drops any
dimension the operator did not mark as disclosable even if one slipped in.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from server.deck import Dimension

if TYPE_CHECKING:
    from server.matching import Group

__all__ = ["CATALOG", "Reason", "Suggestion", "because", "language_name", "suggestion_text"]


@dataclass(frozen=True, slots=True)
class Reason:
    """One thing `because` will say about a match."""

    code: str
    dimension: str | None = None
    language: str | None = None


@dataclass(frozen=True, slots=True)
class Suggestion:
    """Why a member has nobody to be matched with, and what might help."""

    code: str  # no_prompt | no_language | no_mode | quiet
    text: str = ""
    prompt: str | None = None
    language: str | None = None
    mode: str | None = None
    group: int | None = None


# Keys: a reason code, optionally ".group" for rooms of three or four, and for
# "differs" optionally the dimension id, most specific first.
CATALOG: Mapping[str, Mapping[str, str]] = {
    "en": {
        "again": "You both asked to meet again",
        "again.group": "Some of you asked to meet again",
        "prompt": "You both chose this prompt",
        "prompt.group": "You all chose this prompt",
        "prompt.text": "You both chose “{prompt}”",
        "prompt.text.group": "You all chose “{prompt}”",
        "language_buddy": "One of you speaks {language} fluently and the other is learning it",
        "language_buddy.group": "Some of you speak {language} fluently and some are learning it",
        "generations": "You are from different generations",
        "generations.group": "Your group spans different generations",
        "differs": "You gave different answers to “{label}”",
        "differs.group": "Your group gave different answers to “{label}”",
        "differs.age_band": "You are in different age groups",
        "differs.age_band.group": "Your group spans different age groups",
        "differs.origin": "You have different stories of where you come from",
        "differs.origin.group": "Your group has different stories of where you come from",
        "differs.area": "You live in different kinds of places",
        "differs.area.group": "Your group lives in different kinds of places",
        "differs.politics": "You lean differently in politics",
        "differs.politics.group": "Your group leans differently in politics",
        "stances": "You see this question differently",
        "stances.group": "Your group sees this question in different ways",
        "suggest.no_prompt": "Nobody waiting right now shares a prompt with you. "
                             "Try another prompt, such as “{prompt}”.",
        "suggest.no_prompt.none": "Nobody waiting right now shares a prompt with you. "
                                  "Try adding another prompt.",
        "suggest.no_language": "Nobody waiting right now speaks a language you chose. "
                               "If you also speak {language}, add it.",
        "suggest.no_language.none": "Nobody waiting right now speaks a language you chose. "
                                    "If you speak another language, add it.",
        "suggest.no_mode": "Others are waiting for your prompt, but chose {mode_words}. "
                           "You could choose that too.",
        "suggest.quiet": "Nobody else is waiting who can be matched with you right now. "
                         "You can keep waiting, or come back at a busier time.",
        "mode.bridge": "an ordinary conversation",
        "mode.language_buddy": "a language buddy",
        "mode.generations": "a conversation across generations",
        "size": "a group of {group}",
        "size.2": "a conversation for two",
    },
}

_LANGUAGES = {
    "ar": "Arabic", "bn": "Bengali", "de": "German", "el": "Greek", "en": "English",
    "es": "Spanish", "fa": "Persian", "fr": "French", "hi": "Hindi", "it": "Italian",
    "ja": "Japanese", "ko": "Korean", "nl": "Dutch", "pl": "Polish", "ps": "Pashto",
    "pt": "Portuguese", "ro": "Romanian", "ru": "Russian", "so": "Somali", "sv": "Swedish",
    "ti": "Tigrinya", "tr": "Turkish", "uk": "Ukrainian", "ur": "Urdu", "zh": "Chinese",
}


def language_name(code: str) -> str:
    """The English name of an ISO 639-1 code, or the code itself."""
    return _LANGUAGES.get(code, code)


def _text(locale: str, *keys: str) -> str:
    """The first catalog entry found, trying the locale before English."""
    for catalog in (CATALOG.get(locale, {}), CATALOG["en"]):
        for key in keys:
            if key in catalog:
                return catalog[key]
    raise KeyError(keys[0])


def _keys(base: str, group: bool) -> tuple[str, ...]:
    return (f"{base}.group", base) if group else (base,)


def because(group: Group, dimensions: Sequence[Dimension], prompt_text: str | None = None,
            locale: str = "en") -> list[str]:
    """Short plain-words reasons for a match, in the order they matter."""
    many = len(group.tickets) > 2
    shown = {d.id: d for d in dimensions if d.disclose}
    out: list[str] = []
    for r in group.reasons:
        if r.code == "prompt" and prompt_text:
            out.append(_text(locale, *_keys("prompt.text", many)).format(prompt=prompt_text))
        elif r.code == "differs":
            dim = shown.get(r.dimension or "")
            if dim is None:
                continue
            keys = (*_keys(f"differs.{dim.id}", many), *_keys("differs", many))
            out.append(_text(locale, *keys).format(label=dim.label))
        elif r.code == "language_buddy":
            name = language_name(r.language or "")
            out.append(_text(locale, *_keys(r.code, many)).format(language=name))
        else:
            try:
                out.append(_text(locale, *_keys(r.code, many)))
            except KeyError:
                continue  # an unknown code says nothing rather than something wrong
    return out


def suggestion_text(s: Suggestion, prompt_text: str | None = None, locale: str = "en") -> str:
    """Plain words for a Suggestion."""
    if s.code == "no_prompt":
        if s.prompt is None:
            return _text(locale, "suggest.no_prompt.none")
        shown = prompt_text or s.prompt
        return _text(locale, "suggest.no_prompt").format(prompt=shown)
    if s.code == "no_language":
        if s.language is None:
            return _text(locale, "suggest.no_language.none")
        return _text(locale, "suggest.no_language").format(language=language_name(s.language))
    if s.code == "no_mode":
        words = []
        if s.mode is not None:
            words.append(_text(locale, f"mode.{s.mode}"))
        if s.group is not None:
            words.append(_text(locale, f"size.{s.group}", "size").format(group=s.group))
        return _text(locale, "suggest.no_mode").format(mode_words=", ".join(words))
    return _text(locale, "suggest.quiet")
