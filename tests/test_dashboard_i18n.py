"""The dashboard in the deck's languages, in real Chromium against the real server.

Signed in from an Arabic browser, the dashboard is right to left and every tab, with real
data on it (a waiting member, a live room, reports open and resolved, a suspension, the
shift note, invite codes, the audit log), shows no English: no string of the English
catalog, and no Latin word at all once the data (prompt texts, ids, names) is taken out.
The server's English error messages are replaced by the catalog's words for their codes.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from browser_util import BROWSER, PROMPT
from conftest import ROOT
from dashboard_util import desk, shot, sign_in
from modclient import Mod
from playwright.async_api import Page, expect
from test_moderation_reports import report, said
from wsclient import DIVIDE_A, Clients, fresh_lang

pytestmark = BROWSER

CATALOGS = ROOT / "client_web" / "i18n" / "moderate"
LANGS = ["en", "de", "es", "fr", "pl", "sv", "uk", "ar"]
TABS_AR = ["الآن", "البلاغات", "الإيقافات", "الأسئلة", "السجل"]
# Not English but names: the product, each language in itself, an operator's flag.
NAMES = ["Bridgechat", "English", "Deutsch", "Español", "Français", "Polski", "Svenska",
         "--require-invite"]

TEXT_JS = """() => {
  const parts = [document.body.innerText];
  for (const el of document.querySelectorAll('[aria-label]')) {
    if (el.checkVisibility()) parts.push(el.getAttribute('aria-label'));
  }
  parts.push(document.title);
  return parts.join('\\n');
}"""


def load(lang: str) -> dict[str, Any]:
    return dict(json.loads((CATALOGS / f"{lang}.json").read_text(encoding="utf-8")))


def strings(value: Any) -> list[str]:
    return list(value.values()) if isinstance(value, dict) else [value]


def test_every_catalog_has_the_english_keys_and_placeholders() -> None:
    en = load("en")
    for lang in LANGS[1:]:
        other = load(lang)
        assert set(other) == set(en), (lang, set(other) ^ set(en))
        for key, value in en.items():
            for text in strings(other[key]):
                assert isinstance(text, str) and text.strip(), (lang, key)
            wanted = set(re.findall(r"\{(\w+)\}", strings(value)[-1]))
            # Arabic says "one" and "two" in words, without the number.
            assert wanted <= set(re.findall(r"\{(\w+)\}", strings(other[key])[-1])), (lang, key)


def english_strings() -> set[str]:
    en, ar = load("en"), load("ar")
    found = set()
    for key, value in en.items():
        for text in strings(value):
            for piece in re.split(r"\{\w+\}", text):  # the words around each placeholder
                piece = piece.strip(" .,:;()–")
                if re.search(r"[A-Za-z]{2}", piece) and piece not in strings(ar[key]):
                    found.add(piece)
    return found


async def visible_text(page: Page) -> str:
    return str(await page.evaluate(TEXT_JS))


async def data_strings(mod: Mod, extra: list[str]) -> list[str]:
    """What the dashboard shows that is data, not its own words: longest first."""
    out = [*PROMPT.values(), *PROMPT.keys(), *NAMES, *extra, "ann", "mo"]
    out += [p["lang"] for p in (await mod.get("/api/prompts")).body["prompts"]]
    for r in (await mod.get("/api/reports")).body["reports"]:
        out += [r["id"], r.get("author") or ""]
    for s in (await mod.get("/api/suspensions")).body["suspensions"]:
        out += [s["id"], s["author"]]
    for e in await mod.audit():
        out += [e["target"].partition(":")[2], e.get("note") or ""]
    for inv in (await mod.get("/api/invites")).body["invites"]:
        out += [inv["id"], inv.get("label") or ""]
    return sorted((s for s in out if s), key=len, reverse=True)


async def test_an_arabic_dashboard_is_right_to_left_with_no_english(
        tmp_path_factory: pytest.TempPathFactory) -> None:
    async with desk(tmp_path_factory, locale="ar") as d, Clients(d.srv.ws_url) as clients, \
            Mod(d.srv.url) as admin:
        page = d.page
        await page.goto(d.srv.url + "/moderate.html")
        html = page.locator("html")
        await expect(html).to_have_attribute("dir", "rtl")
        await expect(html).to_have_attribute("lang", "ar")
        # A wrong password: the server's English message is replaced by the catalog's words.
        await page.get_by_label("اسم المستخدم").fill("ann")
        await page.get_by_label("كلمة المرور").fill("not the right password at all")
        await page.get_by_role("button", name="دخول").click()
        await expect(page.locator("#login-err")).to_have_text(load("ar")["err.bad_credentials"])
        await sign_in(page, d.srv.url, "ann", username="اسم المستخدم", password="كلمة المرور",
                      submit="دخول", live="مباشر")

        # Something on every tab.
        await admin.login("ann")
        langs = [fresh_lang() for _ in range(3)]
        waiting = await clients.member()
        await waiting.join([waiting.prompt_id(0)], [langs[0]], DIVIDE_A)
        one = await clients.pair(lang=langs[1])
        two = await clients.pair(lang=langs[2])
        await report(one, await said(one, "كلام جارح"), "personal_info", note="ملاحظة")
        gone = (await report(two, await said(two, "تهديد"), "threat"))["report"]
        assert (await admin.post(f"/api/reports/{gone}/resolve",
                                 {"action": "suspend", "days": 3, "note": "تهديد"})).status == 200
        note = {"text": "انتبهوا للغرفة الثانية"}
        assert (await admin.post("/api/shift/note", note)).status == 201
        assert (await admin.post("/api/invites", {"label": "مكتبة", "max_uses": 5})).status == 201
        await expect(page.locator("#f-reports")).to_have_text("1")

        english = english_strings()
        for name in TABS_AR:
            await page.get_by_role("tab", name=name, exact=True).click()
            await expect(page.get_by_role("tab", name=name, exact=True)).to_have_attribute(
                "aria-selected", "true")
            if name == "البلاغات":
                await page.locator("#report-list tbody tr").first.get_by_role("button").click()
                await expect(page.locator("#report")).to_be_visible()
            if name == "الإيقافات":
                await expect(page.locator("#suspensions tbody tr")).to_have_count(1)
            if name == "السجل":
                await expect(page.locator("#audit tbody tr").first).to_be_visible()
            await page.wait_for_timeout(300)
            text = await visible_text(page)
            aliases = [one.a_alias, one.b_alias, two.a_alias, two.b_alias]
            for data in await data_strings(admin, langs + aliases):
                text = re.sub(rf"(?<![A-Za-z]){re.escape(data)}(?![A-Za-z])", " ", text)
            left = [s for s in english if s in text]
            assert not left, (name, left)
            latin = re.findall(r"[A-Za-z][A-Za-z'’-]+", text)
            assert not latin, (name, latin, text)
            await shot(page, f"dashboard-ar-{TABS_AR.index(name)}")
    assert d.problems == []


@pytest.mark.parametrize("lang", LANGS)
async def test_the_language_picker_switches_every_word(
        tmp_path_factory: pytest.TempPathFactory, lang: str) -> None:
    async with desk(tmp_path_factory) as d:
        page = d.page
        await sign_in(page, d.srv.url, "mo")
        catalog = load(lang)
        await page.get_by_role("combobox", name="Language").select_option(lang)
        await expect(page.locator("html")).to_have_attribute("lang", lang)
        await expect(page.locator("html")).to_have_attribute(
            "dir", "rtl" if lang == "ar" else "ltr")
        await expect(page.get_by_role("tab", name=catalog["tab.reports"])).to_be_visible()
        await expect(page.locator("#live")).to_have_text(catalog["feed.live"])
        await expect(page.locator("#f-stuck").locator("xpath=..").locator("dt")).to_have_text(
            catalog["fig.stuck"])
        # The choice is remembered for the next visit.
        await page.reload()
        await expect(page.locator("#lang")).to_have_value(lang)
        await expect(page.get_by_role("tab", name=catalog["tab.audit"])).to_be_hidden()
    assert d.problems == []
