"""Languages: every catalog has every English key with the same placeholders and
the plural forms its language needs; the default deck is translated into the
same languages; and in Chromium the page follows the browser's languages, can
be switched, and sets lang and dir (Arabic right to left).
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Callable

import pytest
from browser_util import (  # noqa: F401 - the *_fixture names are fixtures
    CHROMIUM,
    Member,
    browser_fixture,
    log,
    open_member_fixture,
    room,
    say,
)
from conftest import ROOT
from playwright.sync_api import expect

CATALOGS = ROOT / "client_web" / "i18n"
LOCALES = ["en", "de", "fr", "sv", "pl", "ar", "uk", "es"]
# Unicode CLDR plural categories (what Intl.PluralRules can answer) per locale.
PLURALS = {
    "en": {"one", "other"}, "de": {"one", "other"}, "sv": {"one", "other"},
    "fr": {"one", "many", "other"}, "es": {"one", "many", "other"},
    "pl": {"one", "few", "many", "other"}, "uk": {"one", "few", "many", "other"},
    "ar": {"zero", "one", "two", "few", "many", "other"},
}
DECK_FILE = ROOT / "server" / "bridgechat" / "data" / "deck.toml"
DECK = tomllib.loads(DECK_FILE.read_text(encoding="utf-8"))
browser_only = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(),
                       reason=f"{CHROMIUM} is not installed (apt-get install chromium)"),
]


def load(locale: str) -> dict[str, object]:
    return json.loads((CATALOGS / f"{locale}.json").read_text(encoding="utf-8"))


def placeholders(value: object) -> set[str]:
    texts = value.values() if isinstance(value, dict) else [value]
    return {m for v in texts for m in re.findall(r"\{(\w+)\}", str(v))} - {"count"}


@pytest.mark.parametrize("locale", LOCALES)
def test_catalog_is_complete(locale: str) -> None:
    en, cat = load("en"), load(locale)
    assert cat["$dir"] == ("rtl" if locale == "ar" else "ltr")
    assert set(cat) == set(en), (set(en) - set(cat), set(cat) - set(en))
    for key, value in cat.items():
        assert value, key
        assert placeholders(value) == placeholders(en[key]), key
        if isinstance(en[key], dict):
            assert isinstance(value, dict), key
            missing = PLURALS[locale] - set(value)
            assert not missing, (key, missing)
            assert set(value) <= PLURALS[locale] | {"zero"}, key


def test_deck_is_translated() -> None:
    for kind in ("prompts", "dimensions", "cards"):
        for entry in DECK[kind]:
            have = set(entry.get("translations", {}))
            assert have >= set(LOCALES) - {"en"}, (kind, entry.get("id", entry["text"
                                                  if "text" in entry else "label"]))


@pytest.mark.usefixtures("server")
@pytest.mark.parametrize("_", [None], ids=["browser"])
@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is not installed")
def test_page_follows_browser_language_and_switches(
        open_member: Callable[..., Member], _: None) -> None:
    m = open_member(locale="de-AT")
    page = m.page
    expect(page.locator("html")).to_have_attribute("lang", "de")
    heading = page.get_by_role("heading", level=1, name="Sprich mit jemandem")
    expect(heading).to_be_focused()
    # The deck's profile questions come in German too.
    expect(page.locator("#dims label").first).to_have_text(
        DECK["dimensions"][0]["translations"]["de"])
    expect(page).to_have_title("Start · Bridgechat")
    # Polish plurals through Intl.PluralRules: 2 -> "few".
    page.locator("#langs summary").click()
    page.get_by_role("link", name="Polski").click()
    expect(page.locator("html")).to_have_attribute("lang", "pl")
    page.locator(".step-link[data-go='1']").click()
    page.locator("#prompt-list input").nth(0).check()
    page.locator("#prompt-list input").nth(1).check()
    expect(page.locator("#prompts-hint")).to_contain_text(load("pl")["start.chosen"]["few"]
                                                         .replace("{count}", "2"))
    # Arabic: right to left, and the choice is remembered.
    page.locator("#langs summary").click()
    page.get_by_role("link", name="العربية").click()
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.locator("html")).to_have_attribute("lang", "ar")
    page.reload()
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.get_by_role("heading", level=1)).to_have_text(str(load("ar")["start.title"]))
    assert page.url.rstrip("/").endswith(str(page.evaluate("location.host")))


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is not installed")
def test_prompts_come_in_the_page_language(open_member: Callable[..., Member]) -> None:
    page = open_member(locale="de-DE").page
    de_prompt = DECK["prompts"][0]["translations"]["de"]
    page.locator(".step-link[data-go='1']").click()
    expect(page.get_by_role("checkbox", name=de_prompt)).to_be_visible(timeout=3000)


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is not installed")
def test_arabic_and_english_members_talk(open_member: Callable[..., Member]) -> None:
    """Each sees the page in their own language; messages carry dir=auto."""
    a, b = open_member(locale="ar-EG"), open_member(locale="en-GB")
    ar = load("ar")
    pa, pb = a.page, b.page
    for p, stance in ((pa, "agree"), (pb, "disagree")):
        p.locator(".step-link[data-go='1']").click()
        p.locator("#prompt-list input[value=language]").check()
        p.locator("#prompt-list input[value=language]").locator(
            "xpath=ancestor::li").locator("select").select_option(stance)
        p.locator("#join-btn").click()
    expect(room(pa).locator(".stage-name")).to_contain_text(str(ar["stage.icebreaker"]),
                                                            timeout=15_000)
    # The icebreaker card comes from the deck in Arabic (once, in the log).
    cards = [c["translations"]["ar"] for c in DECK["cards"] if c["stage"] == "icebreaker"]
    expect(room(pa).locator(".log .card-text")).to_have_text(re.compile(
        "|".join(re.escape(c) for c in cards)))
    say(pb, "Hello, how are you?")
    msg = log(pa).locator(".msg").last
    expect(msg).to_have_attribute("dir", "auto")
    expect(msg).to_contain_text("Hello, how are you?")
    expect(pa.locator("html")).to_have_attribute("dir", "rtl")
    expect(pb.locator("html")).to_have_attribute("dir", "ltr")


def test_match_reasons_are_translated() -> None:
    """matching/catalog.py: the `because` catalogs have English's keys and placeholders."""
    from bridgechat.matching.reasons import CATALOG

    assert set(CATALOG) >= set(LOCALES)
    for locale in LOCALES:
        assert set(CATALOG[locale]) == set(CATALOG["en"]), locale
        for key, text in CATALOG[locale].items():
            assert placeholders(text) == placeholders(CATALOG["en"][key]), (locale, key)


def test_the_meet_again_reason_is_the_servers() -> None:
    """The page knows a match is a meeting again by the server's reason, in its language."""
    from bridgechat.matching.catalog import CATALOG

    for locale in LOCALES:
        assert load(locale)["match.again"] == CATALOG[locale]["again"], locale


def test_alias_words_cover_the_servers() -> None:
    """Every word of the server's aliases has a translation, with a form for its gender."""
    from bridgechat.core.aliases import ADJECTIVES, NOUNS

    for locale in LOCALES:
        cat = load(locale)
        if locale == "en":
            assert cat["alias.adjs"] == cat["alias.nouns"] == "-"
            continue
        adjs = dict(part.split("=") for part in str(cat["alias.adjs"]).split(";"))
        nouns = dict(part.split("=") for part in str(cat["alias.nouns"]).split(";"))
        assert set(adjs) == set(ADJECTIVES) and set(nouns) == set(NOUNS), locale
        genders = {len(forms.split("|")) for forms in adjs.values()}
        assert len(genders) == 1, (locale, genders)  # as many forms for every adjective
        for word, entry in nouns.items():
            text, gender = entry.split("|")
            assert text and 0 <= int(gender) < genders.copy().pop(), (locale, word)
