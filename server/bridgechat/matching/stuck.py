"""What to suggest to a member nobody in the pool can meet.

After a round, a member who has waited past Policy.stuck_after with nobody
left who could be matched with them is told the most useful change: another
prompt or language that others are waiting on, another mode or group size,
or that it is simply quiet. The diagnosis reads only what the tickets still
waiting offer and look for, never who they are, and it is apart from the
rules (bridgechat.matching.rules) because it changes nobody's match: it only
words the advice (bridgechat.matching.reasons puts the texts together).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from bridgechat.matching.pool import Pool
from bridgechat.matching.reasons import suggestion_text
from bridgechat.matching.results import Suggestion

__all__ = ["Diagnosis"]


class Diagnosis:
    """Why a member has nobody to meet, from the tickets still waiting."""

    def __init__(self, pool: Pool, left: Sequence[int]) -> None:
        self.pool = pool
        # What others offer, by (mode, size, role, language) and by (mode, size, prompt, role).
        self.prompts_by_lang: dict[tuple[str, int, str, str], Counter[str]] = {}
        self.langs_by_prompt: dict[tuple[str, int, str, str], Counter[str]] = {}
        self.modes_by_topic: dict[tuple[str, str], Counter[tuple[str, int]]] = {}
        for i in left:
            for mode, size, p, role, lang in pool.offers(i)[0]:
                self.prompts_by_lang.setdefault((mode, size, role, lang), Counter())[p] += 1
                self.langs_by_prompt.setdefault((mode, size, p, role), Counter())[lang] += 1
                if role == "f":
                    self.modes_by_topic.setdefault((p, lang), Counter())[(mode, size)] += 1

    def explain(self, stuck: Sequence[int]) -> dict[str, Suggestion]:
        """A Suggestion for each stuck ticket."""
        return {self.pool.t[i].id: self.suggestion(i) for i in stuck}

    def suggestion(self, i: int) -> Suggestion:
        """The most useful change for ticket i: another prompt, language, or mode."""
        t = self.pool.t[i]
        own, wants = self.pool.offers(i)
        prompts: Counter[str] = Counter()
        langs: Counter[str] = Counter()
        for mode, size, p, role, lang in dict.fromkeys(wants):
            prompts += self.prompts_by_lang.get((mode, size, role, lang), Counter())
            langs += self.langs_by_prompt.get((mode, size, p, role), Counter())
        for mode, size, p, role, lang in own:
            if (mode, size, p, role, lang) in wants:  # do not count oneself
                prompts[p] -= 1
                langs[lang] -= 1
        spoken = {*t.languages, *t.learning}
        other_prompts = [(-c, p) for p, c in prompts.items() if c > 0 and p not in t.prompts]
        other_langs = [(-c, lang) for lang, c in langs.items() if c > 0 and lang not in spoken]
        if other_prompts:
            return _suggest("no_prompt", prompt=min(other_prompts)[1])
        if other_langs:
            return _suggest("no_language", language=min(other_langs)[1])
        modes: Counter[tuple[str, int]] = Counter()
        for p in t.prompts:
            for lang in t.languages:
                modes += self.modes_by_topic.get((p, lang), Counter())
        modes.pop((t.mode, t.group), None)
        if modes:
            _, (mode, size) = min((-c, ms) for ms, c in modes.items())
            return _suggest("no_mode", mode=mode if mode != t.mode else None,
                            group=size if size != t.group else None)
        return _suggest("quiet")


def _suggest(code: str, prompt: str | None = None, language: str | None = None,
             mode: str | None = None, group: int | None = None) -> Suggestion:
    """A Suggestion with its English text."""
    s = Suggestion(code, "", prompt, language, mode, group)
    return Suggestion(code, suggestion_text(s), prompt, language, mode, group)
