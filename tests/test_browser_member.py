"""What a member meets in Chromium, beyond the layout (test_browser_phone.py):
more time by mutual consent, meeting again under the same names, the
explanation folded after the first time, sound off, honest waiting words, and
the defects found by trying the page as a member would, each with its test:

- the clock never starts above the set length ("20:01 left" for 20 minutes);
- the warm-up card shows once, not in a step box and in the log;
- the moderators' warning comes in the member's language, once, and can be
  closed (it stayed on the start screen); a suspension is said in it too;
- an old banner ("Your partner left the conversation.") does not stay on the
  "data deleted" screen;
- "Your data was downloaded." is said next to the button, on screen;
- the chat language defaults to the page's, not English.
"""

from __future__ import annotations

import json
import re
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from browser_util import (  # noqa: F401 - the *_fixture names are fixtures
    BROWSER,
    CHROMIUM,
    DECK,
    Member,
    browser_fixture,
    choose,
    find_partner,
    in_menu,
    join_in_any_language,
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
from playwright.sync_api import Page, expect

pytestmark = BROWSER


def catalog(loc: str) -> dict[str, Any]:
    return json.loads((ROOT / "client_web" / "i18n" / f"{loc}.json").read_text(encoding="utf-8"))


def end_and_answer(p: Page, again: bool) -> None:
    fb = room(p).locator(".feedback")
    fb.get_by_role("radio", name="4", exact=True).check()
    fb.get_by_role("radio", name="Yes" if again else "No", exact=True).check()
    fb.get_by_role("button", name="Send feedback").click()
    expect(room(p).locator(".fb-thanks")).to_be_focused()


# ---- more time, meeting again, the explanation, sound ----

def test_more_time_by_mutual_consent(make_server: Callable[..., LiveServer],
                                     open_member: Callable[..., Member]) -> None:
    srv = make_server("--conversation-minutes", "1")
    a, b, alias_a, alias_b = pair(open_member, "kindness", url=srv.url)
    pa, pb = a.page, b.page
    # Asked, then refused: both asks are gone, and the asker is told.
    in_menu(pa, "Ask for more time").click()
    expect(room(pa).locator(".ask-q")).to_have_text(
        named(alias_b, " to agree."), use_inner_text=True)
    expect(room(pa).locator(".ask-q")).to_contain_text("You asked for more time.")
    ask = room(pb).locator(".ask")
    expect(ask.locator(".ask-q")).to_have_text(
        named(alias_a, " would like more time. Keep talking?"))
    ask.get_by_role("button", name="No, end on time").click()
    expect(log(pa).get_by_text(named(alias_b, " would rather end on time."))).to_be_visible()
    expect(room(pa).locator(".ask")).to_be_hidden()
    expect(ask).to_be_hidden()
    # Asked again, the other way round, and granted: once, by the set length.
    in_menu(pb, "Ask for more time").click()
    room(pa).get_by_role("button", name="Yes, keep talking").click()
    for p in (pa, pb):
        expect(log(p).get_by_text("You both chose to keep talking: 1 more minute.")).to_be_visible()
        expect(room(p).get_by_role("timer")).to_have_text(re.compile(r"^1:5\d left$"))
        expect(in_menu(p, "Ask for more time")).to_be_hidden()
        p.keyboard.press("Escape")
        expect(room(p).locator(".ask")).to_be_hidden()


TONES = """
window.__tones = 0;
const make = AudioContext.prototype.createOscillator;
AudioContext.prototype.createOscillator = function () {
  window.__tones += 1;
  return make.call(this);
};
"""


def test_meeting_again_with_the_same_names_folded_explanation_and_no_sound(
        open_member: Callable[..., Member]) -> None:
    a, b = open_member(init=TONES), open_member()
    pa, pb = a.page, b.page
    choose(pa, "future", age="18-29", stance="Agree")
    choose(pb, "future", age="60+", stance="Disagree")
    find_partner(pa)
    find_partner(pb)
    alias_a, alias_b = wait_matched(pa, "future"), wait_matched(pb, "future")
    # The first time, why they were matched is open; a chime says a partner was found.
    expect(room(pa).locator(".because")).to_have_attribute("open", "")
    pa.wait_for_function("() => window.__tones === 2")
    in_menu(pa, "End chat").click()
    room(pa).get_by_role("button", name="End now").click()
    expect(room(pb).get_by_role("heading", name="The conversation has ended")).to_be_focused()
    end_and_answer(pa, again=True)
    end_and_answer(pb, again=True)
    # Nothing about the meeting is kept on the server for this: only in the two browsers.
    assert json.loads(pa.evaluate("localStorage.getItem('bc.again')"))[0]["them"] == alias_b
    for p in (pa, pb):
        room(p).get_by_role("button", name="Back to the start").click()
    # Sound off, remembered on the device.
    pa.locator("#prefs summary").click()
    pa.get_by_label("Play sounds").uncheck()
    pa.reload()
    pa.locator("#prefs summary").click()
    expect(pa.get_by_label("Play sounds")).not_to_be_checked()
    pa.locator("#prefs summary").click()

    choose(pa, "future")
    choose(pb, "future")
    find_partner(pa)
    find_partner(pb)
    expect(room(pa).locator(".because")).to_contain_text("You both asked to meet again",
                                                         timeout=15_000)
    # The same names as the first time, on both sides, whatever the server calls them now.
    assert wait_matched(pa, "future") == alias_a
    assert wait_matched(pb, "future") == alias_b
    expect(room(pa).get_by_role("heading", level=1)).to_contain_text(named(alias_b, ""))
    expect(room(pb).get_by_role("heading", level=1)).to_contain_text(named(alias_a, ""))
    say(pb, "Good to talk again")
    expect(log(pa).locator(".msg", has_text="Good to talk again")).to_contain_text(alias_b)
    # Seen once: the explanation is folded now. And no chime with sound off.
    expect(room(pa).locator(".because")).not_to_have_attribute("open", "")
    assert pa.evaluate("window.__tones") == 0  # the page was reloaded: a fresh count


def test_meeting_again_when_the_browser_cannot_tell_who_it_is(
        open_member: Callable[..., Member]) -> None:
    """Two earlier partners this browser would meet again: it says so plainly."""
    a, b = open_member(), open_member()
    pa, pb = a.page, b.page
    choose(pa, "belonging", age="18-29")
    choose(pb, "belonging", age="60+")
    find_partner(pa)
    find_partner(pb)
    wait_matched(pa, "belonging")
    wait_matched(pb, "belonging")
    in_menu(pa, "End chat").click()
    room(pa).get_by_role("button", name="End now").click()
    expect(room(pb).get_by_role("heading", name="The conversation has ended")).to_be_focused()
    end_and_answer(pa, again=True)
    end_and_answer(pb, again=True)
    pa.evaluate("""() => {
      const list = JSON.parse(localStorage.getItem('bc.again'));
      list.push({ me: 'Calm Heron', them: 'Brave Fox', at: Date.now() });
      localStorage.setItem('bc.again', JSON.stringify(list));
    }""")
    for p in (pa, pb):
        room(p).get_by_role("button", name="Back to the start").click()
        choose(p, "belonging")
        find_partner(p)
    expect(room(pa).get_by_role("heading", level=1)).to_contain_text(
        "the person you asked to meet again", timeout=15_000)


# ---- waiting, said honestly ----

def test_waiting_says_what_is_happening(open_member: Callable[..., Member]) -> None:
    a, b = open_member(), open_member()
    choose(a.page, "climate", age="30-44")
    find_partner(a.page)
    expect(a.page.locator("#q-waiting")).to_have_text(
        "Nobody else is waiting for these questions yet. "
        "We will match you as soon as someone comes.")
    # The same answers: no divide to cross, so the match waits for a better one a while.
    choose(b.page, "climate", age="30-44")
    find_partner(b.page)
    said = b.page.locator("#q-waiting")
    expect(said).to_have_text(re.compile(
        r"^Looking for someone who sees this differently\. If nobody comes, you will meet "
        r"someone similar in about [1-9] seconds?\.$"))
    first = int(re.findall(r"\d+", said.inner_text())[0])
    expect(b.page.locator("#q-elapsed")).to_have_text(re.compile(r"^Waiting for 0:0[1-9]$"))
    assert "person is waiting" not in b.page.locator("#s-queued").inner_text()
    if first > 2:
        expect(said).to_contain_text(f"in about {first - 1} second")
    wait_matched(b.page, "climate")


# ---- defects, each with its test ----

CLOCKS = """
window.__clocks = [];
new MutationObserver(() => {
  const c = document.querySelector('.room:not([hidden]) .clock');
  const seen = window.__clocks;
  if (c && c.textContent && seen.at(-1) !== c.textContent) seen.push(c.textContent);
}).observe(document, { subtree: true, childList: true, characterData: true });
"""


def test_the_clock_never_starts_above_the_set_length(
        make_server: Callable[..., LiveServer], open_member: Callable[..., Member]) -> None:
    srv = make_server("--conversation-minutes", "1")
    a, b, _, _ = pair(open_member, "lockdown", url=srv.url, init=CLOCKS)
    for p in (a.page, b.page):
        p.wait_for_timeout(1500)
        seen = p.evaluate("window.__clocks")
        assert seen and seen[0] in ("1:00 left", "0:59 left"), seen
        assert "1:01 left" not in seen, seen


def test_the_warm_up_card_shows_once(open_member: Callable[..., Member]) -> None:
    a, _, _, _ = pair(open_member, "neighbours")
    cards = [c["text"] for c in DECK["cards"] if c["stage"] == "icebreaker"]
    text = log(a.page).locator(".card-text").inner_text()
    assert text in cards
    page_text = a.page.evaluate("document.body.innerText")
    assert page_text.count(text) == 1, page_text
    expect(room(a.page).locator(".stage")).to_have_text("Step 1 of 3: Warm-up")


def test_an_old_banner_does_not_stay_on_the_data_deleted_screen(
        open_member: Callable[..., Member]) -> None:
    a, b, _, _ = pair(open_member, "work")
    in_menu(b.page, "End chat").click()
    b.page.get_by_role("button", name="End now").click()
    pa = a.page
    expect(pa.locator("#urgent")).to_have_text("Your partner left the conversation.")
    room(pa).get_by_role("button", name="Back to the start").click()
    pa.get_by_role("button", name="Rules and your data").click()
    pa.get_by_role("button", name="Delete my data").click()
    pa.get_by_role("button", name="Delete now").click()
    expect(pa.get_by_role("heading", level=1, name="Your data was deleted")).to_be_focused()
    expect(pa.locator("#urgent")).to_be_empty()
    expect(pa.get_by_text("Your partner left the conversation.")).to_have_count(0)


def test_the_download_is_confirmed_next_to_the_button(open_member: Callable[..., Member]) -> None:
    page = open_member(width=390, height=700).page
    start_screen(page)
    page.get_by_role("button", name="Rules and your data").click()
    button = page.get_by_role("button", name="Download my data")
    button.scroll_into_view_if_needed()
    with page.expect_download():
        button.click()
    said = page.get_by_text("Your data was downloaded.")
    expect(said).to_be_visible()
    expect(said).to_be_in_viewport()
    expect(said).to_have_attribute("role", "status")


@pytest.mark.parametrize("loc", ["ar", "de"])
def test_the_chat_language_defaults_to_the_page_language(
        open_member: Callable[..., Member], server: LiveServer, loc: str) -> None:
    page = open_member(url=f"{server.url}/?lang={loc}&x=", locale="en-GB").page
    expect(page.locator("html")).to_have_attribute("lang", loc)
    expect(page.locator("#lang1")).to_have_value(loc)


# ---- the moderators: a warning and a suspension, in the member's language ----

class ModHttp:
    """A moderator's browser, by plain HTTP: the session cookie and the CSRF token."""

    def __init__(self, base: str) -> None:
        self.base, self.cookie, self.csrf = base, "", ""

    def call(self, method: str, path: str, body: object = None) -> Any:
        headers = {"Origin": self.base, "Content-Type": "application/json", "Cookie": self.cookie}
        if self.csrf:
            headers["X-CSRF-Token"] = self.csrf
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=headers)
        with urllib.request.urlopen(req, timeout=10) as r:
            for c in r.headers.get_all("Set-Cookie") or []:
                self.cookie = c.split(";", 1)[0]
            raw = r.read()
        return json.loads(raw) if raw else None

    def login(self, name: str, password: str) -> None:
        self.csrf = self.call("POST", "/api/moderator/login",
                              {"username": name, "password": password})["csrf"]

    def resolve_open(self, action: str) -> None:
        reports = [r for r in self.call("GET", "/api/reports")["reports"] if r["status"] == "open"]
        assert len(reports) == 1, reports
        self.call("POST", f"/api/reports/{reports[0]['id']}/resolve",
                  {"action": action, "note": "from the browser test"})


def moderated(make_server: Callable[..., LiveServer], data_dir: Path
              ) -> tuple[LiveServer, ModHttp]:
    """A server whose data dir has moderator "mo", and mo signed in to it."""
    from modclient import PASSWORD, add_moderator

    add_moderator(data_dir, "mo")
    srv = make_server(data_dir=data_dir)
    mod = ModHttp(srv.url)
    mod.login("mo", PASSWORD)
    return srv, mod


def report(p: Page, text: str) -> None:
    in_menu(p, "Report").click()
    panel = room(p).get_by_role("region", name="Report this conversation")
    panel.get_by_role("checkbox", name=re.compile(re.escape(text))).check()
    panel.get_by_role("button", name="Send report").click()
    expect(panel.get_by_text("with 1 checked message")).to_be_focused()
    panel.get_by_role("button", name="Close").click()


def test_the_moderators_warning_and_suspension_in_the_members_language(
        make_server: Callable[..., LiveServer], open_member: Callable[..., Member],
        tmp_path: Path) -> None:
    from bridgechat.core.protocol import PLAIN_WORDS, Code
    from bridgechat.moderation.reports import WARNING

    srv, mod = moderated(make_server, tmp_path / "data")
    de = catalog("de")
    a = open_member(url=srv.url)
    b = open_member(url=srv.url, locale="de")
    pa, pb = a.page, b.page
    choose(pa, "news", age="18-29")
    find_partner(pa)
    join_in_any_language(pb, "news", "60+")
    wait_matched(pa, "news")
    for text in ("first rude line", "second rude line"):
        box = room(pb).locator(".composer textarea")
        box.fill(text)
        box.press("Enter")
        expect(log(pa).get_by_text(text)).to_be_visible()
    report(pa, "first rude line")
    mod.resolve_open("warn")

    notice = pb.locator("#mod-notice")
    expect(notice).to_be_visible()
    expect(notice).to_contain_text(de["notice.warning"])
    page_text = pb.evaluate("document.body.innerText")
    assert page_text.count(de["notice.warning"]) == 1, page_text  # shown once
    assert WARNING not in page_text
    # It stays until closed, across screens, and closes.
    room(pb).locator(".menu-btn").click()
    room(pb).locator(".end-btn").click()
    room(pb).locator(".end-yes").click()
    room(pb).locator(".back").click()
    expect(pb.locator("#s-start h1")).to_be_focused()
    expect(notice).to_be_visible()
    notice.get_by_role("button", name=str(de["notice.dismiss"])).click()
    expect(notice).to_be_hidden()
    expect(pb.locator("#s-start h1")).to_be_focused()

    # A second report, after the end: suspended, and told so in German.
    report(pa, "second rude line")
    mod.resolve_open("suspend")
    expect(pb.locator("#notice-title")).to_have_text(str(de["conn.suspended"]))
    expect(pb.locator("#notice-text")).to_have_text(str(de["conn.suspendedText"]))
    assert PLAIN_WORDS[Code.SUSPENDED] not in pb.evaluate("document.body.innerText")
    b.allowed.append(re.compile("WebSocket"))
