"""Impact figures: nothing under 11 is ever shown or derivable, in either mode.

Unit tests drive server/bridgechat/privacy/impact.py (pure) directly, with property tests for
the suppression rules; the last tests ask a live server over HTTP after real
conversations.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import random
import statistics
import urllib.request
from dataclasses import replace
from typing import Any

import pytest
from bridgechat.privacy import impact
from bridgechat.privacy.impact import MIN_COUNT, Conversation
from hypothesis import given, settings
from hypothesis import strategies as st
from wsclient import Clients, fresh_lang

DIMS = ["age_band", "origin", "area", "politics"]
PROMPTS = ["home", "work", "news"]


def conv(prompt: str = "home", day: str = "2026-03-04", divides: tuple[str, ...] = ("age_band",),
         duration: str = "5-15", feedback: int = 2, score: int = 8, again: int = 1) -> Conversation:
    return Conversation(prompt, day, 2, divides, duration, feedback, score, again)


def shown_ints(obj: Any, path: str = "") -> list[tuple[str, int]]:
    """Every integer a reader of the JSON report sees, outside the stated parameters."""
    if isinstance(obj, bool):
        return []
    if isinstance(obj, int):
        return [(path, obj)]
    if isinstance(obj, dict):
        return [hit for k, v in obj.items() if k not in ("min_count", "noise")
                for hit in shown_ints(v, f"{path}.{k}")]
    if isinstance(obj, list):
        return [hit for i, v in enumerate(obj) for hit in shown_ints(v, f"{path}[{i}]")]
    return []


# -- small pure pieces ------------------------------------------------------------

@pytest.mark.parametrize(("seconds", "bucket"), [
    (0, "0-5"), (299.9, "0-5"), (300, "5-15"), (899, "5-15"), (900, "15-30"),
    (1800, "30-60"), (3599, "30-60"), (3600, "60+"), (86400, "60+"),
])
def test_duration_buckets(seconds: float, bucket: str) -> None:
    assert impact.duration_bucket(seconds) == bucket


def test_weeks_run_across_a_year_end() -> None:
    assert impact.iso_week("2026-12-31") == "2026-W53"
    assert impact.weeks_from("2026-12-30", "2027-01-12") == ["2026-W53", "2027-W01", "2027-W02"]


def test_laplace_has_the_stated_scale() -> None:
    rng = random.Random(7)
    draws = [impact.laplace(3.0, rng) for _ in range(40_000)]
    assert abs(statistics.fmean(draws)) < 0.1
    # Laplace(0, b) has mean absolute deviation b and variance 2 b^2.
    assert statistics.fmean(abs(d) for d in draws) == pytest.approx(3.0, rel=0.03)
    assert statistics.pvariance(draws) == pytest.approx(18.0, rel=0.06)


def test_laplace_is_seedable() -> None:
    assert ([impact.laplace(1.0, random.Random(5)) for _ in range(3)]
            == [impact.laplace(1.0, random.Random(5)) for _ in range(3)])


# -- suppression ------------------------------------------------------------------

def test_counts_under_11_are_hidden_and_11_is_shown() -> None:
    one_answer = conv(feedback=1, score=4, again=1)
    ten = impact.as_json(impact.figures([one_answer] * 10, PROMPTS, DIMS, "2026-03-05"))
    assert ten["total"]["conversations"] is None
    assert shown_ints(ten) == []
    eleven = impact.as_json(impact.figures([conv()] * 11, PROMPTS, DIMS, "2026-03-05"))
    assert eleven["total"]["conversations"] == 11
    assert eleven["total"]["crossed"]["age_band"] == {"count": 11, "share": 1.0}
    assert eleven["total"]["crossed"]["politics"] == {"count": None, "share": None}
    assert eleven["total"]["common_ground"] == 4.0
    assert eleven["total"]["feedback"] == 22 and eleven["total"]["meet_again"]["count"] == 11


def test_a_hidden_week_cannot_be_recovered_from_the_total() -> None:
    # 30 conversations one week, 5 the next: showing the total (35) and the first
    # week (30) would reveal the 5. One of the two must go.
    records = [conv(day="2026-03-04")] * 30 + [conv(day="2026-03-11")] * 5
    rep = impact.as_json(impact.figures(records, ["home"], DIMS, "2026-03-12"))
    weeks = {r["week"]: r["conversations"] for r in rep["by_week"]}
    assert weeks["2026-W11"] is None
    assert rep["total"]["conversations"] is None or weeks["2026-W10"] is None


def test_a_complement_under_11_hides_its_count() -> None:
    # 20 crossed origin, 5 did not: "20 of 25" would reveal the 5.
    records = [conv(divides=("origin",))] * 20 + [conv(divides=())] * 5
    rep = impact.as_json(impact.figures(records, ["home"], DIMS, "2026-03-05"))
    assert rep["total"]["conversations"] == 25
    assert rep["total"]["crossed"]["origin"]["count"] is None


record_strategy = st.builds(
    Conversation,
    prompt=st.sampled_from(PROMPTS),
    day=st.sampled_from(["2026-03-02", "2026-03-09", "2026-03-16", "2026-03-23"]),
    size=st.just(2),
    divides=st.lists(st.sampled_from(DIMS), unique=True, max_size=4).map(tuple),
    duration=st.sampled_from(impact.DURATIONS),
    feedback=st.integers(0, 2),
    common_ground=st.just(0),
    again=st.just(0),
).map(lambda c: Conversation(c.prompt, c.day, 2, c.divides, c.duration, c.feedback,
                             3 * c.feedback, c.feedback // 2))


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(record_strategy, st.integers(1, 15)), max_size=12))
def test_no_small_count_is_shown_or_derivable(groups: list[tuple[Conversation, int]]) -> None:
    records = [c for c, n in groups for _ in range(n)]
    weeks = impact.weeks_from("2026-03-02", "2026-03-23")
    values = impact.tally(records, weeks, PROMPTS, DIMS)
    eqs = impact.equations(weeks, PROMPTS, DIMS)
    hidden = impact.protect(values, eqs)
    shown = {c for c in values if c not in hidden}
    assert all(values[c] >= MIN_COUNT for c in shown)
    known, _ = impact._closure(values, hidden, eqs)
    assert all(values[c] == 0 or values[c] >= MIN_COUNT for c in known)
    for total, parts in eqs:
        if total in known:
            rest = sum(values[p] for p in parts if p not in known)
            assert rest == 0 or rest >= MIN_COUNT, (total, parts)
    rep = impact.as_json(impact.figures(records, PROMPTS, DIMS, "2026-03-23"))
    assert all(v >= MIN_COUNT for _, v in shown_ints(rep))


def test_disclose_false_dimensions_are_counted_like_the_others() -> None:
    # The figures take dimension ids, whatever the deck says about disclosing them.
    records = [conv(divides=("politics",))] * 12 + [conv(divides=())] * 12
    rep = impact.as_json(impact.figures(records, ["home"], DIMS, "2026-03-05"))
    assert rep["total"]["crossed"]["politics"] == {"count": 12, "share": 0.5}


# -- crossing two divides or more, and one event's figures ----------------------------

def test_crossing_two_divides_is_a_share_of_the_conversations() -> None:
    two = conv(divides=("age_band", "origin"))
    records = [two] * 12 + [conv(divides=("age_band",))] * 11 + [conv(divides=())] * 11
    rep = impact.as_json(impact.figures(records, ["home"], DIMS, "2026-03-05"))
    assert rep["total"]["conversations"] == 34
    assert rep["total"]["crossed2"] == {"count": 12, "share": round(12 / 34, 3)}
    rows = impact.as_csv(impact.figures(records, ["home"], DIMS, "2026-03-05"))
    total = dict(zip(rows[0], rows[1], strict=True))
    assert (total["crossed2"], total["crossed2_share"]) == ("12", str(round(12 / 34, 3)))


def test_a_small_crossing_two_count_is_hidden_and_cannot_be_subtracted_out() -> None:
    # 25 conversations, 5 crossing two divides: neither "5" nor "20 did not" may show,
    # and with the 25 shown, a "fewer than two" count of 20 would give the 5 away.
    records = [conv(divides=("age_band", "origin"))] * 5 + [conv(divides=("age_band",))] * 20
    rep = impact.as_json(impact.figures(records, ["home"], DIMS, "2026-03-05"))
    assert rep["total"]["conversations"] == 25
    assert rep["total"]["crossed2"] == {"count": None, "share": None}
    assert all(v >= MIN_COUNT for _, v in shown_ints(rep))
    # The same 5 split over two weeks (3 + 2, each week 11 or more conversations): the total
    # and one week shown must not give away the other week's count either.
    weeks = ([conv(day="2026-03-04", divides=("age_band", "origin"))] * 3
             + [conv(day="2026-03-04")] * 12
             + [conv(day="2026-03-11", divides=("age_band", "origin"))] * 2
             + [conv(day="2026-03-11")] * 12)
    weeks += [conv(day="2026-03-04", divides=("age_band", "origin"))] * 11
    values = impact.tally(weeks, impact.weeks_from("2026-03-04", "2026-03-12"), ["home"], DIMS)
    eqs = impact.equations(impact.weeks_from("2026-03-04", "2026-03-12"), ["home"], DIMS)
    hidden = impact.protect(values, eqs)
    known, _ = impact._closure(values, hidden, eqs)
    assert values[("week", "2026-W11", "crossed2")] == 2
    assert ("week", "2026-W11", "crossed2") not in known


def test_an_event_counts_only_its_own_records() -> None:
    ours = [Conversation("home", "2026-03-04", 2, ("age_band", "origin"), "5-15", 2, 8, 1,
                         event="town-talk")] * 12
    theirs = [Conversation("home", "2026-03-04", 2, (), "5-15", 2, 8, 0, event="other")] * 30
    open_queue = [conv(divides=())] * 40
    everything = ours + theirs + open_queue
    fig = impact.figures(everything, ["home"], DIMS, "2026-03-05", event="town-talk")
    rep = impact.as_json(fig)
    assert rep["event"] == "town-talk"
    assert rep["total"]["conversations"] == 12
    assert rep["total"]["crossed2"] == {"count": 12, "share": 1.0}
    assert rep["total"]["meet_again"] == {"count": 12, "share": 0.5}
    assert impact.as_json(impact.figures(everything, ["home"], DIMS, "2026-03-05"))[
        "total"]["conversations"] == 82
    # A small event shows nothing at all, in either mode.
    small = impact.figures(everything, ["home"], DIMS, "2026-03-05", event="tiny")
    assert shown_ints(impact.as_json(small)) == []
    few = ours[:7]  # 7 conversations, 14 answers: the answers may show, nothing under 11
    rep = impact.as_json(impact.figures(few, ["home"], DIMS, "2026-03-05", event="town-talk"))
    assert rep["total"]["conversations"] is None and rep["total"]["crossed2"]["count"] is None
    assert all(v >= MIN_COUNT for _, v in shown_ints(rep))
    quiet = [replace(c, feedback=1, common_ground=4, again=1) for c in few]
    assert shown_ints(impact.as_json(impact.figures(quiet, ["home"], DIMS, "2026-03-05",
                                                    event="town-talk"))) == []
    noisy = impact.figures(few, ["home"], DIMS, "2026-03-05", 1.0, random.Random(1),
                           event="town-talk")
    assert all(v >= MIN_COUNT for _, v in shown_ints(impact.as_json(noisy)))


# -- noise ------------------------------------------------------------------------

def test_noise_states_epsilon_and_shows_nothing_under_11() -> None:
    records = [conv(prompt=p, day=d) for p in PROMPTS for d in ("2026-03-04", "2026-03-11")
               for _ in range(40)]
    fig = impact.figures(records, PROMPTS, DIMS, "2026-03-12", epsilon=1.0,
                         rng=random.Random(3))
    rep = impact.as_json(fig)
    assert rep["noise"]["epsilon"] == 1.0 and rep["noise"]["mechanism"] == "laplace"
    # Seven families, each epsilon/7; one record counts in three rows.
    assert rep["noise"]["scale"]["conversations"] == pytest.approx(3 * 1 * 7 / 1.0)
    assert rep["noise"]["scale"]["crossed"] == pytest.approx(3 * len(DIMS) * 7 / 1.0)
    assert rep["noise"]["scale"]["crossed2"] == pytest.approx(3 * 1 * 7 / 1.0)
    assert all(v >= MIN_COUNT for _, v in shown_ints(rep))
    again = impact.figures(records, PROMPTS, DIMS, "2026-03-12", epsilon=1.0,
                           rng=random.Random(3))
    assert impact.as_json(again) == rep


def test_noise_is_centred_on_the_truth() -> None:
    records = [conv()] * 500
    totals = [impact.as_json(impact.figures(records, ["home"], DIMS, "2026-03-05", 1.0,
                                            random.Random(seed)))["total"]["conversations"]
              for seed in range(200)]
    assert statistics.fmean(t for t in totals if t is not None) == pytest.approx(500, abs=5)


def test_csv_has_the_same_cells_with_suppressed_ones_empty() -> None:
    fig = impact.figures([conv()] * 11 + [conv(prompt="work")] * 3, PROMPTS, DIMS, "2026-03-05")
    rows = impact.as_csv(fig)
    head, body = rows[0], {(r[0], r[1]): dict(zip(rows[0], r, strict=True)) for r in rows[1:]}
    assert head[:3] == ["scope", "key", "conversations"]
    assert body[("prompt", "work")]["conversations"] == ""
    # 14 - 11 would give away the 3: the total and "home" are never both there.
    home_cell, total_cell = body[("prompt", "home")], body[("total", "all")]
    assert "" in (home_cell["conversations"], total_cell["conversations"])
    rep = impact.as_json(fig)
    home = next(r for r in rep["by_prompt"] if r["prompt"] == "home")
    for cell, value in ((("prompt", "home"), home["conversations"]),
                        (("total", "all"), rep["total"]["conversations"])):
        assert body[cell]["conversations"] == ("" if value is None else str(value))


# -- over the wire ----------------------------------------------------------------

def get(url: str) -> tuple[int, str, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.status, r.headers.get("Content-Type", ""), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type", ""), e.read().decode()


async def converse(clients: Clients, prompt: str) -> None:
    pair = await clients.pair(prompt=prompt, lang=fresh_lang())
    await pair.a.say(pair.room, "hello")
    await pair.b.expect("message", room=pair.room)
    await pair.a.send({"type": "leave", "room": pair.room})
    await pair.a.expect("closed", room=pair.room)
    await pair.b.expect("left", room=pair.room)
    await pair.b.expect("closed", room=pair.room)
    for m in (pair.a, pair.b):
        await m.send({"type": "feedback", "room": pair.room, "common_ground": 4, "again": True})
        await m.expect("thanks")


async def test_impact_after_real_conversations(make_server) -> None:
    srv = make_server()
    async with Clients(srv.ws_url) as clients:
        prompt = (await clients.member()).prompt_id(0)
        for _ in range(3):  # four at a time: quick, and far below any rate limit
            await asyncio.gather(*(converse(clients, prompt) for _ in range(4)))

    status, ctype, body = get(srv.url + "/api/impact")
    assert status == 200 and ctype.startswith("application/json")
    rep = json.loads(body)
    assert rep["min_count"] == 11 and rep["noise"] is None
    assert all(v >= MIN_COUNT for _, v in shown_ints(rep)), shown_ints(rep)
    total = rep["total"]
    assert total["conversations"] == 12
    assert total["feedback"] == 24 and total["common_ground"] == 4.0
    assert total["meet_again"] == {"count": 24, "share": 1.0}
    assert total["duration"]["0-5"] == 12
    by_prompt = {r["prompt"]: r for r in rep["by_prompt"]}
    assert by_prompt[prompt]["conversations"] == 12
    assert all(r["conversations"] is None for p, r in by_prompt.items() if p != prompt)
    assert [r["conversations"] for r in rep["by_week"]][-1] == 12

    status, ctype, body = get(srv.url + "/api/impact.csv")
    assert status == 200 and ctype.startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(body)))
    assert rows[0]["scope"] == "total" and rows[0]["conversations"] == "12"

    status, _, body = get(srv.url + "/api/impact?epsilon=1.0")
    noisy = json.loads(body)
    assert status == 200 and noisy["noise"]["epsilon"] == 1.0
    assert all(v >= MIN_COUNT for _, v in shown_ints(noisy))
    assert json.loads(get(srv.url + "/api/impact?epsilon=1.0")[2]) == noisy  # no averaging

    for bad in ("abc", "0", "-1", "nan", "inf", "100"):
        status, _, body = get(srv.url + f"/api/impact?epsilon={bad}")
        assert status == 400 and json.loads(body)["error"] == "bad_epsilon"
