"""Hand-matching's explainer (matching/hand.py), without sockets: what a moderator may not
overrule, why the matcher had not paired the members, and the room it would open."""

from __future__ import annotations

from collections.abc import Sequence

from bridgechat.matching import Constraints, Ticket, because, check_hand
from bridgechat.matching.hand import HARD
from test_matching import DEFAULT, DIMS, NONE, OLD, YOUNG, pair, ticket

NOW = 100.0


def check(tickets: Sequence[Ticket], wanted: Sequence[str] | None = None,
          constraints: Constraints = NONE, paused: Sequence[str] = ()
          ) -> tuple[str | None, list[str]]:
    found = check_hand([t.id for t in tickets] if wanted is None else wanted, tickets, NOW,
                       DIMS, constraints, DEFAULT, paused)
    assert (found.group is None) == (found.refused is not None)
    if found.refused is not None:
        assert found.refused.code in HARD and found.refused.message
    assert all(f.message for f in found.why_not)
    return (found.refused.code if found.refused else None), [f.code for f in found.why_not]


def test_a_pair_the_matcher_would_take_is_allowed_and_said_so() -> None:
    a = ticket("a", NOW - 30, profile=YOUNG)
    b = ticket("b", NOW - 30, profile=OLD)
    assert check([a, b]) == (None, ["would_match"])


def test_no_shared_prompt_is_explained_and_may_be_overruled() -> None:
    a = ticket("a", NOW - 5, prompts=("home", "work"), profile=YOUNG)
    b = ticket("b", NOW - 9, prompts=("food",), profile=OLD)
    assert check([a, b]) == (None, ["no_shared_prompt"])
    found = check_hand(["a", "b"], [a, b], NOW, DIMS)
    assert found.group is not None
    # The longest waiting member's prompt; nobody is told "you both chose" what they did not.
    assert found.group.prompt == "food"
    assert "prompt" not in {r.code for r in found.group.reasons}
    assert {t.id for t in found.group.tickets} == {"a", "b"}
    words = because(found.group, DIMS, "Food?")
    assert words and not any("chose" in w for w in words)


def test_same_answers_inside_the_bridge_wait() -> None:
    a = ticket("a", NOW - 1, profile=YOUNG)
    b = ticket("b", NOW - 1.5, profile=YOUNG)
    assert check([a, b]) == (None, ["bridge_wait"])
    # Past the bridge wait but before settling: the bar is still above no divide at all.
    c, d = ticket("c", NOW - 4, profile=YOUNG), ticket("d", NOW - 4, profile=YOUNG)
    assert check([c, d]) == (None, ["weak_bridge"])
    # The room the moderator opens says what holds: a shared prompt, no divide.
    found = check_hand(["a", "b"], [a, b], NOW, DIMS)
    assert found.group is not None
    assert [r.code for r in found.group.reasons] == ["prompt"]
    assert found.group.divides == ()


def test_different_languages_are_refused() -> None:
    a = ticket("a", NOW - 30, languages=("en",))
    b = ticket("b", NOW - 30, languages=("de",))
    assert check([a, b]) == ("different_languages", ["different_languages"])


def test_language_buddies_need_a_fit() -> None:
    learner = ticket("l", NOW - 30, languages=("de",), learning=("en",), mode="language_buddy")
    fluent = ticket("f", NOW - 30, languages=("en",), learning=("fr",), mode="language_buddy")
    other = ticket("o", NOW - 30, languages=("pl",), learning=("es",), mode="language_buddy")
    assert check([learner, fluent])[0] is None
    found = check_hand(["l", "f"], [learner, fluent], NOW, DIMS)
    assert found.group is not None and found.group.language == "en"
    assert "language_buddy" in {r.code for r in found.group.reasons}
    assert check([learner, other]) == ("different_languages", ["different_languages"])


def test_different_modes_meet_in_a_shared_language() -> None:
    a = ticket("a", NOW - 30, languages=("en", "de"), profile=YOUNG)
    b = ticket("b", NOW - 30, languages=("de",), learning=("en",), mode="language_buddy",
               profile=OLD)
    refused, why = check([a, b])
    assert refused is None and why == ["different_modes"]
    found = check_hand(["a", "b"], [a, b], NOW, DIMS)
    assert found.group is not None and found.group.language == "de"
    assert "language_buddy" not in {r.code for r in found.group.reasons}


def test_a_block_is_refused_whoever_blocked() -> None:
    a, b = ticket("a", NOW - 30), ticket("b", NOW - 30)
    blocked = Constraints(blocked=frozenset({pair("b", "a")}))
    assert check([a, b], constraints=blocked) == ("blocked", ["blocked"])


def test_a_recent_pair_is_explained_but_may_be_overruled() -> None:
    a, b = ticket("a", NOW - 30, profile=YOUNG), ticket("b", NOW - 30, profile=OLD)
    recent = Constraints(recent=frozenset({pair("a", "b")}))
    assert check([a, b], constraints=recent) == (None, ["recently_matched"])


def test_the_only_shared_prompt_paused_is_refused() -> None:
    a = ticket("a", NOW - 30, prompts=("home", "work"))
    b = ticket("b", NOW - 30, prompts=("home", "food"))
    assert check([a, b], paused=["home"]) == ("prompt_paused", ["prompt_paused"])
    # Another shared prompt still open: the room is on that one.
    c = ticket("c", NOW - 30, prompts=("home", "food"), profile=OLD)
    d = ticket("d", NOW - 30, prompts=("food", "home"), profile=YOUNG)
    found = check_hand(["c", "d"], [c, d], NOW, DIMS, paused={"home"})
    assert found.refused is None and found.group is not None and found.group.prompt == "food"
    # Nothing shared and everything they chose paused.
    e, f = ticket("e", NOW - 30, prompts=("home",)), ticket("f", NOW - 30, prompts=("work",))
    assert check([e, f], paused=["home", "work"])[0] == "prompt_paused"


def test_group_sizes_must_fit() -> None:
    a, b = ticket("a", NOW - 30), ticket("b", NOW - 30)
    trio = [ticket(n, NOW - 30, group=3) for n in "xyz"]
    assert check([a])[0] == "bad_group"
    assert check([a, b], wanted=["a", "a"])[0] == "bad_group"
    assert check([a, *trio[:1]]) == ("bad_group", ["different_sizes"])
    assert check(trio[:2])[0] == "bad_group"  # they asked for three
    refused, _ = check(trio)
    assert refused is None
    five = [ticket(n, NOW - 30, group=4) for n in "pqrst"]
    assert check(five)[0] == "bad_group"


def test_a_ticket_no_longer_waiting() -> None:
    a = ticket("a", NOW - 30)
    assert check([a], wanted=["a", "gone"]) == ("unknown_ticket", [])


def test_opposed_stances_pick_the_prompt_and_are_told() -> None:
    a = ticket("a", NOW - 30, prompts=("home", "work"), stances=(("work", "agree"),),
               profile=YOUNG)
    b = ticket("b", NOW - 30, prompts=("home", "work"), stances=(("work", "disagree"),),
               profile=OLD)
    found = check_hand(["a", "b"], [a, b], NOW, DIMS)
    assert found.group is not None and found.group.prompt == "work"
    codes = [r.code for r in found.group.reasons]
    assert codes[0] == "prompt" and "stances" in codes and "differs" in codes


def test_checking_changes_nothing_it_was_given() -> None:
    a = ticket("a", NOW - 30, prompts=("home",))
    b = ticket("b", NOW - 30, prompts=("home",))
    pool = [a, b]
    check_hand(["a", "b"], pool, NOW, DIMS, paused={"home"})
    assert pool == [a, b] and a.prompts == ("home",)
