"""The contact-detail detector (server/bridgechat/core/contact.py).

(a) The measured corpus: tests/data/contact_corpus/contact.txt (lines that hold a
contact detail) must be held at 95 % or more, ordinary.txt (everyday chat, heavy on
numbers) held at 1 % or less. `pytest tests/test_contact.py -s -q` prints the figures.
(b) Each kind and each disguise on its own, and the everyday numbers that must pass.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from bridgechat.core import contact
from bridgechat.core.contact import DEFAULT_REGIONS, KINDS, ContactCheck, regions_for

CORPUS = Path(__file__).resolve().parent / "data" / "contact_corpus"
LANGUAGES = ("en", "de", "fr", "es", "sv", "pl", "uk", "ar")


def comment(line: str) -> bool:
    """'# ' starts a comment line; "#localhistory ..." is a message."""
    return line == "#" or line.startswith("# ")


def corpus(name: str) -> list[str]:
    """The messages of a corpus file: one a line, comments and blank lines skipped."""
    text = (CORPUS / name).read_text(encoding="utf-8")
    return [line for line in text.splitlines() if line.strip() and not comment(line)]


def by_language(name: str) -> dict[str, int]:
    """How many messages each "# --- xx" section of a corpus file holds."""
    counts: dict[str, int] = {}
    section = None
    for line in (CORPUS / name).read_text(encoding="utf-8").splitlines():
        if (m := re.fullmatch(r"# --- (\w\w)", line)) is not None:
            section = m[1]
        elif comment(line):
            section = None
        elif line.strip() and section is not None:
            counts[section] = counts.get(section, 0) + 1
    return counts


@pytest.fixture(scope="module")
def check() -> ContactCheck:
    return ContactCheck()


# -- (a) the corpus ----------------------------------------------------------------

def test_corpus_held_and_passed(check: ContactCheck) -> None:
    ordinary, contacts = corpus("ordinary.txt"), corpus("contact.txt")
    assert len(ordinary) >= 300, f"only {len(ordinary)} ordinary lines"
    assert len(contacts) >= 150, f"only {len(contacts)} contact lines"
    missed = [line for line in contacts if check.find(line) is None]
    wrong = [(kind, line) for line in ordinary if (kind := check.find(line)) is not None]
    held = 1 - len(missed) / len(contacts)
    false = len(wrong) / len(ordinary)
    figures = (f"contact details: held {held:.1%} of {len(contacts)} contact lines, "
               f"false {false:.1%} of {len(ordinary)} ordinary lines")
    print(f"\n{figures}")
    report = "\n".join([figures, "missed:", *map(repr, missed), "held wrongly:",
                        *(f"{kind}: {line!r}" for kind, line in wrong)])
    assert held >= 0.95 and false <= 0.01, report


def test_corpus_spans_the_deck_languages() -> None:
    ordinary, contacts = by_language("ordinary.txt"), by_language("contact.txt")
    assert {lang: n for lang, n in ordinary.items() if n >= 25}.keys() == set(LANGUAGES), ordinary
    assert {lang: n for lang, n in contacts.items() if n >= 15}.keys() == set(LANGUAGES), contacts


def test_every_kind_found_is_one_of_kinds(check: ContactCheck) -> None:
    found = {check.find(line) for line in corpus("contact.txt")} - {None}
    assert found == set(KINDS)


# -- (b) each kind and each disguise ---------------------------------------------------

@pytest.mark.parametrize("text", [
    "call me on 07911 123456",  # GB, national
    "+44 7911 123456",
    "+44 (0)7911 123456",
    "00 44 7911 123456",
    "(312) 847-2291",  # US
    "Ruf an: 0151 23456789",  # DE
    "In Wien: 0664 1234567",  # AT
    "06 12 34 56 78",  # FR
    "Llámame al 612 34 56 78",  # ES, no trunk 0
    "Zadzwoń: 512 345 678",  # PL
    "070-123 45 67",  # SE
    "+380 50 123 4567",  # UA
    "+38 050 123 45 67",  # UA, the old +38 way
    "055 123 4567",  # SA
    "plus 44 7911 123456",
])
def test_phone_numbers(check: ContactCheck, text: str) -> None:
    assert check.find(text) == "phone"


@pytest.mark.parametrize("text", [
    "my numbers: 07911 123456, 07922 654321",  # two in one run of digits
    "07911 123456 / 0161 234 5678",
    "born 1990, 07911 123456",  # after a year
    "12.03.2024 07911 123456",  # after a date
    "ich bin 25 0151 23456789",  # after an age
    "call 07911 123456 2 times",  # before a count
    "0 1 7 0 / 1 2 3 4 5 6 7",  # slashes that part nothing
])
def test_phone_numbers_among_other_digits(check: ContactCheck, text: str) -> None:
    assert check.find(text) == "phone"


@pytest.mark.parametrize("text", [
    "0 7 9 1 1 . 1 2 3 - 4 5 6",  # spaced, dotted, dashed
    "0-7-9-1-1-1-2-3-4-5-6",
    "07911/123/456",  # slashes
    "(07911) 123 456",  # parentheses
    "０７９１１ １２３４５６",  # full-width
    "٠١٠١٢٣٤٥٦٧٨",  # Arabic-Indic (EG 010...)
    "۰۵۰ ۱۲۳ ۴۵۶۷",  # Extended Arabic-Indic (Persian) digits
    "०७९११ १२३४५६",  # Devanagari
    "07911\u200b123\u200b456",  # zero-width spaces
    "07911\u2060123\u00ad456",  # word joiner, soft hyphen
    "tel07911123456",  # glued to letters
])
def test_phone_number_disguises(check: ContactCheck, text: str) -> None:
    assert check.find(text) == "phone"


@pytest.mark.parametrize("text", [
    "maria.k92@gmail.com",
    "write to MARIA@GMAIL.COM",
    "ｍａｒｉａ＠ｇｍａｉｌ．ｃｏｍ",  # full-width
    "maria\u200b@gmail\u200d.com",  # zero-width
    "maria@gmail.cоm",  # Cyrillic о in the domain
    "maria at gmail dot com",
    "maria (at) gmail (dot) com",
    "maria[at]gmail[.]com",
    "maria {at} web [dot] de",
    "maria at gmail.com",
    "maria @ gmail . com",
    "maria92 at gmail",  # a provider, no ending
    "lena punkt schmidt at gmx punkt de",  # de
    "camille arobase gmail point com",  # fr
    "lucia arroba gmail punto com",  # es
    "erik snabel-a hotmail punkt se",  # sv
    "kasia małpa onet kropka pl",  # pl
    "oksana собака gmail крапка com",  # uk
    "ahmed ات gmail نقطة com",  # ar
])
def test_email_addresses(check: ContactCheck, text: str) -> None:
    assert check.find(text) == "email"


@pytest.mark.parametrize("text", [
    "https://example.org/page",
    "www.lenas-blog.de",
    "bbc.co.uk",  # a bare domain is a link
    "see youtube.com/watch?v=dQw4w9WgXcQ",
    "my site is jakemiller.dev",
    "oksana-photo.com.ua",
    "сайт.рф",
    "youtube dot com",
    "lenas-blog[.]de",
    "mira mi blog luciaviaja punto es",  # a non-English "dot" ending the message
])
def test_links(check: ContactCheck, text: str) -> None:
    assert check.find(text) == "link"


@pytest.mark.parametrize("text", [
    "add me on insta: @maria_92",
    "@maria_92",
    "my snap is xyz123",
    "hmu on snap: mariaxo",
    "IG: maria.k",
    "discord: nightowl#4821",
    "find me on tiktok @dancing.dave",
    "add me maria_92",  # '_' in a name, no platform named
    "wa.me/447911123456",
    "t.me/jake_m",
    "t．me／jake_m",  # full-width dot and slash
    "instagram.com/lena.tanzt",
    "моя інста: kotik_ua",
    "пиши в телегу, ник kotik",  # a Latin word beside a messenger, in Cyrillic
    "سناب: ahmedh99",
    "in\u200csta: @maria",
])
def test_handles(check: ContactCheck, text: str) -> None:
    assert check.find(text) == "handle"


def test_the_first_detail_names_the_kind(check: ContactCheck) -> None:
    assert check.find("call 07911 123456 or mail maria@gmail.com") == "phone"
    assert check.find("mail maria@gmail.com or call 07911 123456") == "email"
    assert check.find("t.me/maria or 07911 123456") == "handle"


# -- ordinary chat passes ----------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "I was born in 1989, moved here in 2001.",
    "A pint is €12.50 now, it was 3,000 zł for the flat, and 1.200 kr for the bike.",
    "See you at 18:30, or 6.30pm if the bus is late.",
    "It was on 12.03.2024, or 3/4/22, I forget.",
    "Born 02.06.2015",  # a valid German number, read as a date
    "I'm 34, my gran is 91, and 45% of us rent.",
    "I have 3 kids and 2 dogs and 1 cat.",
    "The library at 42 High Street opens 09:00-17:30.",
    "We lost 3-1, then won 2-0; about 10-15 people came.",
    "It got 97/100 and version 2.0 is out, 3.75 on average.",
    "e.g. my neighbour, i.e. the one in the U.S. last year",
    "It was fine.Then it rained.",  # sentences joined without a space
    "see you @ 5",
    "I'll be @home",
    "#localhistory #2024",
    "I read it on wikipedia, youtube is fun",
    "I deleted my instagram in 2021, my insta is private anyway.",
    "I arrived at 9 on the dot",
    "My dad worked at a dot com in 1999",
    "Desde mi punto de vista, el barrio ha mejorado.",
    "Du point de vue de ma génération, c'est dur.",
    "Моя собака гавкає о 6 ранку.",
    "Małpa w zoo ukradła mi czapkę.",
    "Le festival attire 20 000 – 30 000 visiteurs.",
    "1 2 3 4 5 6 7 8 9 10",
    "Opening 1990-2000 and 2000-2010, 1 200 000 kr",
    "اجتماع السكان يوم ١٢/٠٣/٢٠٢٤ الساعة ٧:٣٠ مساءً",
    "مصروف البيت الشهري حوالي ٦٠٠٠-٧٠٠٠ جنيه",
    "116 123 is free to call",  # a six-digit helpline
])
def test_ordinary_chat_passes(check: ContactCheck, text: str) -> None:
    assert check.find(text) is None


@pytest.mark.parametrize("text", [
    "I think trust grows slowly, you know? My neighbour helped me carry the sofa, and now "
    "we talk.",
    "Для мене дім це місце, де на мене чекають, навіть коли я запізнююсь і не дзвоню.",
    "In 1989 my parents paid €12.50 for a ticket, and now it costs about 40 euros, crazy.",
])
def test_ordinary_chat_takes_the_fast_path(check: ContactCheck, text: str,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    def slow(self: ContactCheck, text: str, words: bool = True) -> None:
        raise AssertionError(f"the slow path ran for {text!r}")

    monkeypatch.setattr(ContactCheck, "details", slow)
    assert check.find(text) is None
    with pytest.raises(AssertionError):
        check.find("maria@gmail.com")  # the patch is in place


# -- regions -------------------------------------------------------------------------------

def test_national_numbers_are_read_in_the_regions_given() -> None:
    assert ContactCheck(["PL"]).find("dzwoń 512 345 678") == "phone"
    assert ContactCheck(["GB"]).find("dzwoń 512 345 678") is None
    assert ContactCheck(["GB"]).find("dzwoń +48 512 345 678") == "phone"


def test_regions_for_languages() -> None:
    assert regions_for(["de"]) == ("DE", "AT", "CH")
    assert regions_for(["de", "fr-CH", "en_GB"])[:6] == ("DE", "AT", "CH", "FR", "BE", "GB")
    assert len(set(regions_for(["de", "fr"]))) == len(regions_for(["de", "fr"]))
    assert regions_for(["xx"]) == DEFAULT_REGIONS
    assert set(regions_for(LANGUAGES)) == set(DEFAULT_REGIONS)
    assert {"GB", "US", "DE", "FR", "ES", "SE", "PL", "UA", "EG"} <= set(DEFAULT_REGIONS)


def test_unknown_regions_are_refused() -> None:
    with pytest.raises(ValueError, match="XX"):
        ContactCheck(["GB", "XX"])
    with pytest.raises(ValueError):
        ContactCheck([])


def test_the_module_is_pure() -> None:
    source = Path(contact.__file__).read_text(encoding="utf-8")
    imports = re.findall(r"^(?:from|import) ([\w.]+)", source, re.MULTILINE)
    assert set(imports) <= {"__future__", "itertools", "re", "unicodedata", "collections.abc",
                            "typing", "phonenumbers", "linkify_it", "linkify_it.tlds",
                            "bridgechat.core.contact_words", "bridgechat.core.substrings"}, imports
    assert len(source.splitlines()) < 400
