"""No English on a translated page, from the first paint to the last screen.

- For each of the deck's languages, one member walks the whole journey in
  Chromium (rules, the three start steps, waiting, a conversation with an
  English-speaking partner: messages, typing, the send limit, the menu, more
  time asked, refused and granted, report, block and end questions, the end,
  feedback, the start again, deleting their data); on every screen no string
  of the English catalog, of the server's English (error words, the
  moderators' warning, match reasons), of the deck's English or of the English
  alias words is on the page. Excepted: what members wrote, and text marked
  with a `lang` of its own (the language menu names each language in itself;
  a prompt the deck has only in English would be marked `lang="en"`).
- On a slow line (Chromium's network and CPU emulation), every frame the page
  paints before and after its catalog arrives is free of English too, and the
  first words it shows are in the chosen language.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import pytest
from browser_util import (  # noqa: F401 - the *_fixture names are fixtures
    BROWSER,
    CHROMIUM,
    CHROMIUM_ARGS,
    CSP_LISTENER,
    DECK,
    PROMPT,
    Member,
    browser_fixture,
    choose,
    find_partner,
    in_menu,
    log,
    open_member_fixture,
    room,
    say,
)
from conftest import ROOT, LiveServer
from playwright.sync_api import Browser, Page, expect

pytestmark = BROWSER

CATALOGS = ROOT / "client_web" / "i18n"
LANGS = ["de", "fr", "es", "sv", "pl", "uk", "ar"]


def catalog(loc: str) -> dict[str, object]:
    return json.loads((CATALOGS / f"{loc}.json").read_text(encoding="utf-8"))


def strings(value: object) -> list[str]:
    return [str(v) for v in value.values()] if isinstance(value, dict) else [str(value)]


def fragments(text: str) -> list[str]:
    """The fixed parts of a text with {placeholders}, long enough to mean something."""
    parts = (p.strip(" .,:;!?…“”\"'()·-") for p in re.split(r"\{\w+\}|\n", text))
    return [p for p in parts if len(p) >= 6]


def english() -> tuple[set[str], re.Pattern[str]]:
    """Every English text a member could meet, and the English alias words."""
    from bridgechat.core.aliases import ADJECTIVES, NOUNS
    from bridgechat.core.protocol import PLAIN_WORDS
    from bridgechat.matching.catalog import CATALOG
    from bridgechat.moderation.reports import WARNING

    texts: list[str] = []
    for key, value in catalog("en").items():
        if not key.startswith(("$", "alias.adjs", "alias.nouns")):
            texts += strings(value)
    texts += [*PLAIN_WORDS.values(), WARNING, *CATALOG["en"].values()]
    for kind in ("prompts", "cards"):
        texts += [e["text"] for e in DECK[kind]]
    texts += [d["label"] for d in DECK["dimensions"]]
    words = re.compile(r"\b(" + "|".join(ADJECTIVES + NOUNS) + r")\b")
    return {f for t in texts for f in fragments(t)}, words


ENGLISH, ALIAS_WORDS = english()

# The words on the page a member can see or hear: visible text (not what members wrote,
# nor text marked with a language of its own), labels, placeholders, options, the title.
PAGE_TEXT_JS = """() => {
  const lang = document.documentElement.lang;
  const own = (el) => { const l = el.closest('[lang]'); return !l || l.lang === lang; };
  const out = [document.title];
  const root = document.body || document.documentElement;
  const walk = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  for (let n = walk.nextNode(); n; n = walk.nextNode()) {
    const el = n.parentElement;
    if (!el || !n.textContent.trim()) continue;
    if (el.closest('script, style, template, .text, .said')) continue;
    if (el.tagName === 'OPTION') {
      const sel = el.closest('select');
      if (sel && sel.checkVisibility() && own(el)) out.push(n.textContent);
      continue;
    }
    if (el.checkVisibility({ visibilityProperty: true }) && own(el)) out.push(n.textContent);
  }
  for (const el of document.querySelectorAll('[aria-label], [placeholder], [title]')) {
    if (!el.checkVisibility() || !own(el)) continue;
    for (const a of ['aria-label', 'placeholder', 'title']) {
      if (el.getAttribute(a)) out.push(el.getAttribute(a));
    }
  }
  return out.join('\\n').replace(/[\\u2068\\u2069]/g, '');
}"""


def leaks(text: str, loc: str) -> list[str]:
    """English on the page that the language's own catalog does not also use."""
    cat = catalog(loc)
    lists = ("alias.adjs", "alias.nouns")
    # The alias word lists count by their translated words only ("Calm=Ruhiger|...").
    words = [w.split("=", 1)[-1] for key in lists for w in str(cat[key]).split(";")]
    own = "\n".join([s for k, v in cat.items() if k not in lists for s in strings(v)] + words)
    found = [f for f in ENGLISH if f in text and f not in own]
    found += [w for w in set(ALIAS_WORDS.findall(text)) if w not in own]
    return sorted(found)


class Journey:
    """Collects, screen by screen, what the page shows, and any English in it."""

    def __init__(self, page: Page, loc: str) -> None:
        self.page, self.loc = page, loc
        self.found: dict[str, list[str]] = {}
        self.seen = 0

    def look(self, where: str) -> None:
        text = self.page.evaluate(PAGE_TEXT_JS)
        self.seen += 1
        bad = leaks(text, self.loc)
        if bad:
            self.found[where] = bad


def walk(a: Member, b: Member, loc: str) -> Journey:
    pa, pb = a.page, b.page
    cat = catalog(loc)
    j = Journey(pa, loc)
    expect(pa.locator("html")).to_have_attribute("lang", loc)
    expect(pa.locator("#s-rules h1")).to_be_focused()
    j.look("rules")
    pa.locator("#rules-ok").click()
    expect(pa.locator("#s-start h1")).to_be_focused()
    # The chat language defaults to the page's.
    expect(pa.locator("#lang1")).to_have_value(loc)
    j.look("start, step 1")
    pa.locator("#prefs summary").click()
    j.look("settings")
    pa.locator("#prefs summary").click()
    pa.locator("#langs summary").click()
    j.look("language menu")
    pa.locator("#langs summary").click()
    pa.locator("#mode").select_option("language_buddy")
    j.look("language buddy")
    pa.locator("#mode").select_option("bridge")
    pa.locator("#join-btn").click()
    expect(pa.locator("#prompts-err")).to_have_text(str(cat["start.errNone"]))
    j.look("start, nothing chosen")
    pa.locator("#prompt-search").fill("zzzz")
    expect(pa.locator("#no-hits")).to_be_visible()
    j.look("start, search without a hit")
    pa.locator("#prompt-search").fill("")
    item = pa.locator("#prompt-list li", has=pa.locator("input[value=disagree]"))
    item.locator("input").check()
    item.locator("select").select_option("agree")
    j.look("start, step 2")
    pa.locator("#step-next").click()
    pa.locator("#d-0").select_option("18-29")
    pa.locator("#dims input[type=checkbox]").first.check()
    j.look("start, step 3")
    pa.locator("#join-btn").click()
    expect(pa.locator("#s-queued")).to_be_visible()
    expect(pa.locator("#q-waiting")).not_to_be_empty()
    j.look("waiting")

    choose(pb, "disagree", age="60+", stance="Disagree")
    find_partner(pb)
    expect(room(pa).locator(".stage-name")).not_to_be_empty(timeout=15_000)
    expect(room(pb).locator(".stage-name")).not_to_be_empty()
    j.look("matched")
    room(pb).get_by_label("Your message").press_sequentially("typing", delay=20)
    expect(room(pa).locator(".typing")).not_to_be_empty()
    j.look("the partner typing")
    say(pb, "Hello from an English page")
    expect(log(pa).locator(".msg")).to_have_count(1)
    j.look("a message")
    # Past the send limit: said in the page's words, and sent later.
    pa.evaluate("""() => {
      const form = document.querySelector('.room:not([hidden]) .composer');
      for (let i = 0; i < 35; i++) {
        form.querySelector('textarea').value = `quick ${i}`;
        form.requestSubmit();
      }
    }""")
    expect(pa.locator("#status")).to_have_text(str(cat["err.rate_limited"]), timeout=5000)
    j.look("too fast")
    expect(log(pa).locator(".msg.mine[data-state=delivered]")).to_have_count(35, timeout=15_000)

    room(pa).locator(".menu-btn").click()
    j.look("menu")
    room(pa).locator(".extend-btn").click()
    expect(room(pa).locator(".ask")).to_be_visible()
    j.look("more time asked")
    expect(room(pb).locator(".ask")).to_be_visible()
    room(pb).get_by_role("button", name="No, end on time").click()
    expect(room(pa).locator(".ask")).to_be_hidden()
    expect(log(pa).locator(".note").last).not_to_be_empty()
    j.look("more time refused")
    in_menu(pb, "Ask for more time").click()
    expect(room(pa).locator(".ask-yes")).to_be_visible()
    j.look("more time asked by the partner")
    room(pa).locator(".ask-yes").click()
    expect(log(pa).locator(".note.good")).to_be_visible()
    j.look("more time granted")

    room(pa).locator(".menu-btn").click()
    room(pa).locator(".report-btn").click()
    expect(room(pa).locator(".report")).to_be_visible()
    j.look("report form")
    room(pa).locator(".report-cancel").click()
    room(pa).locator(".menu-btn").click()
    room(pa).locator(".block-btn").click()
    j.look("block question")
    room(pa).locator(".confirm[data-for=block] .stay").click()
    room(pa).locator(".menu-btn").click()
    room(pa).locator(".end-btn").click()
    j.look("end question")
    room(pa).locator(".confirm[data-for=end] .stay").click()

    in_menu(pb, "End chat").click()
    room(pb).get_by_role("button", name="End now").click()
    expect(room(pa).locator(".ended h2")).to_be_focused()
    j.look("ended")
    room(pa).locator(".feedback button").click()  # nothing answered: the page says so
    expect(room(pa).locator(".fb-err")).not_to_be_empty()
    room(pa).locator(".feedback input[value='4']").check()
    room(pa).locator(".feedback input[value=yes]").check()
    room(pa).locator(".feedback button").click()
    expect(room(pa).locator(".fb-thanks")).to_be_focused()
    j.look("thanks")
    room(pa).locator(".back").click()
    expect(pa.locator("#s-start h1")).to_be_focused()
    j.look("start again")
    pa.locator("#rules-btn").click()
    pa.locator("#export-btn").click()
    expect(pa.locator("#rights-status")).not_to_be_empty()
    pa.locator("#erase-btn").click()
    j.look("rules, delete question")
    pa.locator("#erase-yes").click()
    expect(pa.locator("#s-notice h1")).to_be_focused()
    j.look("data deleted")
    return j


@pytest.mark.parametrize("loc", LANGS)
def test_the_whole_journey_has_no_english(open_member: Callable[..., Member], loc: str) -> None:
    a = open_member(locale=loc, rules_seen=False)
    b = open_member(locale="en-GB")
    a.page.on("download", lambda d: d.cancel())
    j = walk(a, b, loc)
    assert j.seen >= 25
    assert not j.found, json.dumps(j.found, ensure_ascii=False, indent=1)


def test_the_check_finds_english_where_there_is_some(open_member: Callable[..., Member]) -> None:
    """The journey's check itself: English put on a German page is found."""
    page = open_member(locale="de").page
    expect(page.locator("#s-start h1")).to_be_visible()
    page.evaluate("""() => {
      document.querySelector('#s-start .lead').textContent = 'Choose at least one question.';
      document.querySelector('#s-start h1').textContent = 'Mit Calm Heron sprechen';
    }""")
    text = page.evaluate(PAGE_TEXT_JS)
    assert leaks(text, "de") == ["Calm", "Choose at least one question", "Heron"]


# ---- the first paint, on a slow line ----

# Each frame, before it is painted: what it shows, and whether the page is still waiting.
PAINT_SPY = f"""
window.__frames = [];
const grab = {PAGE_TEXT_JS};
const look = () => {{
  const html = document.documentElement;
  if (document.body) {{
    window.__frames.push({{ t: performance.now(), lang: html.lang,
                           text: grab().replace(document.title, '').trim() }});
  }}
  if (!html.dataset.ready) requestAnimationFrame(look);
}};
requestAnimationFrame(look);
"""


@pytest.mark.parametrize("how", ["link", "saved"])
def test_first_paint_is_in_the_chosen_language_on_a_slow_line(
        browser: Browser, server: LiveServer, how: str) -> None:
    loc, query = ("ar", "/?lang=ar") if how == "link" else ("de", "/")
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, locale="en-GB")
    ctx.add_init_script(CSP_LISTENER)
    ctx.add_init_script("localStorage.setItem('bc.rules', '1')")
    if how == "saved":
        ctx.add_init_script("localStorage.setItem('bc.ui', 'de')")
    ctx.add_init_script(PAINT_SPY)
    page = ctx.new_page()
    cdp = ctx.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    cdp.send("Network.emulateNetworkConditions", {
        "offline": False, "latency": 400, "downloadThroughput": 50_000, "uploadThroughput": 50_000})
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": 4})
    try:
        page.goto(server.url + query, wait_until="commit")
        page.wait_for_function("() => document.documentElement.dataset.ready === '1'",
                               timeout=60_000)
        page.wait_for_timeout(200)
        frames = page.evaluate("window.__frames")
        problems = page.evaluate("window.__csp")
    finally:
        ctx.close()
    assert not problems
    shown = [f for f in frames if f["text"]]
    assert len(frames) > 5 and shown, frames[:3]
    first = shown[0]
    assert first["lang"] == loc, first
    script = "[\u0600-\u06ff]" if loc == "ar" else "[äöüßÄÖÜ]|Sprich|Verbindung"
    assert re.search(script, first["text"]), first
    bad = {round(f["t"]): leaks(f["text"], loc) for f in frames if leaks(f["text"], loc)}
    assert not bad, bad
    # The slow line did slow it down: the words came late, and none came before them.
    assert first["t"] > 1000, first["t"]

