"""Safety and trust in Chromium: report and block during a chat, the first-time
rules and data page (and its print), members' rights (download, delete), and
the match alerts (sound, flashing title, notification).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from browser_util import (  # noqa: F401 - the *_fixture names are fixtures
    BROWSER,
    CHROMIUM,
    PROMPT,
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
from playwright.sync_api import expect

pytestmark = BROWSER


def test_report_then_block(open_member: Callable[..., Member]) -> None:
    a, b, alias_a, alias_b = pair(open_member, "neighbours")
    pa, pb = a.page, b.page
    say(pb, "first, harmless")
    say(pb, "second, nasty words")
    expect(log(pa).locator(".msg")).to_have_count(2)

    # Report: in the menu one tap away, the partner's messages to pick, a reason, a note.
    in_menu(pa, "Report").click()
    panel = room(pa).get_by_role("region", name="Report this conversation")
    expect(panel.get_by_role("heading")).to_be_focused()
    expect(log(pa)).to_be_hidden()
    expect(panel.get_by_role("checkbox")).to_have_count(2)
    panel.get_by_role("checkbox", name=re.compile("second, nasty words")).check()
    panel.get_by_label("Reason").select_option(label="Insults or harassment")
    panel.get_by_role("button", name="Send report").click()
    expect(panel.get_by_text("with 1 checked message")).to_be_focused()
    panel.get_by_role("button", name="Close").click()
    expect(log(pa)).to_be_visible()
    menu = room(pa).get_by_role("button", name="Conversation menu")
    expect(menu).to_be_focused()

    # Block: asks first (Cancel keeps the chat), then ends it for good.
    in_menu(pa, "Block").click()
    question = room(pa).get_by_text(named(alias_b, "? The conversation ends"))
    expect(question).to_be_visible()
    expect(room(pa).get_by_role("button", name="Cancel")).to_be_focused()
    room(pa).get_by_role("button", name="Cancel").click()
    expect(question).to_be_hidden()
    expect(menu).to_be_focused()
    in_menu(pa, "Block").click()
    room(pa).get_by_role("button", name="Block and end").click()
    expect(room(pa).get_by_role("heading", name="The conversation has ended")).to_be_focused()
    expect(room(pa).get_by_text(named(alias_b, ". You will not be paired with them again."))
           ).to_be_visible()
    expect(room(pa).locator(".feedback")).to_be_hidden()
    # The other side is told the conversation closed, not who blocked whom.
    expect(room(pb).get_by_text("The conversation was closed.")).to_be_visible()
    expect(pb.locator("#urgent")).to_have_text("The conversation was closed.")
    assert alias_a


def test_rules_first_time_print_and_rights(open_member: Callable[..., Member]) -> None:
    m = open_member(rules_seen=False)
    page = m.page
    expect(page.get_by_role("heading", level=1, name="Before you start")).to_be_focused()
    expect(page.get_by_role("heading", name="What we keep")).to_be_visible()
    page.get_by_role("button", name="I understand, continue").click()
    start_screen(page)
    # Seen once: a reload goes straight to the start, and the header opens the page again.
    page.reload()
    start_screen(page)
    page.get_by_role("button", name="Rules and your data").click()
    expect(page.get_by_role("heading", level=1, name="Before you start")).to_be_focused()
    page.get_by_role("button", name="Back").click()
    start_screen(page)

    # Print: the rules and data page, never the form with profile answers.
    choose(page, "belonging", age="30-44")
    page.emulate_media(media="print")
    expect(page.get_by_role("heading", name="What we keep")).to_be_visible()
    expect(page.get_by_role("heading", name="Talk with someone")).to_be_hidden()
    expect(page.locator("#dims")).to_be_hidden()
    page.emulate_media(media="screen")

    # Rights: download everything held, then delete it.
    page.get_by_role("button", name="Rules and your data").click()
    with page.expect_download() as dl:
        page.get_by_role("button", name="Download my data").click()
    data = json.loads(open(dl.value.path(), encoding="utf-8").read())  # noqa: SIM115
    assert data["member"]
    page.get_by_role("button", name="Delete my data").click()
    expect(page.get_by_role("button", name="Keep my data")).to_be_focused()
    page.get_by_role("button", name="Keep my data").click()
    expect(page.get_by_role("button", name="Delete my data")).to_be_focused()
    page.get_by_role("button", name="Delete my data").click()
    page.get_by_role("button", name="Delete now").click()
    expect(page.get_by_role("heading", level=1, name="Your data was deleted")).to_be_focused()
    assert page.evaluate("localStorage.getItem('bc.token')") is None


def test_print_during_a_chat_hides_the_conversation(open_member: Callable[..., Member]) -> None:
    a, b, _, _ = pair(open_member, "work")
    say(a.page, "a private thought")
    expect(log(b.page).get_by_text("a private thought")).to_be_visible()
    b.page.emulate_media(media="print")
    expect(log(b.page)).to_be_hidden()
    expect(b.page.get_by_role("heading", name="The rules")).to_be_visible()


# A page in a background tab that allowed notifications: what it played and showed.
ALERT_SPY = """
window.__hidden = false;
Object.defineProperty(Document.prototype, 'hidden',
  { get: () => window.__hidden, configurable: true });
Object.defineProperty(Document.prototype, 'visibilityState',
  { get: () => (window.__hidden ? 'hidden' : 'visible'), configurable: true });
window.__notes = [];
window.__titles = new Set();
window.Notification = class {
  static permission = 'default';
  static requestPermission() {
    window.Notification.permission = 'granted';
    return Promise.resolve('granted');
  }
  constructor(title, opts) { window.__notes.push([title, opts && opts.body]); }
  close() {}
};
window.__tones = 0;
const make = AudioContext.prototype.createOscillator;
AudioContext.prototype.createOscillator = function () {
  window.__tones += 1;
  return make.call(this);
};
new MutationObserver(() => window.__titles.add(document.title))
  .observe(document, { subtree: true, childList: true, characterData: true });
"""


def test_match_alerts(open_member: Callable[..., Member]) -> None:
    a = open_member(init=ALERT_SPY)
    b = open_member()
    pa = a.page
    choose(pa, "news", age="18-29", stance="Agree")
    find_partner(pa)
    expect(pa.get_by_role("heading", level=1, name="Looking for a partner")).to_be_focused()
    pa.get_by_role("button", name="Also tell me with a notification").click()
    expect(pa.get_by_role("status")).to_have_text(
        "You will get a notification when someone is found.")
    pa.evaluate("window.__hidden = true")
    choose(b.page, "news", age="60+", stance="Disagree")
    find_partner(b.page)
    wait_matched(b.page, "news")
    pa.wait_for_function("window.__notes.length > 0", timeout=15_000)
    notes = pa.evaluate("window.__notes")
    assert notes == [["Partner found", f"Your conversation is ready: {PROMPT['news']}"]]
    assert pa.evaluate("window.__tones") == 2  # the two-note chime
    pa.wait_for_function("window.__titles.has('★ Partner found!')")
    pa.evaluate("window.__hidden = false; document.dispatchEvent(new Event('visibilitychange'))")
    expect(pa).to_have_title("Conversation · Bridgechat")
    pa.wait_for_timeout(1200)
    expect(pa).to_have_title("Conversation · Bridgechat")
