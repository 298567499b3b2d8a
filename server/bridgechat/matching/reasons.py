"""Plain words for matches: why two people were matched, and why nobody is found yet.

Texts come from the catalog (bridgechat.matching.catalog) keyed by reason
code, so a translation is one more catalog entry. A reason never carries a
bucket value, and `because` drops any dimension the operator did not mark as
disclosable even if one slipped in.
"""

from __future__ import annotations

from collections.abc import Sequence

from bridgechat.core.deck import Dimension
from bridgechat.matching.catalog import CATALOG, language_name
from bridgechat.matching.results import Group, Reason, Suggestion

__all__ = ["CATALOG", "Reason", "Suggestion", "because", "language_name", "suggestion_text"]


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
            # The label in the member's language only when the sentence is too.
            own = any(k in CATALOG.get(locale, {}) for k in keys)
            label = dim.label_in(locale) if own else dim.label
            out.append(_text(locale, *keys).format(label=label))
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
