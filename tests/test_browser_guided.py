"""The guided conversation in Chromium: stages with cards, the clock and its
milestones, the nudge toward common ground, the end by time, feedback and the
meet-again explanation, and a report filed after the end.

Servers here run with short conversations (`--conversation-minutes`), so a
whole conversation fits in a few seconds.
"""

from __future__ import annotations

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
)
from conftest import LiveServer
from playwright.sync_api import expect

pytestmark = BROWSER


def test_stages_clock_nudge_end_feedback_and_report(
        make_server: Callable[..., LiveServer], open_member: Callable[..., Member]) -> None:
    # (make_server first: its servers then stop after the pages have closed.)
    # 0.2 minutes = 12 s: the shared prompt at 2.4 s, the nudge halfway through it (about
    # 7 s), reflection at 9.6 s, the end at 12 s. (At 6 s in all, the nudge's window was
    # 1.2 s: less than a slow CI machine's jitter in stage frames and page timers.)
    srv = make_server("--conversation-minutes", "0.2")
    a, b, alias_a, alias_b = pair(open_member, "kindness", url=srv.url)
    pa, pb = a.page, b.page
    stage = room(pa).locator(".stage")
    expect(stage).to_contain_text("Step 1 of 3: Warm-up")
    expect(room(pa).get_by_role("timer")).to_have_text(re.compile(r"^0:[01]\d left$"))
    say(pb, "I think kindness is contagious")
    expect(stage).to_contain_text("Step 2 of 3: Your question", timeout=4000)
    expect(log(pa).get_by_text("Your question: " + PROMPT["kindness"])).to_be_visible()
    expect(log(pa).get_by_text("Tip: what do you both agree on")).to_be_visible(timeout=8000)
    expect(stage).to_contain_text("Step 3 of 3: Looking back", timeout=6000)
    expect(log(pa).get_by_text(re.compile("^Looking back: "))).to_be_visible()

    # The end by time: said urgently, focus on the end, why it ended, and feedback.
    for p in (pa, pb):
        ended = room(p).get_by_role("heading", name="The conversation has ended")
        expect(ended).to_be_focused(timeout=5000)
        expect(p.locator("#urgent")).to_have_text("Time is up. Thank you for talking!")
        expect(room(p).locator(".ended .reason")).to_have_text("Time is up. Thank you for talking!")
        # The menu still offers a report, no longer ending or blocking.
        expect(in_menu(p, "Report")).to_be_visible()
        expect(in_menu(p, "End chat")).to_be_hidden()
        expect(in_menu(p, "Block")).to_be_hidden()
        p.keyboard.press("Escape")
    fb = room(pa).locator(".feedback")
    expect(fb.get_by_role("group", name=named(alias_b, " again?"))).to_be_visible()
    expect(fb).to_contain_text("offered to each other first")
    fb.get_by_role("button", name="Send feedback").click()
    expect(fb.get_by_text("Please answer both questions.")).to_be_visible()
    fb.get_by_role("radio", name="4", exact=True).check()
    fb.get_by_role("radio", name="Yes", exact=True).check()
    fb.get_by_role("button", name="Send feedback").click()
    thanks = room(pa).get_by_text(named(alias_b, " also said yes"))
    expect(thanks).to_be_focused()
    fbb = room(pb).locator(".feedback")
    fbb.get_by_role("radio", name="2", exact=True).check()
    fbb.get_by_role("radio", name="No", exact=True).check()
    fbb.get_by_role("button", name="Send feedback").click()
    expect(room(pb).get_by_text("Your answers only go into anonymous totals.")).to_be_focused()

    # A report after the end (accepted for 10 minutes): the message is verified by its tag.
    in_menu(pa, "Report").click()
    panel = room(pa).get_by_role("region", name="Report this conversation")
    expect(panel.get_by_role("heading", name="Report this conversation")).to_be_focused()
    panel.get_by_role("checkbox", name=re.compile("I think kindness is contagious")).check()
    panel.get_by_label("Reason").select_option("spam")
    panel.get_by_label("Anything to add?").fill("Testing the report form")
    panel.get_by_role("button", name="Send report").click()
    done = panel.get_by_text("sent to the moderators with 1 checked message")
    expect(done).to_be_focused()
    panel.get_by_role("button", name="Close").click()
    expect(room(pa).get_by_role("button", name="Conversation menu")).to_be_focused()
    assert alias_a


def test_milestones_are_announced(make_server: Callable[..., LiveServer],
                                  open_member: Callable[..., Member]) -> None:
    # 2.05 minutes: the "2 minutes left" milestone passes 3 s in.
    srv = make_server("--conversation-minutes", "2.05")
    a, b, _, _ = pair(open_member, "future", url=srv.url)
    clock = room(a.page).get_by_role("timer")
    expect(clock).to_have_text(re.compile(r"^2:0\d left$"))
    expect(a.page.locator("#urgent")).to_have_text("2 minutes left in this conversation.",
                                                   timeout=6000)
    expect(clock).to_have_class(re.compile(r"\bsoon\b"))
    expect(room(b.page).get_by_role("timer")).to_have_text(re.compile(r"^1:5\d left$"))


def test_waiting_alone_says_why_and_what_to_try(
        make_server: Callable[..., LiveServer], open_member: Callable[..., Member]) -> None:
    srv = make_server("--stuck-after", "1")
    a, b = open_member(url=srv.url), open_member(url=srv.url)
    choose(a.page, "kindness")
    find_partner(a.page)
    choose(b.page, "home")
    find_partner(b.page)
    # Nobody shares a prompt: each is told so, with the other's prompt to try.
    hint = a.page.locator("#q-stuck")
    expect(hint).to_be_visible(timeout=6000)
    expect(hint).to_contain_text(PROMPT["home"])
