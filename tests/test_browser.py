"""The web client in real headless Chromium, against the real server.

Every test looks at what a person sees: headings, labelled controls, the
message log, status lines. Each page also collects console errors, page
errors, Content-Security-Policy violations and dialogs; any of them fails the
test at teardown.
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Callable

import pytest
from browser_util import (  # noqa: F401 - the *_fixture names are fixtures
    BROWSER,
    CHROMIUM,
    LOW_CONTRAST_JS,
    OVERFLOW_JS,
    PROMPT,
    SMALL_TARGETS_JS,
    CutProxy,
    Member,
    browser_fixture,
    choose,
    find_partner,
    in_menu,
    log,
    named,
    open_member_fixture,
    pair,
    room,
    say,
    start_screen,
    wait_matched,
)
from conftest import ROOT, LiveServer
from playwright.sync_api import Browser, Page, expect

pytestmark = BROWSER

# ---- tests ----

def test_two_members_match_chat_and_leave(open_member: Callable[..., Member]) -> None:
    a, b, alias_a, alias_b = pair(open_member, "neighbours")
    pa, pb = a.page, b.page
    # Each sees the partner by alias, and why they were matched (open, the first time).
    expect(room(pa).get_by_role("heading", level=1)).to_contain_text(named(alias_b, ""))
    expect(room(pb).get_by_role("heading", level=1)).to_contain_text(named(alias_a, ""))
    expect(room(pa).locator(".because li").first).to_be_visible()

    say(pa, "Hello from the first member")
    mine = log(pa).locator(".msg", has_text="Hello from the first member")
    expect(mine).to_contain_text("Delivered")
    theirs = log(pb).locator(".msg", has_text="Hello from the first member")
    expect(theirs).to_contain_text(alias_a)
    expect(theirs).to_have_attribute("dir", "auto")

    # Typing indicator, then an answer the other way, in another script.
    room(pb).get_by_label("Your message").press_sequentially("Sal", delay=30)
    expect(room(pa).get_by_text(named(alias_b, " is typing"))).to_be_visible()
    say(pb, "Salut ! مرحبا بك")
    expect(log(pa).locator(".msg", has_text="مرحبا بك")).to_contain_text(alias_b)
    expect(log(pb).locator(".msg", has_text="مرحبا بك")).to_contain_text("Delivered")
    expect(room(pa).get_by_text("is typing")).to_be_hidden()

    # Shift+Enter is a new line, not a send.
    box = room(pa).get_by_label("Your message")
    box.fill("line one")
    box.press("Shift+Enter")
    box.press_sequentially("line two")
    box.press("Enter")
    expect(log(pb).locator(".msg .text", has_text="line one")).to_have_text("line one\nline two")

    # Ending (in the menu) asks first; "Keep talking" keeps the conversation.
    in_menu(pa, "End chat").click()
    expect(room(pa).get_by_text("End this conversation?")).to_be_visible()
    room(pa).get_by_role("button", name="Keep talking").click()
    expect(room(pa).get_by_text("End this conversation?")).to_be_hidden()
    expect(room(pa).get_by_role("button", name="Conversation menu")).to_be_focused()
    in_menu(pa, "End chat").click()
    room(pa).get_by_role("button", name="End now").click()

    expect(room(pa).get_by_role("heading", name="The conversation has ended")).to_be_focused()
    expect(room(pa).get_by_text("You ended the conversation.")).to_be_visible()
    ended = room(pb).get_by_role("heading", name="The conversation has ended")
    expect(ended).to_be_visible()
    expect(room(pb).get_by_text("Your partner left the conversation.")).to_be_visible()
    expect(room(pb).get_by_label("Your message")).to_be_hidden()
    room(pb).get_by_role("button", name="Back to the start").click()
    expect(pb.get_by_role("heading", level=1, name="Talk with someone")).to_be_focused()


def tab_until(page: Page, predicate: str, limit: int = 80) -> None:
    """Press Tab until `predicate` (JS, given the focused element `e`) holds."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(f"(e => Boolean({predicate}))(document.activeElement)"):
            return
    raise AssertionError(f"Tab never reached an element where {predicate}")


def keyboard_join(page: Page, prompt: str) -> None:
    start_screen(page)
    tab_until(page, "e.textContent === 'Next'")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=2, name="What would you like to talk about?")
           ).to_be_focused()
    tab_until(page, f"e.type === 'checkbox' && e.value === {prompt!r}")
    page.keyboard.press("Space")
    expect(page.get_by_role("checkbox", name=PROMPT[prompt])).to_be_checked()
    tab_until(page, "e.textContent === 'Find a partner'")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1, name="Looking for a partner")).to_be_focused()


def keyboard_say(page: Page, text: str) -> None:
    tab_until(page, "e.tagName === 'TEXTAREA'")
    page.keyboard.type(text)
    page.keyboard.press("Enter")


def test_keyboard_only(open_member: Callable[..., Member]) -> None:
    """Tab, Space, arrows and Enter (and typing the words) are enough for the whole flow:
    the first-time rules, joining, chatting, ending, feedback and starting again."""
    a, b = open_member(rules_seen=False), open_member()
    pa, pb = a.page, b.page
    expect(pa.get_by_role("heading", level=1, name="Before you start")).to_be_focused()
    tab_until(pa, "e.textContent === 'I understand, continue'")
    pa.keyboard.press("Enter")
    expect(pa.get_by_role("heading", level=1, name="Talk with someone")).to_be_focused()
    keyboard_join(pa, "home")
    keyboard_join(pb, "home")
    wait_matched(pa, "home")
    wait_matched(pb, "home")

    keyboard_say(pa, "typed with the keyboard")
    expect(log(pb).get_by_text("typed with the keyboard")).to_be_visible()
    expect(log(pa).locator(".msg", has_text="typed with the keyboard")).to_contain_text("Delivered")
    keyboard_say(pb, "answered with the keyboard")
    expect(log(pa).get_by_text("answered with the keyboard")).to_be_visible()

    # The menu opens with Enter and closes with Escape, focus back on its button.
    menu = room(pa).get_by_role("button", name="Conversation menu")
    tab_until(pa, "e.getAttribute('aria-label') === 'Conversation menu'")
    pa.keyboard.press("Enter")
    expect(room(pa).locator(".menu")).to_be_visible()
    pa.keyboard.press("Escape")
    expect(room(pa).locator(".menu")).to_be_hidden()
    expect(menu).to_be_focused()
    # Escape in the question only cancels it: nothing that ends a chat is bound to Escape.
    pa.keyboard.press("Enter")
    tab_until(pa, "e.textContent === 'End chat'")
    pa.keyboard.press("Enter")
    expect(room(pa).get_by_role("button", name="Keep talking")).to_be_focused()
    pa.keyboard.press("Escape")
    expect(menu).to_be_focused()
    expect(room(pa).get_by_text("End this conversation?")).to_be_hidden()
    pa.keyboard.press("Enter")
    tab_until(pa, "e.textContent === 'End chat'")
    pa.keyboard.press("Enter")
    expect(room(pa).get_by_role("button", name="Keep talking")).to_be_focused()
    pa.keyboard.press("Tab")
    expect(room(pa).get_by_role("button", name="End now")).to_be_focused()
    pa.keyboard.press("Enter")
    expect(room(pa).get_by_role("heading", name="The conversation has ended")).to_be_focused()

    # The partner: the end is announced and focus moves; feedback with arrows and Space.
    expect(room(pb).get_by_role("heading", name="The conversation has ended")).to_be_focused()
    expect(pb.locator("#urgent")).to_have_text("Your partner left the conversation.")
    pb.keyboard.press("Tab")
    expect(room(pb).get_by_role("radio", name="1 · none", exact=True)).to_be_focused()
    pb.keyboard.press("ArrowRight")
    pb.keyboard.press("ArrowRight")
    pb.keyboard.press("ArrowRight")
    expect(room(pb).get_by_role("radio", name="4", exact=True)).to_be_checked()
    pb.keyboard.press("Tab")
    expect(room(pb).get_by_role("radio", name="Yes", exact=True)).to_be_focused()
    pb.keyboard.press("Space")
    pb.keyboard.press("Tab")
    expect(room(pb).get_by_role("button", name="Send feedback")).to_be_focused()
    pb.keyboard.press("Enter")
    thanks = room(pb).get_by_text("Thank you! If")
    expect(thanks).to_be_focused()
    pb.keyboard.press("Tab")
    expect(room(pb).get_by_role("button", name="Back to the start")).to_be_focused()
    pb.keyboard.press("Enter")
    expect(pb.get_by_role("heading", level=1, name="Talk with someone")).to_be_focused()


XSS = [
    "<img src=x onerror=alert(1)>",
    "<script>alert('script')</script>",
    '"><svg onload=alert(2)>',
    "<a href=\"javascript:alert(3)\">click me</a>",
    "javascript:alert(4)",
    "<iframe srcdoc=\"<script>parent.alert(5)</script>\"></iframe>",
    "</textarea><script>alert(6)</script>",
    "<style>body{display:none}</style>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(7)>",
    "{{constructor.constructor('alert(8)')()}} ${alert(9)}",
    "<details open ontoggle=alert(10)>",
    "\u202egnp.exe <b>bold?</b> &lt;not-an-entity&gt; &amp;",
]


def test_xss_payloads_are_literal_text(open_member: Callable[..., Member]) -> None:
    a, b, _, _ = pair(open_member, "work")
    outside_log = ("document.querySelectorAll('*').length"
                   " - document.querySelectorAll('[role=log] *').length")
    before = [m.page.evaluate(outside_log) for m in (a, b)]
    for payload in XSS:
        say(a.page, payload)
        expect(log(a.page).locator(".msg").last).to_contain_text("Delivered")
    texts_b = log(b.page).locator(".msg .text")
    expect(texts_b).to_have_count(len(XSS))
    # Direction overrides are taken out (docs/protocol.md, `send`), alike on both sides.
    shown = [p.replace("\u202e", "") for p in XSS]
    assert texts_b.all_text_contents() == shown
    assert log(a.page).locator(".msg .text").all_text_contents() == shown
    for m in (a, b):
        tags = m.page.evaluate(
            "[...document.querySelectorAll('[role=log] *')].map((e) => e.tagName.toLowerCase())")
        assert set(tags) <= {"div", "span", "bdi", "p"}, tags
        found = "document.querySelectorAll('[role=log] :is(img, svg, iframe, a, math, style)')"
        assert m.page.evaluate(found + ".length") == 0
        handlers = ("[...document.querySelectorAll('*')]"
                    ".some((e) => e.getAttributeNames().some((n) => n.startsWith('on')))")
        assert m.page.evaluate(handlers) is False
        assert m.page.evaluate("document.querySelectorAll('script').length") == 1
        expect(m.page.locator("body")).to_be_visible()
    # Nothing appeared outside the log either.
    assert [m.page.evaluate(outside_log) for m in (a, b)] == before
    b.page.wait_for_timeout(300)  # time for any stray handler to fire before teardown checks


@pytest.mark.parametrize("width", [360, 320])
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_layout_reflows_and_contrasts(open_member: Callable[..., Member], width: int,
                                      scheme: str) -> None:
    # A prompt of its own per case, so no leftover ticket of another case matches.
    prompt = {("light", 360): "change", ("light", 320): "news",
              ("dark", 360): "fairness", ("dark", 320): "belonging"}[scheme, width]
    a = open_member(width=width, height=640, color_scheme=scheme)
    b = open_member(width=width, height=640)

    def check(page: Page, where: str) -> None:
        o = page.evaluate(OVERFLOW_JS)
        assert o["scroll"] <= o["width"] and not o["out"], (where, o)
        assert page.evaluate(SMALL_TARGETS_JS) == [], where
        assert page.evaluate(LOW_CONTRAST_JS) == [], where

    pa = a.page
    choose(pa, prompt, age="30-44", stance="Agree")
    check(pa, "start")
    find_partner(pa)
    expect(pa.get_by_role("heading", level=1, name="Looking for a partner")).to_be_visible()
    check(pa, "queued")
    choose(b.page, prompt, age="60+", stance="Disagree")
    find_partner(b.page)
    wait_matched(pa, prompt)
    wait_matched(b.page, prompt)
    say(b.page, "x" * 300)
    say(b.page, "send me a photo")  # on the watch list: A gets "Report it?" under it
    # A long link is held (contact details, not exchanged): it wraps all the same, with why.
    say(pa, "https://example.org/" + "a-very-long-path-segment" * 8)
    expect(log(pa).locator(".msg[data-state=failed]")).to_have_count(1)
    say(pa, "A reply that wraps over a few lines on a narrow phone screen, as replies do.")
    expect(log(pa).locator(".msg")).to_have_count(4)
    expect(log(pa).locator(".msg").last).to_contain_text("Delivered")
    expect(log(pa).locator(".flag")).to_have_count(1)
    check(pa, "chat")
    log(pa).get_by_role("button", name="Offer to exchange contact details").click()
    expect(room(pa).locator(".offer")).to_be_visible()
    check(pa, "contact details offered")
    in_menu(pa, "End chat")
    check(pa, "menu")
    in_menu(pa, "End chat").click()
    check(pa, "confirm")


def test_stop_waiting_returns_to_start(open_member: Callable[..., Member]) -> None:
    m = open_member()
    choose(m.page, "climate")
    find_partner(m.page)
    expect(m.page.get_by_role("heading", level=1, name="Looking for a partner")).to_be_focused()
    expect(m.page.get_by_text("Nobody else is waiting for these questions yet.")).to_be_visible()
    m.page.get_by_role("button", name="Stop waiting").click()
    expect(m.page.get_by_role("heading", level=1, name="Talk with someone")).to_be_focused()
    expect(m.page.get_by_role("status")).to_have_text("You stopped waiting.")
    # The choice is kept for another try.
    expect(m.page.get_by_role("checkbox", name=PROMPT["climate"])).to_be_checked()


def test_choose_at_most_five_prompts(open_member: Callable[..., Member]) -> None:
    m = open_member()
    find_partner(m.page)
    expect(m.page.get_by_text("Choose at least one question.")).to_be_visible()
    for pid in list(PROMPT)[:6]:
        m.page.get_by_role("checkbox", name=PROMPT[pid]).check()
    find_partner(m.page)
    expect(m.page.get_by_text("Choose at most 5 questions. You chose 6.")).to_be_visible()
    expect(m.page.get_by_role("heading", level=1, name="Talk with someone")).to_be_visible()


def test_unknown_token_starts_afresh(open_member: Callable[..., Member]) -> None:
    m = open_member(token="not-a-real-token")
    start_screen(m.page)
    m.page.wait_for_function("localStorage.getItem('bc.token') !== 'not-a-real-token'")
    assert m.page.evaluate("localStorage.getItem('bc.token')")


def test_reconnect_resumes_and_resends(open_member: Callable[..., Member],
                                       make_server: Callable[..., LiveServer]) -> None:
    """The network drops: the room waits, messages sent meanwhile arrive on both sides once."""
    srv = make_server("--grace-period", "30")
    proxy = CutProxy(srv.port)
    try:
        a = open_member(url=proxy.url)
        a.allowed.append(re.compile(r"WebSocket connection to .* failed"))
        b = open_member(url=srv.url)
        # This test's own server stops before the pages are checked at teardown, and
        # b's page may already be trying to reach it again by then.
        b.allowed.append(re.compile(r"WebSocket connection to .* failed"))
        pa, pb = a.page, b.page
        choose(pa, "lockdown", age="18-29")
        choose(pb, "lockdown", age="45-59")
        find_partner(pa)
        find_partner(pb)
        alias_a = wait_matched(pa, "lockdown")
        wait_matched(pb, "lockdown")
        say(pa, "before the drop")
        expect(log(pb).get_by_text("before the drop")).to_be_visible()

        proxy.cut(block=True)
        expect(pa.locator("#alert")).to_have_text(re.compile("Connection lost"))
        expect(log(pb).get_by_text(named(alias_a, " lost their connection"))).to_be_visible()
        say(pb, "said while you were away")
        say(pa, "written while offline")
        offline = log(pa).locator(".msg", has_text="written while offline")
        expect(offline).to_contain_text("Sending")

        proxy.unblock()
        pa.get_by_role("button", name="Try now").click()
        # At once after "Try now"; by the backoff (8 s at most by now) even without it.
        expect(log(pa).get_by_text("said while you were away")).to_be_visible(timeout=15_000)
        expect(offline).to_contain_text("Delivered")
        expect(log(pb).locator(".msg", has_text="written while offline")).to_have_count(1)
        expect(log(pb).get_by_text(named(alias_a, " is back"))).to_be_visible()
        expect(pa.locator("#alert")).to_have_text("")

        # A reload restores the conversation from the server, without duplicates.
        pa.reload()
        expect(room(pa).get_by_role("heading", level=1)).to_contain_text(PROMPT["lockdown"])
        expect(log(pa).locator(".msg .text")).to_have_text(
            ["before the drop", "said while you were away", "written while offline"])
    finally:
        proxy.close()


def test_two_tabs_of_one_browser_are_two_members(open_member: Callable[..., Member],
                                                  server: LiveServer) -> None:
    """Two tabs, one browser: each is its own member, so they can be matched and chat."""
    m = open_member()
    other = m.context.new_page()
    other.goto(server.url + "/")
    choose(m.page, "home", age="18-29")
    find_partner(m.page)
    choose(other, "home", age="60+")
    find_partner(other)
    wait_matched(m.page, "home")
    wait_matched(other, "home")
    say(m.page, "hello from the first tab")
    expect(log(other).get_by_text("hello from the first tab")).to_be_visible()
    say(other, "and back from the second")
    expect(log(m.page).get_by_text("and back from the second")).to_be_visible()


def test_duplicated_tab_takes_over(open_member: Callable[..., Member], server: LiveServer) -> None:
    """A duplicated tab carries the same member: the server closes the older connection
    (4001); that tab says so and does not fight back."""
    m = open_member()
    start_screen(m.page)
    mine = m.page.evaluate("sessionStorage.getItem('bc.token')")
    assert mine
    other = m.context.new_page()
    # What "Duplicate tab" does: the new tab starts with a copy of the session storage.
    other.add_init_script(f"sessionStorage.setItem('bc.token', {mine!r})")
    other.goto(server.url + "/")
    start_screen(other)
    taken = m.page.get_by_role("heading", level=1, name="This chat is open in another tab")
    expect(taken).to_be_focused()
    other.wait_for_timeout(1500)  # no automatic reconnect: the newer tab stays connected
    start_screen(other)
    m.page.get_by_role("button", name="Use it here").click()
    start_screen(m.page)
    expect(other.get_by_role("heading", level=1, name="This chat is open in another tab")
           ).to_be_visible()


def test_rate_limited_messages_are_resent(open_member: Callable[..., Member]) -> None:
    """Past the server's burst, `rate_limited` is shown and the messages go through later, once."""
    a, b, _, _ = pair(open_member, "future")
    n = 40
    # Faster than any typist: fill and submit the composer n times in one go.
    a.page.evaluate("""(n) => {
      const form = document.querySelector('.room:not([hidden]) .composer');
      for (let i = 0; i < n; i++) {
        form.querySelector('textarea').value = `quick message ${i}`;
        form.requestSubmit();
      }
    }""", n)
    expect(a.page.get_by_role("status")).not_to_be_empty()
    expect(log(a.page).locator(".msg[data-state=delivered]")).to_have_count(n, timeout=15_000)
    texts = log(b.page).locator(".msg .text")
    expect(texts).to_have_count(n)
    assert sorted(texts.all_text_contents()) == sorted(f"quick message {i}" for i in range(n))


def test_page_is_light(browser: Browser, server: LiveServer) -> None:
    """At most 60 KiB transferred for the whole member page (scripts/page_weight.py measures
    it; here without throttling, so it is quick), every text file gzipped, no web font."""
    spec = importlib.util.spec_from_file_location("page_weight",
                                                  ROOT / "scripts" / "page_weight.py")
    assert spec and spec.loader
    pw = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(pw)
    r = pw.measure(server.url, runs=1, throttle=False, browser=browser)
    run = r["runs"][0]
    assert run["bytes"] <= 60 * 1024, run["files"]
    assert all(enc == "gzip" for enc in run["encoding"].values()), run["encoding"]
    assert not [f for f in run["files"] if f.endswith((".woff", ".woff2", ".ttf", ".otf"))]
    assert {"/app.js", "/chat.js", "/style.css"} <= set(run["files"])
