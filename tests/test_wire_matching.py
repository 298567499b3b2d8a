"""The timing members can rely on (docs/protocol.md, default settings)."""

from __future__ import annotations

import time

from wsclient import fresh_lang, fresh_topic

BRIDGE_WAIT = 2.0
MAX_WAIT = 10.0


async def _time_to_match(clients, profile_a, profile_b) -> float:
    a = await clients.member()
    b = await clients.member()
    prompt, lang = a.prompt_id(fresh_topic()), fresh_lang()
    started = time.monotonic()  # before either join is sent: an upper bound on the wait
    await a.join([prompt], [lang], profile_a)
    await b.join([prompt], [lang], profile_b)
    a_matched = await a.expect("matched", wait=MAX_WAIT + 1)
    elapsed = time.monotonic() - started
    b_matched = await b.expect("matched", wait=1)
    assert a_matched["room"] == b_matched["room"]
    return elapsed


async def test_no_profiles_not_matched_before_2s_but_within_10s(clients) -> None:
    elapsed = await _time_to_match(clients, None, None)
    assert BRIDGE_WAIT <= elapsed < MAX_WAIT + 0.5, elapsed


async def test_identical_profiles_not_matched_before_2s_but_within_10s(clients) -> None:
    same = {"age_band": "30-44", "area": "urban", "origin": "settled"}
    elapsed = await _time_to_match(clients, same, dict(same))
    assert BRIDGE_WAIT <= elapsed < MAX_WAIT + 0.5, elapsed


async def test_a_strong_bridge_is_matched_under_2s(clients) -> None:
    # Age and area both differ: a strong bridge, so no reason to wait for a better one.
    elapsed = await _time_to_match(clients, {"age_band": "18-29", "area": "urban"},
                                   {"age_band": "60+", "area": "rural"})
    assert elapsed < BRIDGE_WAIT, elapsed


async def test_a_single_divide_is_matched_before_the_10s_promise(clients) -> None:
    elapsed = await _time_to_match(clients, {"age_band": "18-29"}, {"age_band": "60+"})
    assert elapsed < 10.0, elapsed
