"""A moderator's notice to a room, as its members see it in Chromium: inside the
conversation, set apart from the messages, labelled in the member's language, read out
by the log's polite live region, and nowhere else on the page."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from browser_util import (  # noqa: F401 - the *_fixture names are fixtures
    BROWSER,
    OUTPUT,
    Member,
    browser_fixture,
    choose,
    find_partner,
    join_in_any_language,
    log,
    open_member_fixture,
    room,
    say,
    wait_matched,
)
from conftest import LiveServer
from playwright.sync_api import expect
from test_browser_member import catalog, moderated

pytestmark = BROWSER

# The page's own socket, watched from the page: the room id a moderator would pick.
ROOMS = """
window.__rooms = [];
const Real = window.WebSocket;
window.WebSocket = class extends Real {
  constructor(...args) {
    super(...args);
    this.addEventListener('message', (e) => {
      try {
        const f = JSON.parse(e.data);
        if (f.type === 'matched') window.__rooms.push(f.room);
      } catch (err) { /* not JSON: not ours to read */ }
    });
  }
};
"""


def test_a_moderators_notice_shows_in_the_conversation_in_each_language(
        make_server: Callable[..., LiveServer], open_member: Callable[..., Member],
        tmp_path: Path) -> None:
    srv, mod = moderated(make_server, tmp_path / "data")
    a = open_member(url=srv.url, init=ROOMS)
    b = open_member(url=srv.url, locale="ar")
    pa, pb = a.page, b.page
    choose(pa, "news", age="18-29")
    find_partner(pa)
    join_in_any_language(pb, "news", "60+")
    wait_matched(pa, "news")
    say(pa, "hello from a")
    expect(log(pb).get_by_text("hello from a")).to_be_visible()

    [room_id] = pa.evaluate("window.__rooms")
    words = "Please keep to the question, and be kind to each other."
    assert mod.call("POST", f"/api/rooms/{room_id}/notice", {"message": words}) is None

    for page, loc in ((pa, "en"), (pb, "ar")):
        said = log(page).locator(".mod-said")
        expect(said).to_have_count(1)
        expect(said.locator(".mod-said-label")).to_have_text(catalog(loc)["chat.modNotice"])
        expect(said.locator(".mod-said-text")).to_have_text(words)
        # Inside the log, whose polite live region reads it out; not a member's bubble.
        assert log(page).get_attribute("aria-live") == "polite"
        expect(log(page).locator(".msg", has_text=words)).to_have_count(0)
        # Set apart: a framed block, unlike the members' messages.
        style = said.evaluate("e => [getComputedStyle(e).borderTopStyle, "
                              "getComputedStyle(e).borderTopWidth]")
        assert style == ["solid", "2px"], style
        # Not the header's notice box (that one is for warnings to one member).
        expect(page.locator("#mod-notice")).to_be_hidden()
        assert page.evaluate("document.body.innerText").count(words) == 1
    assert catalog("en")["chat.modNotice"] == "Moderator's notice"
    # Right to left in Arabic: the block follows the page's direction.
    assert pb.locator(".mod-said").get_attribute("dir") == "rtl"
    # The conversation goes on below it.
    say(pa, "sorry, back to it")
    expect(log(pb).get_by_text("sorry, back to it")).to_be_visible()
    expect(room(pb).locator(".log > *").last).to_contain_text("sorry, back to it")
    # For a person to look at: the notice among the messages, left to right and right to left.
    OUTPUT.mkdir(parents=True, exist_ok=True)
    pa.screenshot(path=str(OUTPUT / "notice-en.png"))
    pb.screenshot(path=str(OUTPUT / "notice-ar.png"))
