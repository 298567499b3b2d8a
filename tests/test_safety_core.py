"""The safety rules of the pure core, without sockets (docs/safety.md): mutual consent
(core/consent.py), the watch list (core/watch.py), what the session marks on a
`send` (core/session.py) and the deck's `[safety]` table (core/deck.py)."""

from __future__ import annotations

import json
import tomllib

import pytest
from bridgechat.core import consent, protocol
from bridgechat.core.checks import SafetyChecks
from bridgechat.core.contact import ContactCheck
from bridgechat.core.deck import DeckError, parse_deck
from bridgechat.core.protocol import Code, ProtocolError
from bridgechat.core.room import Room, RoomMeta
from bridgechat.core.session import Limits, Session
from bridgechat.core.substrings import Substrings
from bridgechat.core.watch import WatchList, skeleton
from test_contact import corpus

HELLO = json.dumps({"type": "hello", "v": 1})


def room(n: int = 2, minor: bool = False) -> tuple[Room, RoomMeta]:
    r = Room.open("r1", "home", [(f"m{i}", f"Alias {i}") for i in range(1, n + 1)], now=100.0)
    return r, RoomMeta("home", "Home?", {}, (), minor=minor)


# -- consent ------------------------------------------------------------------------------

def test_an_exchange_opens_when_every_seated_member_agreed() -> None:
    r, meta = room(3)
    assert consent.exchange(r, meta, "m1", True) == consent.Exchange(changed=True, open=False)
    assert consent.exchange(r, meta, "m1", True) == consent.Exchange(changed=False, open=False)
    assert consent.exchange(r, meta, "m2", True) == consent.Exchange(True, False)
    assert not consent.may_pass(meta, hold_by_default=True)
    assert consent.exchange(r, meta, "m3", True) == consent.Exchange(True, True)
    assert meta.exchanged and meta.contact == []
    assert consent.may_pass(meta, hold_by_default=True)
    # Asking again once open changes nothing and says it is open.
    assert consent.exchange(r, meta, "m2", True) == consent.Exchange(False, True)


def test_a_no_clears_every_ask_and_is_news_only_if_someone_had_asked() -> None:
    r, meta = room()
    assert consent.exchange(r, meta, "m2", False) == consent.Exchange(False, False)
    consent.exchange(r, meta, "m1", True)
    assert consent.exchange(r, meta, "m2", False) == consent.Exchange(True, False)
    assert meta.contact == [] and not meta.exchanged
    # m1's earlier yes is gone: m2's yes is an offer, not an agreement.
    assert consent.exchange(r, meta, "m2", True) == consent.Exchange(True, False)


def test_a_member_who_left_is_not_waited_for_and_cannot_agree() -> None:
    r, meta = room(3)
    r.leave("m3", "left", 150.0)
    consent.exchange(r, meta, "m1", True)
    assert consent.exchange(r, meta, "m2", True).open
    r2, meta2 = room(3)
    r2.leave("m3", "left", 150.0)
    with pytest.raises(ProtocolError):
        consent.exchange(r2, meta2, "m3", True)


def test_never_with_a_member_under_18_whatever_the_deck_says() -> None:
    r, meta = room(minor=True)
    with pytest.raises(ProtocolError) as e:
        consent.exchange(r, meta, "m1", True)
    assert e.value.code is Code.CONTACT_NOT_ALLOWED
    assert not consent.may_pass(meta, hold_by_default=False)
    _, adults = room()
    assert consent.may_pass(adults, hold_by_default=False)


# -- the watch list ----------------------------------------------------------------------

WATCH = WatchList({"en": ["send me a photo", "ass"], "uk": ["надішли фото"],
                   "de": ["ich weiß, wo du wohnst"]})


WATCHED = [
    "Send me a photo please",
    "sеnd me а photo",  # Cyrillic е and а
    "send\u200b me a ph\u200do\u2060to",  # zero-width space, joiner, word joiner
    "ｓｅｎｄ ｍｅ ａ ｐｈｏｔｏ",  # full width
    "𝐬𝐞𝐧𝐝 me a photo",  # mathematical bold
    "s.e.n.d me a photo",
    "send,   me... a photo!",
    "you ass",
    "НАДІШЛИ ФОТО!",
    "ich weiss wo du wohnst",
]
UNWATCHED = ["a photo of the sunset", "first class", "assume nothing", "send me a postcard",
             "I sent a photo to my mum", ""]
CONTACT = ContactCheck()


@pytest.mark.parametrize("text", WATCHED)
def test_watched_phrases_are_found_through_the_easy_disguises(text: str) -> None:
    assert WATCH.hits(text), skeleton(text)


@pytest.mark.parametrize("text", UNWATCHED)
def test_ordinary_text_is_not_watched(text: str) -> None:
    assert not WATCH.hits(text)


def test_the_shared_first_look_answers_as_each_check_alone() -> None:
    """core/checks.py asks both checks' words at once, for ASCII texts; the answers
    must be each check's own, on the whole corpus and the watch list's cases."""
    texts = [*corpus("contact.txt"), *corpus("ordinary.txt"), *WATCHED, *UNWATCHED,
             "mail me: send me a photo", "s e n d me a photo at gmail dot com", "@" * 3]
    both, contact_only, watch_only = (SafetyChecks(CONTACT, WATCH), SafetyChecks(CONTACT, None),
                                      SafetyChecks(None, WATCH))
    for text in texts:
        found, hit = CONTACT.find(text), WATCH.hits(text)
        assert both.inspect(text) == (found, hit), text
        assert both.inspect(text, contact=False) == (None, hit), text
        assert contact_only.inspect(text) == (found, False), text
        assert watch_only.inspect(text) == (None, hit), text
    assert sum(SafetyChecks(CONTACT, WATCH).inspect(t)[0] is not None for t in texts) > 150
    with pytest.raises(ValueError):
        SafetyChecks(None, None)


def test_an_empty_watch_list_matches_nothing() -> None:
    empty = WatchList({"en": [" ", ""]})
    assert empty.size == 0 and not empty.hits("anything at all")


def test_the_first_pass_finds_a_word_anywhere_and_nothing_else() -> None:
    words = Substrings(["insta", "mail", ""])
    assert words.any_in("my gmail") and words.any_in("instagram") and words.any_in("mail")
    assert not words.any_in("I sent it by post") and not words.any_in("")
    assert not Substrings([]).any_in("insta")


# -- the session marks what it found on each send ---------------------------------------

def send(text: str, room: str = "r") -> str:
    return json.dumps({"type": "send", "room": room, "id": "m", "text": text})


def test_the_session_marks_contact_details_and_watched_phrases_per_message() -> None:
    s = Session(Limits(), 0.0, SafetyChecks(ContactCheck(), WATCH))
    s.receive(HELLO, 0.0)
    s.welcome("me")
    assert isinstance(s.receive(send("mail me: maria.k@example.org"), 1.0), protocol.Send)
    assert (s.held, s.flagged) == ("email", False)
    s.receive(send("send me a photo"), 1.1)
    assert (s.held, s.flagged) == (None, True)
    s.receive(send("we met in 1989 and paid 12.50"), 1.2)
    assert (s.held, s.flagged) == (None, False)
    # Exchanged in room r: not marked there, still marked elsewhere.
    s.exchanged.add("r")
    s.receive(send("mail me: maria.k@example.org"), 1.3)
    assert s.held is None
    s.receive(send("mail me: maria.k@example.org", room="other"), 1.4)
    assert s.held == "email"


def test_a_first_day_member_has_a_smaller_burst_at_the_same_rate() -> None:
    def burst(first_day: bool) -> int:
        s = Session(Limits(send_rate=1.0, send_burst=30.0, first_day_burst=20.0))
        s.receive(HELLO, 0.0)
        s.welcome("me", first_day)
        return sum(1 for _ in range(40) if s.charge(0.0, 1.0))

    assert (burst(False), burst(True)) == (30, 20)
    s = Session(Limits(send_rate=1.0, send_burst=30.0, first_day_burst=20.0))
    s.welcome("me", True)
    while s.charge(0.0, 1.0):
        pass
    assert s.charge(1.0, 1.0) and not s.charge(1.0, 1.0)  # a token a second, as always


# -- the deck ----------------------------------------------------------------------------

BASE = 'prompts = [{id = "p", text = "P?"}]\n'


def deck(extra: str) -> object:
    return parse_deck(tomllib.loads(BASE + extra), "test deck")


def test_the_safety_table_defaults_to_holding_and_reads_minors_and_watch() -> None:
    d = parse_deck(tomllib.loads(BASE), "test deck")
    assert d.safety.hold_contact_details and d.safety.watch == {}
    d = parse_deck(tomllib.loads(BASE + """
[[dimensions]]
id = "age"
label = "Age"
buckets = ["13-17", "18+"]
minors = ["13-17"]
[safety]
hold_contact_details = false
watch = {en = ["send me a photo"]}
"""), "test deck")
    assert not d.safety.hold_contact_details
    assert d.safety.watch == {"en": ("send me a photo",)}
    assert d.has_minor([("age", "13-17")]) and not d.has_minor([("age", "18+")])


@pytest.mark.parametrize(("extra", "says"), [
    ('[safety]\nhold_contact_details = "yes"\n', "hold_contact_details"),
    ('[safety]\nwatch = {en = "one phrase"}\n', "watch"),
    ('[[dimensions]]\nid = "a"\nlabel = "A"\nbuckets = ["x", "y"]\nminors = ["z"]\n', "minors"),
])
def test_a_bad_safety_table_names_the_field(extra: str, says: str) -> None:
    with pytest.raises(DeckError) as e:
        deck(extra)
    assert says in str(e.value)


def test_refusals_have_plain_words() -> None:
    for code in (Code.CONTACT_HELD, Code.CONTACT_NOT_ALLOWED):
        assert " " in ProtocolError(code).message


# -- contact details: a pasted list is held whole ---------------------------------------

def test_a_message_of_many_dotted_words_or_numbers_is_held_whole() -> None:
    """Past 24 words that may be links, or 24 runs of digits, a message is not searched
    further (its cost stays bounded) and is held: a pasted list is not chat."""
    check = ContactCheck()
    assert check.find(" ".join(["a.b"] * 23)) is None
    assert check.find(" ".join(["a.b"] * 30)) == "link"
    assert check.find(" and ".join(["12.03.2024"] * 10)) is None
    assert check.find(" and ".join(["12.03.2024"] * 30)) == "phone"
