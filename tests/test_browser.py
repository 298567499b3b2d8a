"""The web client in real headless Chromium, against the real server.

Every test looks at what a person sees: headings, labelled controls, the
message log, status lines. Each page also collects console errors, page
errors, Content-Security-Policy violations and dialogs; any of them fails the
test at teardown.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest
from browser_util import (
    CHROMIUM,
    CHROMIUM_ARGS,
    LOW_CONTRAST_JS,
    OVERFLOW_JS,
    SMALL_TARGETS_JS,
    CutProxy,
)
from conftest import ROOT, LiveServer
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(),
                       reason=f"{CHROMIUM} is not installed (apt-get install chromium)"),
]

DECK = tomllib.loads((ROOT / "server" / "data" / "deck.toml").read_text(encoding="utf-8"))
PROMPT = {p["id"]: p["text"] for p in DECK["prompts"]}
AGE_LABEL = next(d["label"] for d in DECK["dimensions"] if d["id"] == "age_band")
MATCH_TIMEOUT = 15_000  # ms: the contract promises a match within 10 s

CSP_LISTENER = """
window.__csp = [];
document.addEventListener('securitypolicyviolation',
  (e) => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));
"""


@dataclass
class Member:
    """One person: a browser context with its own storage, and what went wrong in it."""

    page: Page
    context: BrowserContext
    problems: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    # Console lines that a test expects (Chromium logs every failed WebSocket attempt).
    allowed: list[re.Pattern[str]] = field(default_factory=list)

    def problems_now(self) -> list[str]:
        csp = self.page.evaluate("window.__csp || []") if not self.page.is_closed() else []
        logged = [p for p in self.problems if not any(a.search(p) for a in self.allowed)]
        return (logged + [f"CSP violation: {v}" for v in csp]
                + [f"dialog: {d}" for d in self.dialogs])


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def open_member(browser: Browser, server: LiveServer) -> Iterator[Callable[..., Member]]:
    members: list[Member] = []

    def open_(width: int = 360, height: int = 740, url: str | None = None,
              color_scheme: str = "light", token: str | None = None) -> Member:
        ctx = browser.new_context(viewport={"width": width, "height": height},
                                  color_scheme=color_scheme)  # type: ignore[arg-type]
        ctx.add_init_script(CSP_LISTENER)
        if token is not None:
            ctx.add_init_script(f"localStorage.setItem('bc.token', {token!r})")
        page = ctx.new_page()
        m = Member(page, ctx)
        page.on("console", lambda msg: m.problems.append(f"console {msg.type}: {msg.text}")
                if msg.type in ("error", "warning") else None)
        page.on("pageerror", lambda e: m.problems.append(f"page error: {e}"))

        def on_dialog(d):  # type: ignore[no-untyped-def]
            m.dialogs.append(f"{d.type}: {d.message}")
            d.dismiss()

        page.on("dialog", on_dialog)
        page.goto((url or server.url) + "/")
        members.append(m)
        return m

    yield open_
    problems = {i: m.problems_now() for i, m in enumerate(members)}
    for m in members:
        m.context.close()
    assert not any(problems.values()), problems


# ---- what a person does ----

def start_screen(page: Page) -> None:
    expect(page.get_by_role("heading", level=1, name="Talk with someone")).to_be_visible()


def choose(page: Page, prompt: str, age: str | None = None, stance: str | None = None) -> None:
    start_screen(page)
    page.get_by_role("checkbox", name=PROMPT[prompt]).check()
    if stance:
        item = page.locator("li", has_text=PROMPT[prompt])
        item.get_by_label("Your view").select_option(label=stance)
    if age:
        about = page.get_by_text("About you (optional)")
        if page.locator("#about:not([open])").count():
            about.click()
        page.get_by_label(AGE_LABEL).select_option(age)


def find_partner(page: Page) -> None:
    page.get_by_role("button", name="Find a partner").click()


def room(page: Page):  # type: ignore[no-untyped-def]
    return page.locator(".room:not([hidden])")


def wait_matched(page: Page, prompt: str) -> str:
    """Wait for the conversation; return the alias the partner sees for us."""
    heading = room(page).get_by_role("heading", level=1)
    expect(heading).to_contain_text(PROMPT[prompt], timeout=MATCH_TIMEOUT)
    expect(heading).to_be_focused()
    you = room(page).get_by_text("Others see you as")
    expect(you).to_be_visible()
    text = re.sub(r"[\u2068\u2069]", "", you.inner_text())
    return text.removeprefix("Others see you as ").rstrip(".")


def named(alias: str, rest: str) -> re.Pattern[str]:
    """Text naming a member: the client wraps names in invisible Unicode isolates."""
    return re.compile("\u2068?" + re.escape(alias) + "\u2069?" + re.escape(rest))


def say(page: Page, text: str) -> None:
    box = room(page).get_by_label("Your message")
    box.fill(text)
    box.press("Enter")


def log(page: Page):  # type: ignore[no-untyped-def]
    return room(page).get_by_role("log")


def pair(open_member: Callable[..., Member], prompt: str,
         **kw: object) -> tuple[Member, Member, str, str]:
    a, b = open_member(**kw), open_member(**kw)
    choose(a.page, prompt, age="18-29")
    choose(b.page, prompt, age="60+")
    find_partner(a.page)
    expect(a.page.get_by_role("heading", level=1, name="Looking for a partner")).to_be_focused()
    find_partner(b.page)
    return a, b, wait_matched(a.page, prompt), wait_matched(b.page, prompt)


# ---- tests ----

def test_two_members_match_chat_and_leave(open_member: Callable[..., Member]) -> None:
    a, b, alias_a, alias_b = pair(open_member, "neighbours")
    pa, pb = a.page, b.page
    # Each sees the partner by alias, and why they were matched.
    expect(room(pa).get_by_role("heading", level=1)).to_contain_text(named(alias_b, ""))
    expect(room(pb).get_by_role("heading", level=1)).to_contain_text(named(alias_a, ""))
    room(pa).get_by_text("Why you were matched").click()
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

    # Leaving asks first; "Stay" keeps the conversation.
    room(pa).get_by_role("button", name="Leave", exact=True).click()
    expect(room(pa).get_by_text("Leave this conversation?")).to_be_visible()
    room(pa).get_by_role("button", name="Stay").click()
    expect(room(pa).get_by_text("Leave this conversation?")).to_be_hidden()
    room(pa).get_by_role("button", name="Leave", exact=True).click()
    room(pa).get_by_role("button", name="Leave now").click()

    expect(room(pa).get_by_role("heading", name="The conversation has ended")).to_be_focused()
    expect(room(pa).get_by_text("You left the conversation.")).to_be_visible()
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
    """Tab, Space and Enter (and typing the words) are enough for the whole flow."""
    a, b = open_member(), open_member()
    pa, pb = a.page, b.page
    keyboard_join(pa, "home")
    keyboard_join(pb, "home")
    wait_matched(pa, "home")
    wait_matched(pb, "home")

    keyboard_say(pa, "typed with the keyboard")
    expect(log(pb).get_by_text("typed with the keyboard")).to_be_visible()
    expect(log(pa).locator(".msg", has_text="typed with the keyboard")).to_contain_text("Delivered")
    keyboard_say(pb, "answered with the keyboard")
    expect(log(pa).get_by_text("answered with the keyboard")).to_be_visible()

    tab_until(pa, "e.textContent === 'Leave'")
    pa.keyboard.press("Enter")
    expect(room(pa).get_by_role("button", name="Stay")).to_be_focused()
    pa.keyboard.press("Tab")
    expect(room(pa).get_by_role("button", name="Leave now")).to_be_focused()
    pa.keyboard.press("Enter")
    expect(room(pa).get_by_role("heading", name="The conversation has ended")).to_be_focused()

    expect(room(pb).get_by_role("heading", name="The conversation has ended")).to_be_focused()
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
    assert texts_b.all_text_contents() == XSS
    assert log(a.page).locator(".msg .text").all_text_contents() == XSS
    for m in (a, b):
        tags = m.page.evaluate(
            "[...document.querySelectorAll('[role=log] *')].map((e) => e.tagName.toLowerCase())")
        assert set(tags) <= {"div", "span", "bdi", "p"}, tags
        found = "document.querySelectorAll('img, svg, iframe, a, math, style').length"
        assert m.page.evaluate(found) == 0
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
    say(b.page, "https://example.org/" + "a-very-long-path-segment" * 8)
    say(pa, "A reply that wraps over a few lines on a narrow phone screen, as replies do.")
    expect(log(pa).locator(".msg")).to_have_count(3)
    expect(log(pa).locator(".msg").last).to_contain_text("Delivered")
    check(pa, "chat")
    room(pa).get_by_role("button", name="Leave", exact=True).click()
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
        expect(pa.get_by_role("alert")).to_have_text(re.compile("Connection lost"))
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
        expect(pa.get_by_role("alert")).to_have_text("")

        # A reload restores the conversation from the server, without duplicates.
        pa.reload()
        expect(room(pa).get_by_role("heading", level=1)).to_contain_text(PROMPT["lockdown"])
        expect(log(pa).locator(".msg .text")).to_have_text(
            ["before the drop", "said while you were away", "written while offline"])
    finally:
        proxy.close()


def test_second_tab_takes_over(open_member: Callable[..., Member], server: LiveServer) -> None:
    """The server closes the older connection (4001); that tab says so and does not fight back."""
    m = open_member()
    start_screen(m.page)
    other = m.context.new_page()
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
