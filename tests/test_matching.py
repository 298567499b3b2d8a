"""The matching engine: hard constraints, timing, modes, reasons, and properties."""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence

import networkx as nx
import pytest
from bridgechat.core.deck import Dimension
from bridgechat.matching import (
    Constraints,
    Group,
    Policy,
    RoundResult,
    Ticket,
    because,
    compatible,
    eta_s,
    fits,
    match_round,
    score_group,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

DIMS = (
    Dimension("age_band", "Your age", ("18-29", "30-44", "45-59", "60+")),
    Dimension("origin", "Where you are from", ("born_here", "settled", "newcomer")),
    Dimension("area", "Where you live", ("urban", "suburban", "rural")),
    Dimension("politics", "Your politics", ("left", "centre", "right"), 1.5, True, True),
    # Counts for matching, never named to members.
    Dimension("faith", "Your faith", ("none", "christian", "muslim", "other"), 1.0, False, True),
)
YOUNG = (("age_band", "18-29"), ("area", "urban"), ("origin", "newcomer"))
OLD = (("age_band", "60+"), ("area", "rural"), ("origin", "born_here"))
TICK = 0.25
NONE = Constraints()
DEFAULT = Policy()


def ticket(name: str, since: float = 0.0, prompts: Sequence[str] = ("home",),
           languages: Sequence[str] = ("en",), *, learning: Sequence[str] = (),
           profile: Iterable[tuple[str, str]] = (), stances: Iterable[tuple[str, str]] = (),
           mode: str = "bridge", group: int = 2) -> Ticket:
    return Ticket(name, f"m-{name}", tuple(prompts), tuple(languages), since, tuple(learning),
                  tuple(sorted(profile)), tuple(sorted(stances)), mode, group)


def pair(a: str, b: str) -> frozenset[str]:
    return frozenset((f"m-{a}", f"m-{b}"))


def members(group: Group) -> set[str]:
    return {t.id for t in group.tickets}


def simulate(arrivals: Sequence[Ticket], until: float, constraints: Constraints = NONE,
             policy: Policy = DEFAULT) -> dict[str, tuple[float, Group]]:
    """Tick every 0.25 s like the server; when and with whom each ticket was matched."""
    done: dict[str, tuple[float, Group]] = {}
    now, tick = 0.0, 0
    while now <= until:
        pool = [t for t in arrivals if t.since <= now and t.id not in done]
        for g in match_round(pool, now, DIMS, constraints, policy, seed=tick).groups:
            for t in g.tickets:
                done[t.id] = (now, g)
        now += TICK
        tick += 1
    return done


# -- hard constraints ------------------------------------------------------------


def test_compatible_needs_a_shared_prompt_and_language() -> None:
    a = ticket("a", prompts=("home", "work"), languages=("en", "fr"))
    assert compatible(a, ticket("b", prompts=("work",), languages=("fr",)))
    assert not compatible(a, ticket("c", prompts=("news",), languages=("en",)))
    assert not compatible(a, ticket("d", prompts=("home",), languages=("de",)))


def test_compatible_needs_same_mode_and_size() -> None:
    a = ticket("a")
    assert not compatible(a, ticket("b", mode="generations"))
    assert not compatible(a, ticket("c", group=3))
    assert not compatible(a, ticket("d", group=5))


def test_blocked_and_recent_pairs_are_not_compatible() -> None:
    a, b = ticket("a"), ticket("b")
    assert not compatible(a, b, Constraints(blocked=frozenset({pair("a", "b")})))
    assert not compatible(a, b, Constraints(recent=frozenset({pair("a", "b")})))
    # Both asked to meet again: the one-day rule gives way, a block never does.
    assert compatible(a, b, Constraints(recent=frozenset({pair("a", "b")}),
                                        again=frozenset({pair("a", "b")})))
    assert not compatible(a, b, Constraints(blocked=frozenset({pair("a", "b")}),
                                            again=frozenset({pair("a", "b")})))


def test_language_buddy_needs_fluent_where_the_other_learns() -> None:
    fluent = ticket("f", languages=("es",), mode="language_buddy")
    learner = ticket("l", languages=("en",), learning=("es",), mode="language_buddy")
    other = ticket("o", languages=("en",), learning=("es",), mode="language_buddy")
    assert compatible(fluent, learner)
    assert not compatible(learner, other)  # both learning, neither fluent


def test_never_matches_a_member_with_themselves() -> None:
    a = Ticket("a1", "same", ("home",), ("en",), 0.0, profile=YOUNG)
    b = Ticket("a2", "same", ("home",), ("en",), 0.0, profile=OLD)
    assert not match_round([a, b], 20.0, DIMS).groups


@pytest.mark.parametrize("kind", ["blocked", "recent"])
def test_blocked_or_recent_never_matched_even_when_alone(kind: str) -> None:
    a = ticket("a", profile=YOUNG)
    b = ticket("b", profile=OLD)
    blocked = frozenset({pair("a", "b")})
    constraints = Constraints(blocked=blocked) if kind == "blocked" else Constraints(recent=blocked)
    done = simulate([a, b], until=40.0, constraints=constraints)
    assert not done


def test_no_shared_language_or_prompt_never_matched() -> None:
    arrivals = [ticket("a", languages=("en",), profile=YOUNG),
                ticket("b", languages=("ar",), profile=OLD),
                ticket("c", prompts=("news",), profile=OLD)]
    assert not simulate(arrivals, until=40.0)


# -- timing (the wire contract) ----------------------------------------------------


def test_relaxation_schedule() -> None:
    p = Policy()
    assert p.bar(0.0) == p.bar(1.99) == 2.0
    assert p.bar(2.0) == 2.0
    assert p.bar(5.5) == pytest.approx(1.0)
    assert p.bar(p.settle) == p.bar(60.0) == 0.0
    assert p.settle <= p.max_wait - 0.25  # a tick late still keeps the 10 s promise


def test_strong_bridge_matched_on_the_first_tick() -> None:
    done = simulate([ticket("a", profile=YOUNG), ticket("b", profile=OLD)], until=5.0)
    assert done["a"][0] == 0.0


def test_pair_crossing_no_divide_waits_two_seconds_and_is_matched_within_ten() -> None:
    # Joined 0.1 s apart; the second ticket's own wait counts too.
    done = simulate([ticket("a", 0.0, profile=YOUNG), ticket("b", 0.1, profile=YOUNG)],
                    until=15.0)
    when = done["a"][0]
    assert when - 0.1 >= 2.0
    assert when - 0.1 <= 10.0
    assert not done["a"][1].divides


def test_compatible_pair_matched_within_ten_seconds_of_both_waiting() -> None:
    rng = random.Random(5)
    for trial in range(30):
        a = ticket("a", 0.0, profile=rng.choice([YOUNG, OLD, ()]))
        b = ticket("b", rng.uniform(0, 3), profile=rng.choice([YOUNG, OLD, ()]))
        done = simulate([a, b], until=15.0)
        assert "a" in done, trial
        assert done["a"][0] - b.since <= 10.0
        if not done["a"][1].divides and not done["a"][1].stances_crossed:
            assert done["a"][0] - b.since >= 2.0


def test_long_waiter_takes_a_partner_from_a_fresher_pair() -> None:
    # c waited past the settle point; a and b are fresh but bridge strongly.
    a = ticket("a", 9.0, profile=YOUNG)
    b = ticket("b", 9.0, profile=OLD)
    c = ticket("c", 0.0, profile=YOUNG, prompts=("home",))
    result = match_round([a, b, c], 9.5, DIMS)
    assert any("c" in members(g) for g in result.groups)


# -- the acceptance scenario ------------------------------------------------------------


def test_young_urban_newcomers_then_older_rural_members() -> None:
    young = [ticket(f"y{i}", 0.1 * i, profile=YOUNG) for i in range(20)]
    old = [ticket(f"o{i}", 2.0 + 0.1 * i, profile=OLD) for i in range(20)]
    done = simulate(young + old, until=30.0)
    groups = {id(g): g for _, g in done.values()}.values()
    assert len(done) == 40
    crossing = sum(1 for g in groups if "age_band" in g.divides and "area" in g.divides)
    assert crossing / len(groups) >= 0.9
    assert max(when for when, _ in done.values()) <= 5.0  # within seconds


# -- score, batch quality -------------------------------------------------------------


def test_batch_round_prefers_the_bridging_pairing() -> None:
    # First come, first served would pair y1 with y2 and o1 with o2.
    tickets = [ticket("y1", 0.0, profile=YOUNG), ticket("y2", 0.1, profile=YOUNG),
               ticket("o1", 0.2, profile=OLD), ticket("o2", 0.3, profile=OLD)]
    result = match_round(tickets, 3.0, DIMS)
    assert len(result.groups) == 2
    assert all(len(g.divides) == 3 for g in result.groups)


def test_opposite_stances_count_as_a_divide_and_pick_the_prompt() -> None:
    a = ticket("a", prompts=("home", "work"), stances=(("work", "agree"), ("home", "agree")))
    b = ticket("b", prompts=("home", "work"), stances=(("work", "disagree"), ("home", "agree")))
    g = score_group((a, b), 6.0, DIMS)
    assert g is not None and g.prompt == "work" and g.stances_crossed


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_close_to_the_exact_optimum(seed: int) -> None:
    rng = random.Random(seed)
    tickets = [random_ticket(rng, f"t{i}", now=20.0, pairs_only=True) for i in range(60)]
    result = match_round(tickets, 20.0, DIMS, seed=seed)
    graph = nx.Graph()
    for x, a in enumerate(tickets):
        for b in tickets[x + 1:]:
            g = score_group((a, b), 20.0, DIMS)
            if g is not None:
                graph.add_edge(a.id, b.id, weight=g.score)
    best = sum(graph[a][b]["weight"] for a, b in nx.max_weight_matching(graph))
    got = sum(g.score for g in result.groups)
    assert got >= 0.95 * best


# -- meet again, modes, groups ------------------------------------------------------------


def test_meet_again_pair_is_matched_first() -> None:
    # a would bridge far better with c, but a and b both asked to meet again.
    a = ticket("a", profile=YOUNG)
    b = ticket("b", profile=YOUNG)
    c = ticket("c", profile=OLD)
    again = Constraints(recent=frozenset({pair("a", "b")}), again=frozenset({pair("a", "b")}))
    result = match_round([a, b, c], 2.5, DIMS, again)
    g = next(g for g in result.groups if "a" in members(g))
    assert members(g) == {"a", "b"}
    assert g.again and g.reasons[0].code == "again"


def test_meet_again_pair_is_held_for_each_other_during_the_first_two_seconds() -> None:
    a, b, c = ticket("a", profile=YOUNG), ticket("b", profile=YOUNG), ticket("c", profile=OLD)
    again = Constraints(again=frozenset({pair("a", "b")}))
    assert not match_round([a, b, c], 1.0, DIMS, again).groups


def test_language_buddy_pairs_fluent_with_learner() -> None:
    tickets = [ticket("l1", languages=("ar",), learning=("en",), mode="language_buddy"),
               ticket("l2", languages=("uk",), learning=("en",), mode="language_buddy"),
               ticket("f1", languages=("en",), mode="language_buddy"),
               ticket("f2", languages=("en", "de"), mode="language_buddy")]
    result = match_round(tickets, 12.0, DIMS)
    assert len(result.groups) == 2
    for g in result.groups:
        assert g.language == "en"
        assert {t.id[0] for t in g.tickets} == {"l", "f"}
        assert any(r.code == "language_buddy" and r.language == "en" for r in g.reasons)


def test_generations_pairs_youngest_with_oldest_first() -> None:
    bands = ["18-29", "30-44", "45-59", "60+"]
    tickets = [ticket(f"g{k}", 0.0, mode="generations", profile=(("age_band", band),))
               for k, band in enumerate(bands)]
    done = simulate(tickets, until=12.0)
    first, g = done["g0"]
    assert first == 0.0 and members(g) == {"g0", "g3"}
    assert any(r.code == "generations" for r in g.reasons)
    assert all(r.dimension != "age_band" for r in g.reasons)  # said once, as generations
    later, g = done["g1"]
    assert later > 0.0 and members(g) == {"g1", "g2"}


@pytest.mark.parametrize("size", [3, 4])
def test_groups_of_three_and_four_cross_divides_as_a_whole(size: int) -> None:
    profiles = [YOUNG, OLD, (("age_band", "30-44"), ("area", "suburban")),
                (("age_band", "45-59"), ("politics", "right"))]
    tickets = [ticket(f"g{k}", 0.0, group=size, profile=profiles[k % 4]) for k in range(size * 2)]
    result = match_round(tickets, 3.0, DIMS)
    assert len(result.groups) == 2
    for g in result.groups:
        assert len(g.tickets) == size
        assert fits(g.tickets, g.prompt, g.language)
        assert "age_band" in g.divides


# -- reasons ---------------------------------------------------------------------------------


def test_because_names_disclosed_divides_in_plain_words() -> None:
    g = score_group((ticket("a", profile=YOUNG), ticket("b", profile=OLD)), 0.0, DIMS)
    assert g is not None
    words = because(g, DIMS, "What does home mean to you?")
    assert words[0] == "You both chose “What does home mean to you?”"
    assert "You are in different age groups" in words
    assert "You live in different kinds of places" in words
    assert because(g, DIMS)[0] == "You both chose this prompt"


def test_operator_dimension_is_named_by_its_label() -> None:
    dims = (*DIMS, Dimension("transport", "How you get around", ("car", "bike", "bus")))
    a = ticket("a", profile=(("transport", "car"), ("age_band", "18-29")))
    b = ticket("b", profile=(("transport", "bus"), ("age_band", "60+")))
    g = score_group((a, b), 6.0, dims)
    assert g is not None
    assert "You gave different answers to “How you get around”" in because(g, dims)


def test_undisclosed_dimension_counts_but_is_never_named() -> None:
    a = ticket("a", profile=(("faith", "none"), ("age_band", "18-29")))
    b = ticket("b", profile=(("faith", "muslim"), ("age_band", "60+")))
    g = score_group((a, b), 6.0, DIMS)
    assert g is not None
    assert "faith" in g.divides  # aggregate records may count it
    assert all(r.dimension != "faith" for r in g.reasons)
    assert not any("faith" in w.lower() for w in because(g, DIMS))
    # Even a reason that slipped through is dropped when rendered.
    forged = Group(g.tickets, g.prompt, g.language, g.score, g.divides,
                   (*g.reasons, type(g.reasons[0])("differs", dimension="faith")))
    assert not any("faith" in w.lower() for w in because(forged, DIMS))


def test_because_never_reveals_a_bucket_value() -> None:
    rng = random.Random(7)
    buckets = {b for d in DIMS for b in d.buckets}
    for _ in range(200):
        a, b = (random_ticket(rng, name, now=30.0, pairs_only=True) for name in "ab")
        g = score_group((a, b), 30.0, DIMS)
        if g is None:
            continue
        for words in because(g, DIMS, "A prompt"):
            assert not any(bucket in words for bucket in buckets), words


# -- waiting, stuck, eta -----------------------------------------------------------------------


def test_waiting_counts_compatible_tickets_still_waiting() -> None:
    tickets = [ticket("a", languages=("en",)), ticket("b", languages=("en", "fr")),
               ticket("c", languages=("fr",)), ticket("d", prompts=("news",))]
    blocked = Constraints(blocked=frozenset({pair("a", "b")}))
    result = match_round(tickets, 0.5, DIMS, blocked)
    assert dict(result.waiting) == {"a": 0, "b": 1, "c": 1, "d": 0}


def test_waiting_counts_a_member_with_two_tickets_once_and_never_for_themselves() -> None:
    a1 = Ticket("a1", "same", ("home",), ("en",), 0.0)
    a2 = Ticket("a2", "same", ("home",), ("en",), 0.0)
    b, c = ticket("b"), ticket("c")
    # Half a second in, nobody crosses a divide: everyone waits.
    result = match_round([a1, a2, b, c], 0.5, DIMS)
    assert dict(result.waiting) == {"a1": 2, "a2": 2, "b": 3, "c": 3}
    blocked = Constraints(blocked=frozenset({frozenset(("same", "m-b"))}))
    result = match_round([a1, a2, b, c], 0.5, DIMS, blocked)
    assert dict(result.waiting) == {"a1": 1, "a2": 1, "b": 1, "c": 3}


def test_stuck_members_are_told_why_with_a_suggestion() -> None:
    tickets = [ticket("en1", 0.0, languages=("en",)), ticket("ar1", 0.0, languages=("ar",)),
               ticket("ar2", 0.0, languages=("ar",), prompts=("news",))]
    early = match_round(tickets, 10.0, DIMS)
    assert not early.stuck  # only after policy.stuck_after
    late = match_round(tickets, 31.0, DIMS)
    assert late.stuck["en1"].code == "no_language" and late.stuck["en1"].language == "ar"
    assert late.stuck["ar1"].code == "no_prompt" and late.stuck["ar1"].prompt == "news"
    assert "ar" not in late.stuck["en1"].text and "Arabic" in late.stuck["en1"].text
    alone = match_round([ticket("solo", 0.0)], 31.0, DIMS)
    assert alone.stuck["solo"].code == "quiet"


def test_eta() -> None:
    assert eta_s(0.0, 0) is None
    assert eta_s(0.0, 1) == pytest.approx(9.0)
    assert eta_s(20.0, 3) == 0.0
    assert eta_s(0.0, 1, group=3) is None
    result = match_round([ticket("a", 0.0), ticket("b", 0.0, languages=("ar",))], 1.0, DIMS)
    assert result.eta == {"a": None, "b": None}


def test_other_mode_or_size_is_suggested() -> None:
    tickets = [ticket("a", 0.0), ticket("b", 0.0, group=3), ticket("c", 0.0, group=3)]
    late = match_round(tickets, 31.0, DIMS)
    assert late.stuck["a"].code == "no_mode" and late.stuck["a"].group == 3
    assert "a group of 3" in late.stuck["a"].text


def test_malformed_tickets_wait_and_are_never_matched() -> None:
    tickets = [ticket("a", group=5), ticket("b", group=5), ticket("c", mode="chat"),
               ticket("d", mode="chat")]
    result = match_round(tickets, 20.0, DIMS)
    assert not result.groups
    assert set(result.waiting) == {"a", "b", "c", "d"}


def test_because_falls_back_to_english_for_an_unknown_locale() -> None:
    g = score_group((ticket("a", profile=YOUNG), ticket("b", profile=OLD)), 0.0, DIMS)
    assert g is not None
    assert because(g, DIMS, locale="xx") == because(g, DIMS)


def test_because_speaks_of_the_group_in_rooms_of_three() -> None:
    tickets = [ticket(f"g{k}", 0.0, group=3, profile=p) for k, p in enumerate((YOUNG, OLD, ()))]
    g = score_group(tickets, 0.0, DIMS)
    assert g is not None
    assert because(g, DIMS)[:2] == ["You all chose this prompt",
                                     "Your group spans different age groups"]


# -- properties --------------------------------------------------------------------------------

PROMPTS = ("home", "work", "news", "climate")
LANGUAGES = ("en", "ar", "uk")


def random_ticket(rng: random.Random, name: str, now: float, pairs_only: bool = False) -> Ticket:
    """A ticket like a real join, drawn from rng."""
    profile = tuple((d.id, rng.choice(d.buckets)) for d in DIMS if rng.random() < 0.7)
    prompts = tuple(rng.sample(PROMPTS, rng.randint(1, 2)))
    stances = tuple((p, rng.choice(("agree", "disagree", "unsure"))) for p in prompts
                    if rng.random() < 0.5)
    mode = "bridge" if pairs_only else rng.choice(("bridge", "bridge", "language_buddy",
                                                   "generations"))
    spoken = tuple(rng.sample(LANGUAGES, rng.randint(1, 2)))
    learning = tuple(x for x in LANGUAGES if x not in spoken and rng.random() < 0.5)
    return Ticket(name, f"m-{name}", prompts, spoken, now - rng.uniform(0, 40),
                  learning=learning if mode == "language_buddy" else (),
                  profile=tuple(sorted(profile)), stances=tuple(sorted(stances)), mode=mode,
                  group=2 if pairs_only else rng.choice((2, 2, 2, 3, 4)))


@st.composite
def pools(draw: st.DrawFn) -> tuple[list[Ticket], Constraints, int]:
    rng = random.Random(draw(st.integers(0, 2**32)))
    n = draw(st.integers(0, 60))
    tickets = [random_ticket(rng, f"t{i}", now=100.0) for i in range(n)]
    names = [t.member for t in tickets]

    def some_pairs(p: float) -> frozenset[frozenset[str]]:
        return frozenset(frozenset((a, b)) for i, a in enumerate(names) for b in names[i + 1:]
                         if rng.random() < p)

    constraints = Constraints(some_pairs(0.05), some_pairs(0.05), some_pairs(0.03))
    return tickets, constraints, draw(st.integers(0, 2**32))


def check_round(tickets: Sequence[Ticket], constraints: Constraints, result: RoundResult,
                now: float, policy: Policy = DEFAULT) -> None:
    ids = [t.id for t in tickets]
    seen = [t.id for g in result.groups for t in g.tickets]
    assert len(seen) == len(set(seen)), "a ticket in two groups"
    # The pool is conserved: every ticket is either matched or still waiting.
    assert set(seen) | set(result.waiting) == set(ids)
    assert not set(seen) & set(result.waiting)
    assert set(result.stuck) <= set(result.waiting)
    hidden = {d.id for d in DIMS if not d.disclose}
    for g in result.groups:
        assert len(g.tickets) == g.tickets[0].group
        assert fits(g.tickets, g.prompt, g.language, constraints), g
        waited = [now - t.since for t in g.tickets]
        if not g.divides and not g.stances_crossed and not g.again:
            assert min(waited) >= policy.bridge_wait
        assert not {r.dimension for r in g.reasons} & hidden
        if len(g.tickets) == 2:
            assert score_group(g.tickets, now, DIMS, constraints, policy) is not None


# The defaults scan small pools in full and use the auction; tiny limits force
# the paths large pools take (profile walks, the greedy) on small pools.
POLICIES = [Policy(), Policy(scan_limit=3, scan_budget=0, candidates=3, auction_edges=0),
            Policy(profile_limit=0, scan_limit=5)]


@pytest.mark.parametrize("policy", POLICIES, ids=["default", "large-pool paths", "no matrix"])
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(drawn=pools())
def test_property_every_group_is_valid_and_the_pool_is_conserved(
        policy: Policy, drawn: tuple[list[Ticket], Constraints, int]) -> None:
    tickets, constraints, seed = drawn
    result = match_round(tickets, 100.0, DIMS, constraints, policy, seed=seed)
    check_round(tickets, constraints, result, 100.0, policy)


@pytest.mark.parametrize("policy", POLICIES[:2], ids=["default", "large-pool paths"])
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(drawn=pools())
def test_property_fixed_seed_gives_the_same_result(
        policy: Policy, drawn: tuple[list[Ticket], Constraints, int]) -> None:
    tickets, constraints, seed = drawn
    first = match_round(tickets, 100.0, DIMS, constraints, policy, seed=seed)
    again = match_round(list(tickets), 100.0, DIMS, constraints, policy, seed=seed)
    assert first == again


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pools())
def test_property_waiting_counts_match_brute_force(
        drawn: tuple[list[Ticket], Constraints, int]) -> None:
    tickets, constraints, seed = drawn
    result = match_round(tickets, 100.0, DIMS, constraints, seed=seed)
    left = [t for t in tickets if t.id in result.waiting]
    for t in left:
        expected = sum(1 for o in left if o.id != t.id and compatible(t, o, constraints))
        assert result.waiting[t.id] == expected


@pytest.mark.parametrize("policy", POLICIES[:2], ids=["default", "large-pool paths"])
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(drawn=pools())
def test_property_a_settled_ticket_never_waits_beside_a_free_partner(
        policy: Policy, drawn: tuple[list[Ticket], Constraints, int]) -> None:
    tickets, constraints, seed = drawn
    result = match_round(tickets, 100.0, DIMS, constraints, policy, seed=seed)
    left = [t for t in tickets if t.id in result.waiting and t.group == 2]
    for a in left:
        if 100.0 - a.since < policy.settle:
            continue
        for b in left:
            if b.id != a.id and 100.0 - b.since >= policy.bridge_wait:
                assert score_group((a, b), 100.0, DIMS, constraints, policy) is None
