"""The member page on a phone, in Chromium: the conversation gets the room.

- 390 x 844 with the on-screen keyboard up (a 500 px visual viewport): at least
  60 % of what is visible is the message log, and the composer sits above the
  keyboard.
- 320 x 568, and 200 % text (the browser's own setting, and the page's text-size
  control): the composer and the last message are both in view.
- The start page in short steps, "Find a partner" in reach on every step, a
  missing choice shown (and focused) where the eye is.
- After the end the log keeps its room and shows its end, the buttons apart.
- The text-size control is remembered on the device.
- Screenshots of every screen, phone and desktop, light and dark, English and
  Arabic, in the test output directory (browser_util.OUTPUT) for the visual
  pass; the log's share of the screen is written there too.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from browser_util import (  # noqa: F401 - the *_fixture names are fixtures
    BROWSER,
    CHROMIUM,
    OUTPUT,
    OVERFLOW_JS,
    Member,
    browser_fixture,
    choose,
    find_partner,
    in_menu,
    log,
    open_member_fixture,
    pair,
    room,
    say,
    start_screen,
    to_step,
    wait_matched,
)
from playwright.sync_api import Page, expect

pytestmark = BROWSER

# The on-screen keyboard, as a phone's browser reports it: the visual viewport
# (window.visualViewport) shrinks while the layout viewport stays as it was.
KEYBOARD = """
(() => {
  const real = window.visualViewport;
  const fake = new EventTarget();
  let height = null;
  for (const k of ['width', 'offsetLeft', 'offsetTop', 'pageLeft', 'pageTop', 'scale']) {
    Object.defineProperty(fake, k, { get: () => real[k] });
  }
  Object.defineProperty(fake, 'height', { get: () => height ?? real.height });
  Object.defineProperty(window, 'visualViewport', { value: fake, configurable: true });
  window.__keyboard = (visible) => { height = visible; fake.dispatchEvent(new Event('resize')); };
})();
"""

BOXES_JS = """() => {
  const r = document.querySelector('.room:not([hidden])');
  const box = (el) => {
    const b = el.getBoundingClientRect();
    return { top: b.top, bottom: b.bottom, height: b.height };
  };
  const msgs = r.querySelectorAll('.log .msg');
  const talk = r.querySelector('.talk');
  return {
    head: box(r.querySelector('.room-head')), talk: box(talk),
    composer: box(r.querySelector('.composer')),
    last: msgs.length ? box(msgs[msgs.length - 1]) : null,
    atEnd: talk.scrollHeight - talk.scrollTop - talk.clientHeight < 2,
    innerHeight: window.innerHeight, rootFont: getComputedStyle(document.documentElement).fontSize,
  };
}"""


def record(name: str, figures: dict[str, object]) -> None:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    path = OUTPUT / "figures.json"
    data = json.loads(path.read_text()) if path.exists() else {}
    data[name] = figures
    path.write_text(json.dumps(data, indent=1, sort_keys=True))


def chat_a_while(a: Member, b: Member, n: int = 8) -> None:
    for i in range(n):
        say(b.page if i % 2 else a.page, f"Message {i}: a line or two of what people say in a chat"
            + (", with a second thought that wraps onto another line" if i % 3 == 0 else ""))
    expect(log(a.page).locator(".msg")).to_have_count(n)
    expect(log(a.page).locator(".msg.mine[data-state=delivered]")).to_have_count((n + 1) // 2)


def test_the_log_gets_60_percent_with_the_keyboard_up(open_member: Callable[..., Member]) -> None:
    a, b, _, _ = pair(open_member, "neighbours", width=390, height=844, init=KEYBOARD)
    chat_a_while(a, b)
    page = a.page
    full = page.evaluate(BOXES_JS)
    assert full["talk"]["height"] / 844 >= 0.75, full
    # The question takes one line of the header, and opens in full on a tap.
    question = room(page).locator(".room-title .question")
    height = "e => e.getBoundingClientRect().height"
    one = question.evaluate(height)
    assert one <= 1.2 * question.evaluate("e => parseFloat(getComputedStyle(e).lineHeight)")
    more = room(page).get_by_role("button", name="Show the whole question")
    more.click()
    expect(more).to_have_attribute("aria-expanded", "true")
    assert question.evaluate(height) > 1.5 * one
    more.click()
    assert question.evaluate(height) == one
    room(page).get_by_label("Your message").focus()
    page.evaluate("window.__keyboard(500)")
    page.wait_for_timeout(400)
    say(b.page, "The newest message, while the keyboard is up")
    expect(log(page).locator(".msg").last).to_contain_text("while the keyboard is up")
    page.wait_for_timeout(200)
    got = page.evaluate(BOXES_JS)
    share = got["talk"]["height"] / 500
    record("log share, 390x844, keyboard up (500 px visible)", {
        "share": round(share, 3), "log_px": round(got["talk"]["height"]),
        "header_px": round(got["head"]["height"]), "composer_px": round(got["composer"]["height"]),
        "share_keyboard_down": round(full["talk"]["height"] / 844, 3)})
    assert share >= 0.6, got
    # Everything sits in the visible 500 px: the header, the log, the composer above the keys.
    assert got["head"]["top"] >= 0 and got["composer"]["bottom"] <= 500.5, got
    talk, last = got["talk"], got["last"]
    assert talk["top"] <= last["top"] and last["bottom"] <= talk["bottom"], got
    assert got["atEnd"], got
    # The safety tools stay one tap away: the menu's button is in the visible part.
    menu = room(page).get_by_role("button", name="Conversation menu").bounding_box()
    assert menu and menu["y"] >= 0 and menu["y"] + menu["height"] <= 500, menu
    page.screenshot(path=str(OUTPUT / "phone-keyboard-up.png"))
    page.evaluate("window.__keyboard(null)")


FONT_CASES = {
    "320x568": (320, 568, None),
    "320x568, browser text 200 %": (320, 568, "browser"),
    "390x844, browser text 200 %": (390, 844, "browser"),
    "320x568, page text 200 %": (320, 568, "page"),
}


@pytest.mark.parametrize("case", list(FONT_CASES))
def test_small_screens_and_large_text_keep_composer_and_last_message_in_view(
        open_member: Callable[..., Member], case: str) -> None:
    width, height, big = FONT_CASES[case]
    init = "localStorage.setItem('bc.textSize', '200')" if big == "page" else None
    prompt = {"320x568": "work", "320x568, browser text 200 %": "home",
              "390x844, browser text 200 %": "change", "320x568, page text 200 %": "news"}[case]
    a = open_member(width=width, height=height, init=init)
    b = open_member()
    page = a.page
    if big == "browser":
        # Chromium's own "font size" setting (Settings > Appearance), at twice the default.
        cdp = a.context.new_cdp_session(page)
        cdp.send("Page.setFontSizes", {"fontSizes": {"standard": 32, "fixed": 26}})
        page.reload()
    expected = "16px" if big is None else "32px"
    choose(page, prompt, age="30-44", stance="Agree")
    choose(b.page, prompt, age="60+", stance="Disagree")
    find_partner(page)
    find_partner(b.page)
    wait_matched(page, prompt)
    wait_matched(b.page, prompt)
    got = page.evaluate(BOXES_JS)
    assert got["rootFont"] == expected, got
    # The conversation starts near the top, not far down the page.
    assert got["talk"]["top"] < height / 2, got
    chat_a_while(a, b, 6)
    page.wait_for_timeout(200)
    got = page.evaluate(BOXES_JS)
    record(f"boxes, {case}", {k: got[k] for k in ("head", "talk", "composer", "last")})
    assert got["composer"]["top"] >= 0 and got["composer"]["bottom"] <= height + 0.5, got
    last, talk = got["last"], got["talk"]
    visible = min(last["bottom"], talk["bottom"]) - max(last["top"], talk["top"])
    assert last["bottom"] <= talk["bottom"] + 0.5 and visible >= min(last["height"], 24), got
    o = page.evaluate(OVERFLOW_JS)
    assert o["scroll"] <= o["width"] and not o["out"], o
    page.screenshot(path=str(OUTPUT / f"phone-{case.replace(' ', '').replace(',', '-')}.png"))


def test_start_in_short_steps_with_find_a_partner_in_reach(open_member: Callable[..., Member]
                                                           ) -> None:
    page = open_member(width=390, height=844).page
    start_screen(page)
    join = page.get_by_role("button", name="Find a partner")
    for step in (0, 1, 2):
        to_step(page, step)
        expect(page.locator("#step-of")).to_have_text(f"Step {step + 1} of 3")
        expect(page.locator(f".step-link[data-go='{step}']")).to_have_attribute(
            "aria-current", "step")
        page.evaluate("window.scrollTo(0, 0)")
        expect(join).to_be_in_viewport()
        page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
        expect(join).to_be_in_viewport()
    # Kind of conversation sits with the languages, under a heading of its own.
    to_step(page, 0)
    expect(page.get_by_role("heading", level=2, name="How would you like to talk?")).to_be_visible()
    expect(page.get_by_label("Kind of conversation")).to_be_visible()
    # Nothing chosen: the error is shown in the questions' step, on screen, and focused.
    page.evaluate("window.scrollTo(0, 0)")
    join.click()
    err = page.locator("#prompts-err")
    expect(err).to_have_text("Choose at least one question.")
    expect(err).to_be_focused()
    expect(err).to_be_in_viewport()
    # The questions can be searched.
    page.get_by_label("Search the questions").fill("neighbour")
    expect(page.locator("#prompt-list li:not([hidden])")).to_have_count(1)
    page.get_by_label("Search the questions").fill("nothing like this")
    expect(page.get_by_text("No question matches “nothing like this”.")).to_be_visible()
    page.get_by_label("Search the questions").fill("")
    expect(page.locator("#prompt-list li:not([hidden])")).to_have_count(14)


def test_after_the_end_the_log_keeps_its_room(open_member: Callable[..., Member]) -> None:
    a, b, _, _ = pair(open_member, "fairness", width=390, height=844)
    chat_a_while(a, b, 12)
    in_menu(b.page, "End chat").click()
    b.page.get_by_role("button", name="End now").click()
    page = a.page
    expect(room(page).get_by_role("heading", name="The conversation has ended")).to_be_focused()
    page.wait_for_timeout(300)
    got = page.evaluate(BOXES_JS)
    assert got["talk"]["height"] >= 300, got
    assert got["atEnd"], got
    send = room(page).get_by_role("button", name="Send feedback").bounding_box()
    back = room(page).get_by_role("button", name="Back to the start").bounding_box()
    assert send and back and back["y"] - (send["y"] + send["height"]) >= 16, (send, back)
    page.screenshot(path=str(OUTPUT / "phone-ended.png"))


def test_text_size_is_remembered_on_the_device(open_member: Callable[..., Member]) -> None:
    page = open_member().page
    start_screen(page)
    page.locator("#prefs summary").click()
    page.get_by_role("button", name="Larger text").click()
    page.get_by_role("button", name="Larger text").click()
    expect(page.locator("#prefs .size-now")).to_have_text("130\u00a0%")
    assert page.evaluate("getComputedStyle(document.documentElement).fontSize") == "20.8px"
    page.reload()
    start_screen(page)
    assert page.evaluate("getComputedStyle(document.documentElement).fontSize") == "20.8px"
    page.locator("#prefs summary").click()
    page.get_by_role("button", name="Smaller text").click()
    expect(page.locator("#prefs .size-now")).to_have_text("115\u00a0%")
    page.keyboard.press("Escape")
    expect(page.locator("#prefs summary")).to_be_focused()


def screens(pa: Page, pb: Page, prompt: str, tag: str) -> None:
    shot = lambda name: pa.screenshot(path=str(OUTPUT / f"{tag}-{name}.png"))  # noqa: E731
    shot("1-rules")
    pa.locator("#rules-ok").click()
    shot("2-start-language")
    pa.locator("#step-next").click()
    pa.locator(f"#prompt-list input[value={prompt}]").check()
    shot("3-start-questions")
    pa.locator("#step-next").click()
    pa.locator("#d-0").select_option("18-29")
    shot("4-start-about-you")
    pa.locator("#join-btn").click()
    expect(pa.locator("#s-queued")).to_be_visible()
    shot("5-waiting")
    choose(pb, prompt, age="60+")
    find_partner(pb)
    expect(room(pa).locator(".stage")).to_be_visible(timeout=15_000)
    for i, text in enumerate(["Hello! How are you today?", "Fine, thanks. Where do you live?",
                              "In a small town by the sea. مرحبا!", "That sounds lovely."]):
        box = room(pb if i % 2 == 0 else pa).locator(".composer textarea")
        box.fill(text)
        box.press("Enter")
    expect(log(pa).locator(".msg")).to_have_count(4)
    pa.wait_for_timeout(300)
    shot("6-chat")
    room(pa).locator(".menu-btn").click()
    shot("7-menu")
    room(pa).locator(".extend-btn").click()
    expect(room(pb).locator(".ask")).to_be_visible()
    room(pb).locator(".ask-yes").click()
    expect(log(pa).locator(".note.good")).to_be_visible()
    room(pa).locator(".menu-btn").click()
    room(pa).locator(".end-btn").click()
    shot("8-end-question")
    room(pa).locator(".end-yes").click()
    expect(room(pa).locator(".ended")).to_be_visible()
    pa.wait_for_timeout(200)
    shot("9-ended")


@pytest.mark.parametrize("case", ["phone-light-en", "phone-dark-ar", "desktop-light-ar",
                                  "desktop-dark-en"])
def test_screenshots_for_the_visual_pass(open_member: Callable[..., Member], case: str) -> None:
    size, scheme, lang = case.split("-")
    width, height = (390, 844) if size == "phone" else (1280, 800)
    kw = {"width": width, "height": height, "color_scheme": scheme}
    a = open_member(rules_seen=False, locale=lang, **kw)
    b = open_member(**kw)
    OUTPUT.mkdir(parents=True, exist_ok=True)
    prompt = {"phone-light-en": "climate", "phone-dark-ar": "language",
              "desktop-light-ar": "lockdown", "desktop-dark-en": "future"}[case]
    screens(a.page, b.page, prompt, case)
    assert (OUTPUT / f"{case}-6-chat.png").stat().st_size > 10_000
