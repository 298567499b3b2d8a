"""The day of an event in Chromium: two members sign up on the event page, enter the
lobby from it, see the countdown and how many are present, lose the connection and
keep their place, and at the start both are in one conversation within 10 s; a message
goes through. axe finds nothing on the lobby. Every refusal is said in plain words
with a way back to the event page.

The event is announced over the moderators' API by admin "ann" (the command line
counts in whole minutes; this event starts LEAD seconds ahead). Every wait is bounded.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import time
import urllib.request
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import icalendar
import pytest
from browser_util import (  # noqa: F401 - the *_fixture names are fixtures
    AGE_LABEL,
    BROWSER,
    CSP_LISTENER,
    OUTPUT,
    PROMPT,
    CutProxy,
    browser_fixture,
    log,
    room,
    say,
)
from conftest import LiveServer
from modclient import Mod, moderated_server
from playwright.sync_api import Browser, Page, expect
from test_a11y import AXE, axe

pytestmark = BROWSER
# The event's start, seconds ahead: time for two sign-ups in the browser and the lobby.
LEAD = 30.0
# Lines Chromium logs on its own when the test cuts the connection.
EXPECTED = re.compile(r"WebSocket connection to .* failed|ERR_CONNECTION|status of 40[14]")


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    server = moderated_server(tmp_path_factory)
    yield server
    server.stop()


def announce(base: str, starts_in: float) -> tuple[str, float]:
    """A new event starting `starts_in` seconds from now; its slug and start (epoch)."""
    slug = f"day-{uuid.uuid4().hex[:10]}"
    at = (datetime.now(UTC) + timedelta(seconds=starts_in)).replace(microsecond=0)

    async def create() -> None:
        async with Mod(base) as ann:
            assert (await ann.login("ann")).status == 200
            reply = await ann.post("/api/events", {
                "slug": slug, "title": {"en": "Town talk", "ar": "حديث المدينة"},
                "starts": at.isoformat(), "tz": "UTC", "length_min": 30,
                "prompts": ["neighbours", "home"]})
            assert reply.status == 201, reply

    # Playwright's sync API holds this thread's event loop: the call runs on its own thread.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, create()).result(timeout=30)
    return slug, at.timestamp()


class Person:
    """One browser context (its own storage), with what went wrong in it."""

    def __init__(self, browser: Browser, bypass_csp: bool = False, locale: str = "en-GB") -> None:
        self.context = browser.new_context(viewport={"width": 360, "height": 740},
                                           locale=locale, accept_downloads=True,
                                           bypass_csp=bypass_csp)
        self.context.add_init_script(CSP_LISTENER)
        self.context.add_init_script("localStorage.setItem('bc.rules', '1')")
        self.page: Page = self.context.new_page()
        self.problems: list[str] = []
        self.page.on("console", lambda m: self.problems.append(m.text)
                     if m.type == "error" and not EXPECTED.search(m.text) else None)
        self.page.on("pageerror", lambda e: self.problems.append(str(e)))

    def check(self) -> None:
        csp = self.page.evaluate("window.__csp || []")
        assert self.problems == [] and csp == [], (self.problems, csp)


def sign_up(p: Page, base: str, slug: str, age: str, stance: str) -> None:
    p.goto(f"{base}/e/{slug}")
    expect(p.get_by_role("heading", level=1, name="Town talk")).to_be_visible()
    p.get_by_label(PROMPT["neighbours"]).check()
    p.locator("#es-0").select_option(stance)
    p.get_by_label(AGE_LABEL).select_option(age)
    p.get_by_role("button", name="Sign up").click()
    expect(p.get_by_role("status")).to_have_text(
        "You are signed up. Come back to this page at the start.")


def enter_lobby(p: Page, slug: str) -> None:
    """From the event page (the lobby is open): the link, then the lobby view."""
    link = p.get_by_role("link", name="Enter the lobby")
    expect(link).to_be_visible()
    assert link.get_attribute("href") == f"/?event={slug}"
    link.click()
    expect(p.get_by_role("heading", level=1, name="Town talk")).to_be_focused()
    expect(p.locator("#lb-count")).to_have_text(re.compile(r"^Starts in 0:\d\d$"))


def present(p: Page, n: int, timeout: float = 8_000) -> None:
    text = "1 person is here" if n == 1 else f"{n} people are here"
    expect(p.locator("#lb-present")).to_have_text(text, timeout=timeout)


@pytest.mark.skipif(not AXE.exists() and not os.environ.get("CI"),
                    reason="axe-core is not installed (npm ci)")
def test_sign_up_enter_the_lobby_and_be_matched_at_the_start(browser: Browser,
                                                             srv: LiveServer) -> None:
    slug, starts = announce(srv.url, LEAD)
    proxy = CutProxy(srv.port)
    # One under the Content-Security-Policy; the other lets axe's inline script in.
    one, two = Person(browser), Person(browser, bypass_csp=True)
    try:
        sign_up(one.page, proxy.url, slug, "18-29", "agree")
        with one.page.expect_download() as info:
            one.page.get_by_role("link", name="Add to your calendar").click()
        (vevent,) = icalendar.Calendar.from_ical(
            open(info.value.path(), "rb").read()).walk("VEVENT")  # noqa: SIM115
        assert str(vevent["SUMMARY"]) == "Town talk"
        assert abs(vevent.decoded("DTSTART").timestamp() - starts) < 1
        sign_up(two.page, srv.url, slug, "60+", "disagree")

        enter_lobby(one.page, slug)
        present(one.page, 1)
        entered = time.monotonic()
        enter_lobby(two.page, slug)
        # Leaving is one tap, and so is coming back.
        two.page.get_by_role("button", name="Leave the lobby").click()
        expect(two.page.locator("#lb-msg")).to_be_focused()
        expect(two.page.locator("#lb-msg")).to_have_text(re.compile("^You left the lobby"))
        two.page.get_by_role("button", name="Enter the lobby again").click()
        present(two.page, 2)
        present(one.page, 2)
        # Screen readers hear the count from a polite live region, on entering and then
        # at most every 10 s; the eye sees each change at once.
        said = two.page.locator("#lb-said")
        assert said.get_attribute("aria-live") == "polite"
        expect(said).to_have_text("2 people are here")
        if time.monotonic() - entered < 8:
            expect(one.page.locator("#lb-said")).to_have_text("1 person is here")
        axe(two.page, "the lobby")
        OUTPUT.mkdir(parents=True, exist_ok=True)
        two.page.screenshot(path=OUTPUT / "event-lobby.png", full_page=True)

        # The connection drops in the lobby: back again, the page takes its place again.
        proxy.cut(block=False)
        expect(one.page.locator("#status")).to_have_text(
            "Connected again. You are back in the lobby.", timeout=8_000)
        present(one.page, 2)
        assert time.time() < starts - 1, "the test's set-up took longer than LEAD"

        # At the start: one batch, both in one conversation within 10 s.
        for p in (one.page, two.page):
            heading = room(p).get_by_role("heading", level=1)
            expect(heading).to_contain_text(PROMPT["neighbours"],
                                            timeout=max(1.0, starts + 10 - time.time()) * 1000)
            assert time.time() <= starts + 10
        expect(room(one.page).get_by_text("Others see you as")).to_be_visible()
        say(one.page, "Hello from the lobby")
        expect(log(two.page)).to_contain_text("Hello from the lobby")
        one.check()
        two.check()
    finally:
        one.context.close()
        two.context.close()
        proxy.close()


def test_lobby_refusals_in_plain_words_with_a_way_back(browser: Browser,
                                                      srv: LiveServer) -> None:
    slug, starts = announce(srv.url, 3600.0)  # the lobby opens 15 minutes before the start
    soon, _ = announce(srv.url, 600.0)
    with urllib.request.urlopen(f"{srv.url}/api/e/{slug}", timeout=5) as r:
        opens = json.loads(r.read())["lobby_opens"]
    assert datetime.fromisoformat(opens).timestamp() == starts - 15 * 60
    person = Person(browser)
    p = person.page
    try:
        # Signed up: the event page says when the lobby opens, and offers no way in yet.
        sign_up(p, srv.url, slug, "30-44", "unsure")
        expect(p.locator("#ev-lobby")).to_contain_text("The lobby opens")
        expect(p.get_by_role("link", name="Enter the lobby")).to_be_hidden()

        p.goto(f"{srv.url}/?event={slug}")
        expect(p.locator("#lb-msg")).to_have_text(
            "The lobby is not open yet. The event's page says when it opens; come back then.")
        back = p.get_by_role("link", name="Back to the event's page")
        assert back.get_attribute("href") == f"/e/{slug}"

        p.evaluate(f"localStorage.setItem('bc.event.{soon}', 'not-a-sign-up-token-at-all')")
        p.goto(f"{srv.url}/?event={soon}")
        expect(p.locator("#lb-msg")).to_contain_text("Your sign-up for this event was not found")

        p.evaluate(f"localStorage.removeItem('bc.event.{soon}')")
        p.reload()
        expect(p.locator("#lb-msg")).to_have_text(re.compile(
            "^This browser holds no sign-up for this event"))
        expect(p.get_by_role("link", name="Go to the event's page to sign up")).to_be_visible()

        p.evaluate("localStorage.setItem('bc.event.no-such-day', 'x')")
        p.goto(f"{srv.url}/?event=no-such-day&lang=ar")
        assert p.evaluate("document.documentElement.dir") == "rtl"
        expect(p.locator("#lb-msg")).to_have_text("لا توجد فعالية كهذه. تحقّق من الرابط الذي وصلك.")
        assert p.evaluate("document.documentElement.scrollWidth") <= 360
        person.check()
    finally:
        person.context.close()
