"""core/text.py without sockets: what a chat message may hold (issue 16, finding 11)."""

from __future__ import annotations

import unicodedata

from bridgechat.core.text import clean
from hypothesis import given
from hypothesis import strategies as st

CONTROLS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\x00\x07\x1b\x7f"


def test_what_shows_is_kept_and_what_hides_is_not() -> None:
    assert clean("  hi there  ") == "hi there"
    assert clean("one\n\ttwo") == "one\n\ttwo"
    assert clean("مرحبا") == "مرحبا"
    assert clean("👨\u200d👩\u200d👧") == "👨\u200d👩\u200d👧"  # joined by U+200D: kept
    assert clean("photo\u202egnp.exe") == "photognp.exe"
    for invisible in ("\u200b", "\u200b\u2060\ufeff", "\x00", "\u3000\u00a0", "\u2066\u2069",
                      " \n\t "):
        assert clean(invisible) == "", repr(invisible)


@given(st.text(alphabet=st.one_of(st.characters(), st.sampled_from(CONTROLS)), max_size=60))
def test_no_direction_control_survives_and_a_result_always_shows_something(text: str) -> None:
    out = clean(text)
    assert not any(c in out for c in CONTROLS)
    if out:
        assert any(unicodedata.category(c)[0] not in "CZ" for c in out)
        assert out == out.strip()
        assert clean(out) == out  # cleaning twice changes nothing
