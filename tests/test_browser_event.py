"""The event page in Chromium, 360 px wide, under the Content-Security-Policy: sign up,
download the calendar file (a valid iCalendar), change, withdraw; Arabic right to left.

The event is announced the way an operator does it: `bridgechat event create`.
"""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
from browser_util import BROWSER, CHROMIUM, CHROMIUM_ARGS, CSP_LISTENER, PROMPT
from conftest import ROOT, LiveServer
from playwright.sync_api import Browser, Page, expect, sync_playwright

pytestmark = BROWSER
SLUG = "town-talk"


def announce(data_dir: object, slug: str, *extra: str) -> None:
    starts = (datetime.now(ZoneInfo("Europe/Berlin")) + timedelta(days=3)).strftime(
        "%Y-%m-%dT%H:%M")
    done = subprocess.run(
        [sys.executable, "-m", "bridgechat", "event", "create", "--data-dir", str(data_dir),
         "--slug", slug, "--title", "en=Town talk", "--title", "ar=حديث المدينة",
         "--description", "en=One evening, many conversations.", "--starts", starts,
         "--tz", "Europe/Berlin", "--prompt", "neighbours", "--prompt", "home", *extra],
        capture_output=True, text=True, cwd=ROOT, timeout=60, check=False)
    assert done.returncode == 0, done.stderr


@pytest.fixture(scope="module")
def event_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    base = tmp_path_factory.mktemp("event-page")
    announce(base / "data", SLUG)
    srv = LiveServer(data_dir=base / "data", log_path=base / "server.log").start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


def open_page(browser: Browser, url: str, locale: str = "en-GB",
              bypass_csp: bool = False) -> tuple[Page, list[str]]:
    ctx = browser.new_context(viewport={"width": 360, "height": 740}, locale=locale,
                              accept_downloads=True, bypass_csp=bypass_csp,
                              timezone_id="America/New_York")
    ctx.add_init_script(CSP_LISTENER)
    page = ctx.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.goto(url)
    return page, problems


def api(srv: LiveServer, token: str) -> tuple[int, dict[str, object]]:
    req = urllib.request.Request(f"{srv.url}/api/e/{SLUG}/signup",
                                 headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def test_sign_up_download_change_withdraw(browser: Browser, event_server: LiveServer) -> None:
    page, problems = open_page(browser, f"{event_server.url}/e/{SLUG}")
    expect(page.get_by_role("heading", level=1, name="Town talk")).to_be_visible()
    expect(page.locator("#ev-when")).to_contain_text("Europe/Berlin")
    expect(page.locator("#ev-count")).to_contain_text("Starts in")
    expect(page.get_by_text("We ask for no e-mail address")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360

    page.get_by_label(PROMPT["neighbours"]).check()
    page.get_by_label("Your age").select_option("30-44")
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_role("status")).to_have_text(
        "You are signed up. Come back to this page at the start.")
    token = page.get_by_label("Your event token").input_value()
    assert len(token) >= 40
    assert page.evaluate(f"localStorage.getItem('bc.event.{SLUG}')") == token
    status, body = api(event_server, token)
    assert status == 200 and body["signup"]["profile"] == {"age_band": "30-44"}  # type: ignore[index]

    with page.expect_download() as info:
        page.get_by_role("link", name="Add to your calendar").click()
    raw = open(info.value.path(), "rb").read()  # noqa: SIM115
    (vevent,) = icalendar.Calendar.from_ical(raw).walk("VEVENT")
    assert str(vevent["SUMMARY"]) == "Town talk" and str(vevent["URL"]).endswith(f"/e/{SLUG}")

    page.reload()  # the sign-up comes back from the token kept in this browser
    expect(page.get_by_label(PROMPT["neighbours"])).to_be_checked()
    page.get_by_label(PROMPT["home"]).check()
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("status")).to_have_text("Your changes are saved.")
    assert api(event_server, token)[1]["signup"]["prompts"] == ["neighbours", "home"]  # type: ignore[index]

    page.get_by_role("button", name="Withdraw my sign-up").click()
    expect(page.get_by_role("status")).to_have_text("Your sign-up is withdrawn and deleted.")
    assert api(event_server, token)[0] == 401
    assert page.evaluate(f"localStorage.getItem('bc.event.{SLUG}')") is None
    expect(page.get_by_role("button", name="Sign up")).to_be_visible()
    assert problems == [] and page.evaluate("window.__csp") == []


def test_nothing_chosen_is_said_and_arabic_is_right_to_left(browser: Browser,
                                                            event_server: LiveServer) -> None:
    page, problems = open_page(browser, f"{event_server.url}/e/{SLUG}?lang=ar")
    expect(page.get_by_role("heading", level=1, name="حديث المدينة")).to_be_visible()
    assert page.evaluate("[document.documentElement.lang, document.documentElement.dir]") == \
        ["ar", "rtl"]
    page.get_by_role("button", name="سجّلني").click()
    expect(page.get_by_role("alert")).to_have_text("اختر سؤالًا واحدًا على الأقل.")
    expect(page.locator("#ep-0")).to_be_focused()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.goto(f"{event_server.url}/e/no-such-day?lang=en")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "There is no event at this address. Check the link you were given.")
    assert [p for p in problems if "404" not in p] == []
