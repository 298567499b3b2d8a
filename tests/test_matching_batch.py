"""The conversation day's batch: one run over a whole pool present at once (no sockets).

Hard constraints are never broken, every ticket is either in exactly one room
or told why not, the total score is close to an upper bound on the optimum,
more rooms cross two divides than first come, first served, and the same
pool and seed give the same rooms.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from bridgechat.bench.matching_batch import fcfs_rooms
from bridgechat.bench.matching_pool import NOW, make_pool
from bridgechat.deck_file import load_deck
from bridgechat.matching import Constraints, Ticket, compatible, fits
from bridgechat.matching.batch import LEFT_REASONS, Batch, solve_batch
from bridgechat.matching.batch_bound import bound_parts, upper_bound

DECK = load_deck()
DIMS = DECK.dimensions
PROMPTS = [p.id for p in DECK.prompts]


def ticket(name: str, prompts: tuple[str, ...] = ("home",), languages: tuple[str, ...] = ("en",),
           *, learning: tuple[str, ...] = (), profile: tuple[tuple[str, str], ...] = (),
           mode: str = "bridge", group: int = 2) -> Ticket:
    return Ticket(name, f"m-{name}", prompts, languages, NOW - 1.0, learning,
                  tuple(sorted(profile)), (), mode, group)


def check_rooms(tickets: list[Ticket], constraints: Constraints, batch: Batch) -> None:
    """Every room passes the open queue's hard constraints; every ticket is accounted for once."""
    seen: list[str] = []
    for g in batch.groups:
        size = g.tickets[0].group
        assert len(g.tickets) == size
        assert all(t.mode == g.tickets[0].mode and t.group == size for t in g.tickets)
        assert fits(g.tickets, g.prompt, g.language, constraints), g
        if size == 2:
            assert compatible(*g.tickets, constraints)
        # In a group of language buddies two learners may share the room (fits() checks it).
        for x, a in enumerate(g.tickets):
            for b in g.tickets[x + 1:]:
                assert frozenset((a.member, b.member)) not in constraints.blocked
                assert a.member != b.member
        seen += [t.id for t in g.tickets]
    assert len(seen) == len(set(seen)), "a ticket is in two rooms"
    assert set(seen).isdisjoint(batch.left)
    assert set(seen) | set(batch.left) == {t.id for t in tickets}
    assert set(batch.left.values()) <= set(LEFT_REASONS)
    assert batch.score == pytest.approx(sum(g.score for g in batch.groups))


# Pools with twelve languages or a 3:1 majority reach about 96.6% at this size: the
# groups' part of the bound is loose there (docs/matching.md); the pairs stay within 1%.
@pytest.mark.parametrize(("kind", "seed"), [("day", 0), ("day", 1), ("balanced", 3)])
def test_batch_keeps_every_rule_and_comes_within_3_percent_of_the_bound(
        kind: str, seed: int) -> None:
    pool = make_pool(kind, 2000, seed, PROMPTS, DIMS)
    batch = solve_batch(pool.tickets, DIMS, pool.constraints, now=NOW, seed=seed)
    check_rooms(pool.tickets, pool.constraints, batch)
    assert {len(g.tickets) for g in batch.groups} == {2, 3, 4}
    assert any(g.tickets[0].mode == "language_buddy" for g in batch.groups)
    assert batch.crossing2 == sum(len(g.divides) + g.stances_crossed >= 2 for g in batch.groups)
    bound = bound_parts(pool.tickets, DIMS, pool.constraints, now=NOW, seed=seed, batch=batch)
    assert batch.score <= bound.total
    assert batch.score >= 0.97 * bound.total, (batch.score, bound)


@pytest.mark.parametrize("kind", ["day", "lopsided", "blocks"])
def test_pairs_come_within_1_percent_of_the_bound_over_every_eligible_pair(kind: str) -> None:
    """The candidate graph prunes pairs; the LP over all of them shows it costs little."""
    pool = make_pool(kind, 1500, 4, PROMPTS, DIMS)
    batch = solve_batch(pool.tickets, DIMS, pool.constraints, now=NOW)
    full = bound_parts(pool.tickets, DIMS, pool.constraints, now=NOW, full=True)
    pairs = sum(g.score for g in batch.groups if len(g.tickets) == 2)
    assert pairs <= full.pairs
    assert pairs >= 0.99 * full.pairs, (pairs, full)
    assert upper_bound(pool.tickets, DIMS, pool.constraints, now=NOW, full=True) >= batch.score


def test_more_rooms_cross_two_divides_than_first_come_first_served() -> None:
    batch, fcfs, _ = fcfs_rooms("lopsided", 2000)
    share = sum(len(g.divides) + g.stances_crossed >= 2 for g in batch) / len(batch)
    baseline = sum(len(g.divides) + g.stances_crossed >= 2 for g in fcfs) / len(fcfs)
    assert share > baseline + 0.2, (share, baseline)
    assert sum(g.score for g in batch) > sum(g.score for g in fcfs)


def test_same_pool_and_seed_give_the_same_rooms() -> None:
    pool = make_pool("day", 1500, 7, PROMPTS, DIMS)
    runs = [solve_batch(pool.tickets, DIMS, pool.constraints, now=NOW, seed=7) for _ in range(2)]
    rooms = [[(g.prompt, g.language, tuple(t.id for t in g.tickets)) for g in b.groups]
             for b in runs]
    assert rooms[0] == rooms[1]
    assert runs[0].left == runs[1].left


def test_blocks_languages_and_modes_hold_in_a_small_pool() -> None:
    a = ticket("a", profile=(("age_band", "18-29"),))
    b = ticket("b", profile=(("age_band", "60+"),))
    c = ticket("c", profile=(("age_band", "60+"),))
    fr = ticket("fr", languages=("fr",))
    other = ticket("other", prompts=("work",), languages=("fr",), group=3)
    learner = ticket("learner", languages=("es",), learning=("en",), mode="language_buddy")
    fluent = ticket("fluent", languages=("en",), learning=("es",), mode="language_buddy")
    trio = [ticket(f"g{k}", profile=(("area", area),), group=3)
            for k, area in enumerate(("urban", "rural", "suburban"))]
    tickets = [a, b, c, fr, other, learner, fluent, *trio]
    blocked = Constraints(blocked=frozenset({frozenset(("m-a", "m-b"))}))
    batch = solve_batch(tickets, DIMS, blocked, now=NOW)
    check_rooms(tickets, blocked, batch)
    rooms = {frozenset(t.id for t in g.tickets) for g in batch.groups}
    assert frozenset(("a", "c")) in rooms  # a's better partner b blocked a
    assert frozenset(("learner", "fluent")) in rooms
    assert frozenset(("g0", "g1", "g2")) in rooms
    # b is left: everyone it could meet was taken (a blocked it); fr speaks only French.
    assert batch.left["b"] == "all_taken"
    assert batch.left["fr"] in ("no_language", "quiet")
    assert batch.left["other"] in ("no_prompt", "no_language", "no_mode", "quiet")
    assert set(batch.advice) == {k for k, v in batch.left.items()
                                 if v not in ("all_taken", "no_group", "invalid")}


def test_nobody_present_and_a_lone_ticket() -> None:
    empty = solve_batch([], DIMS, now=NOW)
    assert empty.groups == () and not empty.left and empty.score == 0
    alone = solve_batch([ticket("x")], DIMS, now=NOW)
    assert alone.left == {"x": "quiet"}
    assert upper_bound([ticket("x")], DIMS, now=NOW) == 0


@pytest.mark.parametrize("seed", [2, 5])
def test_everyone_who_could_meet_someone_is_seated(seed: int) -> None:
    """A pool where everyone shares a language and each can meet many: nobody is left
    "all_taken". The auction maximises the total score, and on this pool and seed it
    leaves two members free; splitting one room in two seats them both."""
    pool = make_pool("day", 1200, 1, PROMPTS[:6], DIMS)
    # As `bench day` signs them up: the event's mode and size, everyone speaks English too.
    tickets = [replace(t, mode="bridge", group=2, languages=(spoken := tuple(dict.fromkeys(
        (*t.languages, "en")))), learning=tuple(x for x in t.learning if x not in spoken))
        for t in pool.tickets]
    batch = solve_batch(tickets, DIMS, Constraints(), now=NOW, seed=seed)
    check_rooms(tickets, Constraints(), batch)
    assert batch.left == {}
    assert len(batch.groups) == 600
