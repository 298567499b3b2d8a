"""Contact details in chat text: phone numbers, e-mail addresses, links, handles.

`ContactCheck.find` names the kind of the first contact detail in a message, or None. It
is pure, and leaves the deciding to `phonenumbers` (libphonenumber's data) and
`linkify-it-py` (links, e-mail addresses); written here are only the normalisation before
them and what no library covers: handles, messengers' names, "at" and "dot" as words.

Undone first: NFKC (０７９, ｍａｉｌ＠ｘ．ｃｏｍ), any Unicode digit made ASCII (٠١٢, ۰۱۲, ०१२),
format characters (zero-width, soft hyphen), Cyrillic or Greek look-alikes in a Latin word,
digits glued to letters, "plus" for '+'. Digits may be split by spaces, dots, dashes,
slashes, parentheses; "at" and "dot" may be words of the deck's languages or bracketed.
Most chat passes 2-3 regular expressions in 3-5 µs; docs/safety.md has the figures."""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Iterable, Iterator
from typing import Any

import phonenumbers
from linkify_it import LinkifyIt  # type: ignore[import-untyped]
from linkify_it.tlds import TLDS  # type: ignore[import-untyped]

from bridgechat.core.contact_words import (
    ASCII_WORD_LIST,
    DOT_WORDS,
    GENERIC_TLDS,
    INVITES,
    NOT_DOMAINS,
    NOT_NAMES,
    PROVIDERS,
    WORD_LIST,
)
from bridgechat.core.substrings import Substrings

KINDS = ("phone", "email", "link", "handle")

# National formats tried per language: where most of its speakers live (for Arabic, also where
# Europe's come from); +/00 numbers are found whatever the country. Each region costs a parse per
# run of digits; Lebanon and Tunisia (8 digits, no leading 0: any count could be one) are out.
LANGUAGE_REGIONS: dict[str, tuple[str, ...]] = {
    "en": ("GB", "US", "IE", "AU"), "de": ("DE", "AT", "CH"), "fr": ("FR", "BE", "CH"),
    "es": ("ES", "MX", "AR", "CO"), "sv": ("SE", "FI"), "pl": ("PL",), "uk": ("UA",),
    "ar": ("EG", "SA", "AE", "MA", "DZ", "IQ", "JO", "SY")}


def regions_for(languages: Iterable[str]) -> tuple[str, ...]:
    """The phone regions of these languages ("de", "pt-BR"...), or all when none is known."""
    codes = (re.split("[-_]", language.lower())[0] for language in languages)
    regions = dict.fromkeys(r for code in codes for r in LANGUAGE_REGIONS.get(code, ()))
    return tuple(regions) or DEFAULT_REGIONS


DEFAULT_REGIONS = regions_for(("en", "de", "fr", "es", "sv", "pl", "uk", "ar"))

# -- normalising ---------------------------------------------------------------------
# The format characters (Unicode's category Cf), and the other invisible ones.
INVISIBLE = re.compile(
    "[\u00ad\u034f\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u115f\u1160\u17b4\u17b5"
    "\u180b-\u180f\u200b-\u200f\u202a-\u202e\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0"
    "\ufff9-\ufffb\U000110bd\U000110cd\U00013430-\U00013438\U0001bca0-\U0001bca3"
    "\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f]")
STOPS = str.maketrans({"\u3002": ".", "\uff61": ".", "\u0701": ".", "\u06d4": "."})
OTHER_DIGIT = re.compile(r"(?![0-9])\d")
# Cyrillic and Greek letters that look Latin, in a word with Latin ones ("gmail.cоm").
LOOKALIKE = str.maketrans("аеорсухіјѕԁӏɡοαρντиАВЕКМНОРСТХІЈЅ", "aeopcyxijsdlgoapvtuABEKMHOPCTXIJS")
MIXED = re.compile(r"[\w.@-]*(?:[a-z@][\w.@-]*[а-яіјѕԁӏα-ω]|[а-яіјѕԁӏα-ω][\w.@-]*[a-z@])"
                   r"[\w.@-]*", re.IGNORECASE)
GLUED = re.compile(r"(?<=[^\W\d_])(?=[0-9]{7})|(?<=[0-9]{7})(?=[^\W\d_])")
PLUS = re.compile(r"(?<!\w)(?:plus|плюс|زائد)\s*(?=[0-9])", re.IGNORECASE)


def normalised(text: str) -> str:
    """The text as the libraries are shown it (the module's docstring lists the steps)."""
    if text.isascii():
        return text
    text = INVISIBLE.sub("", unicodedata.normalize("NFKC", text)).translate(STOPS)
    text = OTHER_DIGIT.sub(lambda m: str(unicodedata.decimal(m[0])), text)
    return MIXED.sub(lambda m: m[0].translate(LOOKALIKE), text)


# -- the prefilter: the marks, platforms and dots an address or a handle needs ----------
ASCII_WORDS = Substrings(ASCII_WORD_LIST)
WORDS = Substrings(WORD_LIST)
DOT_LETTER = re.compile(r"\.(?=[^\W\d_])")
# Seven digits (the shortest number of the regions) apart by at most 3 non-letters each.
ASCII_DIGITS = re.compile(r"[0-9](?:[^\w\n]{0,3}+[0-9]){6}")
# Digits to b"1", all else b"0": under seven, the expression above (4x the cost) need not run.
DIGIT_ONES = bytes(49 if 48 <= c <= 57 else 48 for c in range(256))
DIGITS = re.compile(r"\d(?:[^\w\n]{0,3}+\d){6}")

# -- handles ----------------------------------------------------------------------------
AL = "(?:ال)?"  # the Arabic article, written together with the word
PLATFORM = re.compile(r"(?<!\w)(?:" + "|".join((
    r"insta(?:gram\w*)?(?![a-z])", r"[иі]нст(?:аграм\w*|а|і|е|у|ою)(?!\w)", "ig",
    rf"{AL}[اإ]نست\w*", r"snap(?:chat\w*|ie|a|u)?(?![a-z])", r"сн[еа]п\w*", rf"{AL}سناب\w*",
    r"telegram\w*", r"telega|teleg[ęie]", "tg", "тг", r"телег(?:рам\w*|а|у|е|і|ою)(?!\w)",
    rf"{AL}(?:تل[يى]?[غجق]رام|تيليجرام)", r"discord\w*", r"дискорд\w*", f"{AL}ديسكورد",
    r"tik ?tok\w*", r"т[іи]к ?т[оі]\w*", rf"{AL}تيك ?توك", r"whats ?app\w*", r"в[оа]тсап\w*",
    r"вацап\w*", rf"{AL}واتس(?: ?[اآ]ب)?", r"viber\w*", r"вайбер\w*", f"{AL}فايبر",
    r"skype\w*", "kik", "wechat", r"facebook\w*", "fb", "фб", r"фейсбук\w*",
    rf"{AL}فيس ?بوك", r"twitter\w*", r"тв[іи]т+ер\w*", f"{AL}تويتر", r"messenger\w*",
    r"reddit\w*", r"twitch\w*", r"youtube\w*", "yt", "linkedin", "onlyfans", "sc",
    "(?P<mail>gmail|hotmail|icloud|yahoo)")) + r")(?!\w|\.[a-z])", re.IGNORECASE)
NAME = r"[a-z0-9_](?:[a-z0-9_.]{0,28}[a-z0-9_])?"  # Latin, 1-30 long, as platforms allow
AT_NAME = re.compile(rf"(?<![\w@.])@({NAME})(?![\w@])", re.IGNORECASE)
UNDERSCORED = re.compile(r"(?<![\w@.#/])[a-z0-9]+(?:_+[a-z0-9]+)+(?![\w@#/])", re.IGNORECASE)
# Discord's name#1234, Reddit's u/name.
TAG = re.compile(r"(?i)(?<![\w#])[a-z0-9_.]{2,32}#[0-9]{4}(?![\w#])|(?<![\w/])u/\w{3,20}\b")
TOKEN = re.compile(rf"(?<![\w@.#/])@?({NAME})(?![\w@#/]|\.\w)", re.IGNORECASE)
NAMED = re.compile(  # "snap: x", "my snap is x.", "mein Snap ist x", "mi snap es x"...
    r"(?:\s*[:=→]|\s*->|\s+[-—–]|\s+(?P<is>is|ist|es|est|c'est|är|to|це|هو|هي))\s*@?("
    + NAME + r")(?=\s*(?:[^\w\s]|$))", re.IGNORECASE)
# "is" only names after "my" ("my snap is x", not "youtube is fun").
MINE = re.compile(r"(?i)(?<!\w)(?:my|mein|meine|mi|mon|ma|min|mitt|mój|moja|мій|моя|мой)\s+$")


def handle(text: str) -> tuple[int, str] | None:
    """The first handle, (start, kind): '@name' (not "@5pm", "@home"), a Discord tag,
    a name with '_' (maria_92), or a name beside a messenger's ("insta: x", "x.k on tiktok");
    "email" beside a mail provider's ("my gmail is x.y")."""
    found: list[tuple[int, str]] = []
    if (m := UNDERSCORED.search(text)) is not None and any(c.isalpha() for c in m[0]):
        found.append((m.start(), "handle"))
    platforms = list(PLATFORM.finditer(text))
    for m in AT_NAME.finditer(text):
        name = m[1].lower()
        if not name[0].isdigit() and (platforms or name not in NOT_NAMES):  # not "@5pm"
            found.append((m.start(), "handle"))
            break
    if (m := TAG.search(text)) is not None:
        found.append((m.start(), "handle"))
    for p in platforms[:5]:
        if (at := beside(text, p)) is not None:
            found.append((at, "email" if p["mail"] else "handle"))
            break
    return min(found, default=None)


def beside(text: str, platform: re.Match[str]) -> int | None:
    """Where a name beside this messenger's starts (or the messenger's): right after it ("snap: x",
    "my snap is x."), within 40 characters if like a user name, or within 15 after a name in
    another script if Latin ("мій телеграм kotik")."""
    start, end = platform.span()
    named = NAMED.match(text, end)
    if (named is not None and any(c.isalpha() for c in named[2])
            and named[2].lower() not in NOT_NAMES
            and (not named["is"] or MINE.search(text, max(0, start - 8), start))):
        return start
    for t in TOKEN.finditer(text, max(0, start - 40), min(len(text), end + 40)):
        word = t[1]
        if start <= t.start() < end or PLATFORM.fullmatch(word):
            continue
        if looks_like_name(word) or (not platform[0].isascii() and end < t.start() <= end + 15
                                     and len(word) >= 3 and word.lower() not in NOT_NAMES
                                     and any(c.isalpha() for c in word)):
            return min(start, t.start())
    return None


def looks_like_name(word: str) -> bool:
    """A user name, not a word: letters with '_' or '.' inside, or first and 2 digits or more."""
    inner = word.strip("_.")
    return sum(c.isalpha() for c in word) >= 2 and (
        "_" in inner or "." in inner or (word[0].isalpha() and sum(map(str.isdigit, word)) >= 2))


# -- e-mail addresses and links -------------------------------------------------------
COUNTRY_TLDS = tuple(t.lower() for t in TLDS if len(t) == 2)
LINKISH = re.compile(r"(?<!\S)\S*?(?:@|\.[^\W\d_]|://)\S*")  # a word that may be one
SPACE = r"[^\S\n]"
AT = (rf"(?:{SPACE}*[(\[{{<]{SPACE}*(?:at|@|arroba|ات){SPACE}*[)\]}}>]{SPACE}*|{SPACE}+"
      rf"(?:at|arroba|arobase|snabel-?a|ma[łl]pa|собака|ат|ات){SPACE}+|{SPACE}?@{SPACE}?)")
SPELLED_DOT = "|".join(DOT_WORDS)
DOT = (rf"(?:{SPACE}*[(\[{{<]{SPACE}*(?:{SPELLED_DOT}|\.){SPACE}*[)\]}}>]{SPACE}*"
       rf"|{SPACE}+(?:{SPELLED_DOT}){SPACE}+|{SPACE}?\.{SPACE}?)")
LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
TLD = "|".join(sorted((*COUNTRY_TLDS, *GENERIC_TLDS), key=len, reverse=True))
SPELLED_EMAIL = re.compile(rf"(?i)(?<![\w.@'’])({LABEL}(?:{DOT}{LABEL}){{0,3}}){AT}({LABEL})"
                           rf"((?:{DOT}{LABEL}){{0,3}}{DOT}({TLD}))?(?![\w@])")
SPELLED_LINK = re.compile(rf"(?i)(?<![\w.@])({LABEL})(?:{DOT}{LABEL}){{0,3}}{DOT}({TLD})"
                          rf"(?:{SPACE}?/{SPACE}?\S+)?(?![\w@])")
BRACKET_OR_DOT = re.compile(r"[(\[{<]|(?<![a-z])dot(?![a-z])", re.IGNORECASE)
OTHER_DOT = re.compile(rf"(?i){SPACE}\.|\.{SPACE}|(?<![a-z])(?:{SPELLED_DOT})(?![a-z])")


def spelled(text: str) -> tuple[int, str] | None:
    """The first address with "at"/"dot" as words or bracketed, (start, kind). An e-mail needs a
    known ending or provider ("x at gmail"); a link, a bracket, "dot" or to end the message."""
    for m in SPELLED_EMAIL.finditer(text):
        if ((m[3] is None and m[2].lower() not in PROVIDERS)
                or (m[4] is not None and m[4].istitle())
                or {m[1].lower(), m[2].lower()} & NOT_DOMAINS):
            continue
        return m.start(), "email"
    for m in SPELLED_LINK.finditer(text):
        if m[1].lower() in NOT_DOMAINS or len(m[1]) < 2 or m[2].istitle():
            continue
        if BRACKET_OR_DOT.search(m[0]) or (
                OTHER_DOT.search(m[0]) and text[m.end():].strip(" .!?)") == ""):
            return m.start(), "link"
    return None


# -- phone numbers ---------------------------------------------------------------------
# [+(]?[0-9]..., written to start with one character class for the same reason.
RUN = re.compile(r"[+(0-9](?:(?<=[+(])[0-9]|(?<=[0-9]))(?:[^\w\n]{0,3}+[0-9])+")
NOT_DIGIT = re.compile("[^0-9]")
# At most this many link-like words or runs of digits: more (a pasted list) is held whole.
MOST = 24
# Never phone numbers, blanked out first: over 15 digits (E.164's most); 11 or more without
# a leading 0 or + (no national number is, `fits` says); a decimal with 7 digits after its point.
# 16 digits or more, 11 or more not led by 0 or +, a long decimal. Each branch starts
# with the same digit, taken first, so that `re` skips every other character in C (the
# lookbehinds then look past it): four times faster on a line with one long number.
NOT_PHONES = re.compile(r"[0-9](?:[0-9]{15,}|(?<![0-9+].)(?<=[1-9])[0-9]{10,}(?![0-9])"
                        r"|(?<![0-9.].)[0-9]*\.[0-9]{7,}(?![0-9.]))")
GROUPED = re.compile(r"[0-9]{1,3}(?:[ .,\u00a0\u202f'][0-9]{3})+")  # 20 000, 1.200.000
RANGE = re.compile(r"\s[-–—]\s")
SOFT = re.compile(r"\s*[,;|]\s*|\s+/\s+")  # parts a run of digits into numbers
LEAD = re.compile(r"(?<![0-9+(])(?:[+(]|0)")
LAST_GROUP = re.compile(r"[^0-9]+[0-9]+$")
HEAD = re.compile(r"(?:[^0-9]*[0-9]){1,16}")  # no phone number has more digits
SPAN = re.compile(r"([0-9]{1,5})\s*[-–—]\s*([0-9]{1,5})")  # 2000-2500
CLOCK = re.compile(r"(?<![0-9])[0-2]?[0-9][:h][0-5][0-9](?![0-9])")
YEAR = re.compile(r"(?:19|20)[0-9]{2}")
DATE = re.compile(r"(?<![0-9][./-])(?<![0-9])(?:(?:0?[1-9]|[12][0-9]|3[01])([./-])"
                  r"(?:0?[1-9]|1[0-2])\1(?:19|20)?[0-9]{2}|(?:19|20)[0-9]{2}-(?:0[1-9]|1[0-2])"
                  r"-[0-3][0-9])(?![0-9]|[./-][0-9])")


def not_a_phone(raw: str) -> bool:
    """Digits that read as dates ("02.06.2015", a valid German number), times, years, amounts
    ("1 200 000", "20 000 – 30 000"), a span ("6000-7000") or a count ("1 2 3 4 5 6 7 8")."""
    groups = re.findall("[0-9]+", CLOCK.sub(" ", DATE.sub(" ", raw)))
    if sum(map(len, groups)) < 7 or all(YEAR.fullmatch(g) for g in groups):
        return True
    parts = [p.strip() for p in RANGE.split(raw)]
    if all(GROUPED.fullmatch(p) for p in parts) and (len(parts) > 1 or raw.endswith("000")):
        return True
    if (span := SPAN.fullmatch(raw.strip())) is not None:
        return int(span[2]) > int(span[1])
    numbers = [int(g) for g in groups]
    return len(numbers) >= 4 and all(b == a + 1 for a, b in itertools.pairwise(numbers))


def candidates(run: str) -> list[tuple[int, str]]:
    """(offset, text) of the numbers to try in a run of digits: the run, each part between commas,
    dates, times, from its start or a group with 0, + or ( ("25 0151 2345678"), with or without
    its last group ("07911 123456 2 times")."""
    cuts = {0, len(run)}
    for m in itertools.chain(SOFT.finditer(run), DATE.finditer(run), CLOCK.finditer(run)):
        cuts.update(m.span())
    found = {(0, head[0] if (head := HEAD.match(run)) else "")}
    for a, b in itertools.pairwise(sorted(cuts)):
        for start in sorted({a, *(m.start() for m in LEAD.finditer(run, a, b))})[:4]:
            part = head[0].strip(" ,;/|") if (head := HEAD.match(run, start, b)) else ""
            found.update((start, p) for p in (part, LAST_GROUP.sub("", part)))
    return sorted((at, part) for at, part in found if not not_a_phone(part))


def valid_in(digits: str, region: str) -> bool:
    """Whether `digits` are a valid number of `region`: 10 times cheaper than the matcher."""
    try:
        return phonenumbers.is_valid_number(phonenumbers.parse(digits, region))
    except phonenumbers.NumberParseException:
        return False


def digits(text: str, seven: re.Pattern[str]) -> bool:
    """Seven digits or more that may be a phone number (the long ones never are)."""
    return seven.search(text) is not None and seven.search(NOT_PHONES.sub(" ", text)) is not None


class ContactCheck:
    """Finds contact details in chat messages, for the phone regions given."""

    def __init__(self, regions: Iterable[str] = DEFAULT_REGIONS) -> None:
        self.regions = tuple(dict.fromkeys(r.upper() for r in regions))
        unknown = [r for r in self.regions if r not in phonenumbers.SUPPORTED_REGIONS]
        if unknown or not self.regions:
            raise ValueError(f"unknown phone regions: {unknown or 'none given'}")
        # A national number with a leading 0 is tried where the trunk prefix is 0, others elsewhere.
        metadata = [phonenumbers.PhoneMetadata.metadata_for_region(r) for r in self.regions]
        zero = {m.id for m in metadata if m is not None and m.national_prefix == "0"}
        self.zero_regions = tuple(r for r in self.regions if r in zero)
        self.other_regions = tuple(r for r in self.regions if r not in zero)
        # Trunk prefix and possible lengths per region: digits of no possible length aren't parsed.
        self.shape = {m.id: (m.national_prefix or "", frozenset(m.general_desc.possible_length))
                      for m in metadata if m is not None and m.general_desc is not None}
        # Known domains only (by default linkify-it takes any two letters), no '//' links.
        self.linkify = LinkifyIt().add("//", None).tlds([*COUNTRY_TLDS, *GENERIC_TLDS])
        # Loads the regions' metadata and compiles the libraries' expressions now, not mid-chat.
        national = phonenumbers.PhoneNumberFormat.NATIONAL
        for n in filter(None, map(phonenumbers.example_number, self.regions)):
            self.phone(phonenumbers.format_number(n, national))
        self.phone("+44 7911 123456")
        list(self.links("a@b.com x.com/y https://x.co/y mailto:a@b.com"))

    def find(self, text: str) -> str | None:
        """The kind of the first contact detail in `text`, or None."""
        if text.isascii():
            raw = text.lower().encode("ascii")
            return self.find_ascii(text, raw, ASCII_WORDS.any_in_ascii(raw))
        text = unicodedata.normalize("NFKC", text)
        if not text.isprintable():  # one pass in C, where the search takes ten times as long
            text = INVISIBLE.sub("", text)
        low = text.lower()
        words = WORDS.any_in(low) or DOT_LETTER.search(low) is not None
        if not words and not digits(text, DIGITS):
            return None
        return min(self.details(normalised(text), words), default=(0, None))[1]

    def find_ascii(self, text: str, raw: bytes, words: bool) -> str | None:
        """`find` for an ASCII `text`, given it in lower case as bytes and whether that
        holds one of ASCII_WORD_LIST (core/checks.py asks with the watch list's words)."""
        if not words and (raw.translate(DIGIT_ONES).count(49) < 7
                          or not digits(text, ASCII_DIGITS)):
            return None
        return min(self.details(text, words), default=(0, None))[1]

    def details(self, text: str, words: bool = True) -> Iterator[tuple[int, str]]:
        """(start, kind) of the first detail of each kind (a phone number only if before);
        without `words` (no mark, platform or dot in the text) only phone numbers."""
        first: int = len(text)
        if words:
            if (hit := handle(text)) is not None:
                first = hit[0]
                yield hit
            for hit in self.links(text):
                first = min(first, hit[0])
                yield hit
                break
            if (hit := spelled(text[:first + 80])) is not None:  # one starting before counts
                first = min(first, hit[0])
                yield hit
        if (number := self.phone(PLUS.sub("+", GLUED.sub(" ", text[:first])))) is not None:
            yield number, "phone"

    def links(self, text: str) -> Iterator[tuple[int, str]]:
        """(start, kind) of the links and addresses linkify finds in words that could be one."""
        for n, word in enumerate(LINKISH.finditer(text)):
            if n == MOST:  # a pasted list, not chat: held whole, and the cost stays bounded
                yield word.start(), "link"
                return
            for m in self.linkify.match(word[0][:200]) or ():  # its cost grows faster
                if (kind := link_kind(m)) is not None:
                    yield word.start() + int(m.index), kind

    def phone(self, text: str) -> int | None:
        """Where the first valid phone number of the regions starts in `text`."""
        # Blanked to the same length, so that positions found later still hold.
        text = NOT_PHONES.sub(lambda m: " " * len(m[0]), text)
        for n, run in enumerate(RUN.finditer(text)):
            if n == MOST or len(run[0]) > 400:  # as for links: a list of numbers is held whole
                return run.start()
            for at, digits in candidates(run[0]):
                start = max(0, run.start() + at - 1)
                window = text[start:run.start() + at + len(digits) + 1]
                lead = digits.lstrip("( ")
                if digits.startswith("+"):
                    regions = self.regions[:1]  # any region reads an international number
                elif lead.startswith("00"):
                    regions = self.regions
                else:
                    regions = self.zero_regions if lead[0] == "0" else self.other_regions
                    only = NOT_DIGIT.sub("", lead)
                    regions = tuple(r for r in regions if self.fits(only, r))
                for region in (r for r in regions if valid_in(digits, r)):
                    for m in phonenumbers.PhoneNumberMatcher(window, region,
                                                             phonenumbers.Leniency.VALID):
                        if not not_a_phone(m.raw_string):
                            return start + m.start
        return None


    def fits(self, digits: str, region: str) -> bool:
        """Could these digits be a national number of `region`, by length alone?"""
        prefix, lengths = self.shape.get(region, ("", frozenset()))
        if not lengths:
            return True
        return len(digits) in lengths or (
            bool(prefix) and digits.startswith(prefix) and len(digits) - len(prefix) in lengths)


def link_kind(m: Any) -> str | None:
    """"email", "link" or "handle" (a messenger's invitation or profile) for a match of
    linkify; None for two sentences joined by a full stop ("so tired.It was")."""
    if m.schema == "mailto:":
        return "email"
    rest = str(m.raw).split("://", 1)[-1]
    host = re.split("[/?#:]", rest, maxsplit=1)[0]
    if not m.schema and rest == host and host.rsplit(".", 1)[-1].istitle():
        return None
    host = host.lower().removeprefix("www.")
    invite = host in INVITES or any(host.endswith("." + i) for i in INVITES)
    return "handle" if invite and rest != host else "link"
