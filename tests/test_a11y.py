"""axe-core (from npm, see package.json) on the member page in every state a
member meets: WCAG 2.0, 2.1 and 2.2 at levels A and AA must report no
violation, in English and in Arabic (right to left), each in light and dark mode.
The moderators' dashboard likewise, on every tab with data on it and with each of its
questions open (English light and dark, Arabic).

axe is injected with `page.add_script_tag`, an inline script, so these pages
bypass the Content-Security-Policy; every other browser test runs under it.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Callable

import pytest
from browser_util import (  # noqa: F401 - the *_fixture names are fixtures
    CHROMIUM,
    Member,
    browser_fixture,
    choose,
    find_partner,
    log,
    open_member_fixture,
    room,
    say,
)
from conftest import ROOT
from modclient import PASSWORD, moderated_server
from playwright.sync_api import Page, expect
from test_moderation_reports import report, said
from wsclient import DIVIDE_A, Clients, fresh_lang

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(),
                       reason=f"{CHROMIUM} is not installed (apt-get install chromium)"),
    # In CI (CI=true) a missing axe-core is a failure, not a skip: .ci/run installs it.
    pytest.mark.skipif(not AXE.exists() and not os.environ.get("CI"),
                       reason="axe-core is not installed (npm ci)"),
]

RUN_AXE = """async (tags) => {
  const r = await axe.run(document, { runOnly: { type: 'tag', values: tags } });
  return r.violations.map((v) => `${v.id} (${v.impact}): ${v.help}\\n    ` + v.nodes.slice(0, 4)
    .map((n) => `${n.target.join(' ')} | ${(n.failureSummary || '').replace(/\\s+/g, ' ')}`)
    .join('\\n    '));
}"""


def axe(page: Page, where: str) -> None:
    if not page.evaluate("typeof window.axe === 'object'"):
        page.add_script_tag(path=str(AXE))
    violations = page.evaluate(RUN_AXE, TAGS)
    assert not violations, f"{where}:\n" + "\n".join(violations)


def members(open_member: Callable[..., Member], **kw: object) -> tuple[Page, Page]:
    a = open_member(bypass_csp=True, rules_seen=False, **kw)
    b = open_member(bypass_csp=True)
    return a.page, b.page


def conversation_states(pa: Page, pb: Page, prompt: str, heading: str, tag: str) -> None:
    """Every screen and state a member meets, axe in each: rules, the three start steps,
    queued, the conversation (menu, more time asked and answered, report, block and end
    questions), ended with feedback, thanks, and the "data deleted" screen."""
    expect(pa.get_by_role("heading", level=1)).to_be_visible()
    axe(pa, f"{tag}: rules")
    pa.locator("#rules-ok").click()
    expect(pa.get_by_role("heading", level=1, name=heading)).to_be_visible()
    pa.locator("#mode").select_option("language_buddy")
    pa.locator("#prefs summary").click()
    axe(pa, f"{tag}: start, step 1, settings open")
    pa.locator("#prefs summary").click()
    pa.locator("#mode").select_option("bridge")
    pa.locator("#join-btn").click()  # nothing chosen yet: the error, in the questions' step
    expect(pa.locator("#prompts-err")).to_be_focused()
    other = pa.locator(f"#prompt-list input:not([value={prompt}])").first
    other.check()
    pa.locator(f"#prompt-list input[value={prompt}]").check()
    other.uncheck()
    pa.locator("#prompt-search").fill("zzzz-no-such-question")
    axe(pa, f"{tag}: start, step 2, error and search")
    pa.locator("#prompt-search").fill("")
    pa.locator("#step-next").click()
    pa.locator("#d-0").select_option(index=1)
    pa.locator("#dims input[type=checkbox]").first.check()
    axe(pa, f"{tag}: start, step 3, filled in")
    pa.locator("#join-btn").click()
    expect(pa.locator("#s-queued")).to_be_visible()
    axe(pa, f"{tag}: queued")
    choose(pb, prompt, age="60+")
    find_partner(pb)
    expect(room(pa).locator(".stage")).to_be_visible(timeout=15_000)
    expect(room(pb).locator(".stage")).to_be_visible()
    say(pb, "Hello! مرحبا")
    room(pa).locator(".composer textarea").fill("Hi")
    room(pa).locator(".composer textarea").press("Enter")
    expect(log(pa).locator(".msg")).to_have_count(2)
    expect(log(pa).locator(".msg.mine[data-state=delivered]")).to_have_count(1)
    axe(pa, f"{tag}: matched")
    room(pa).locator(".menu-btn").click()
    expect(room(pa).locator(".menu")).to_be_visible()
    axe(pa, f"{tag}: menu")
    room(pa).locator(".more").click()
    room(pb).locator(".menu-btn").click()
    room(pb).locator(".extend-btn").click()
    expect(room(pa).locator(".ask")).to_be_visible()
    axe(pa, f"{tag}: more time asked by the partner")
    expect(room(pb).locator(".ask")).to_be_visible()
    axe(pb, f"{tag}: more time asked, waiting")
    room(pa).locator(".ask-no").click()
    expect(room(pa).locator(".ask")).to_be_hidden()
    room(pa).locator(".menu-btn").click()
    room(pa).locator(".report-btn").click()
    expect(room(pa).locator(".report")).to_be_visible()
    axe(pa, f"{tag}: report form")
    room(pa).locator(".report-cancel").click()
    room(pa).locator(".menu-btn").click()
    room(pa).locator(".block-btn").click()
    axe(pa, f"{tag}: block question")
    room(pa).locator(".confirm[data-for=block] .stay").click()
    room(pa).locator(".menu-btn").click()
    room(pa).locator(".end-btn").click()
    axe(pa, f"{tag}: end question")
    room(pa).locator(".confirm[data-for=end] .stay").click()
    room(pb).locator(".menu-btn").click()
    room(pb).locator(".end-btn").click()
    room(pb).locator(".end-yes").click()
    expect(room(pa).locator(".ended")).to_be_visible()
    axe(pa, f"{tag}: ended, feedback")
    room(pa).locator(".feedback input[value='3']").check()
    room(pa).locator(".feedback input[value=no]").check()
    room(pa).locator(".feedback button").click()
    expect(room(pa).locator(".fb-thanks")).to_be_visible()
    axe(pa, f"{tag}: thanks")
    pa.locator(".room .back").click()
    pa.locator("#rules-btn").click()
    pa.locator("#erase-btn").click()
    axe(pa, f"{tag}: rules, delete question")
    pa.locator("#erase-yes").click()
    expect(pa.locator("#s-notice h1")).to_be_focused()
    axe(pa, f"{tag}: data deleted")


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_english(open_member: Callable[..., Member], scheme: str) -> None:
    pa, pb = members(open_member, color_scheme=scheme)
    conversation_states(pa, pb, {"light": "neighbours", "dark": "work"}[scheme],
                        "Talk with someone", f"en {scheme}")


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_arabic_right_to_left(open_member: Callable[..., Member], scheme: str) -> None:
    pa, pb = members(open_member, locale="ar", color_scheme=scheme)
    expect(pa.locator("html")).to_have_attribute("dir", "rtl")
    expect(pa.locator("html")).to_have_attribute("lang", "ar")
    conversation_states(pa, pb, {"light": "home", "dark": "future"}[scheme], "تحدّث",
                        f"ar {scheme}")


# ---- the moderators' dashboard ----

class Members:
    """Member clients (tests/wsclient.py) on their own event loop in a thread, so a sync
    Playwright test can keep them connected while axe looks at the dashboard."""

    def __init__(self, ws_url: str) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.clients = Clients(ws_url)

    def run(self, coro):  # type: ignore[no-untyped-def]
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(30)

    def close(self) -> None:
        self.run(self.clients.__aexit__(None, None, None))
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()


@pytest.fixture(scope="module")
def mod_server(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    srv = moderated_server(tmp_path_factory)
    yield srv
    srv.stop()


async def _busy_pool(clients, prompt: int):  # type: ignore[no-untyped-def]
    """Two waiting members the matcher leaves apart, a live room and a report."""
    lang = fresh_lang()
    tickets = []
    for p in (prompt, prompt + 1):
        m = await clients.member()
        tickets.append((await m.join([m.prompt_id(p)], [lang], DIVIDE_A))["ticket"])
    pair = await clients.pair()
    await report(pair, await said(pair, "rude words"), "personal_info")
    return tickets, pair


@pytest.mark.parametrize(("scheme", "locale"), [("light", "en-GB"), ("dark", "en-GB"),
                                                ("light", "ar")])
def test_axe_dashboard_every_tab(browser, mod_server, scheme: str,  # type: ignore[no-untyped-def]
                                 locale: str) -> None:
    tag = f"dashboard {locale} {scheme}"
    ctx = browser.new_context(viewport={"width": 1366, "height": 768}, color_scheme=scheme,
                              locale=locale, bypass_csp=True)
    page = ctx.new_page()
    members = Members(mod_server.ws_url)
    try:
        page.goto(mod_server.url + "/moderate.html")
        expect(page.locator("#login-form")).to_be_visible()
        page.locator("#username").fill("ann")
        page.locator("#password").fill("wrong password, quite long")
        page.locator("#login-btn").click()
        expect(page.locator("#login-err")).not_to_be_empty()
        axe(page, f"{tag}: sign-in with an error")
        page.locator("#password").fill(PASSWORD)
        page.locator("#login-btn").click()
        expect(page.locator("#live")).to_have_attribute("data-state", "live")

        tickets, pair = members.run(_busy_pool(members.clients, len(locale) + len(scheme)))
        expect(page.locator("#reports li")).to_have_count(1)
        for t in tickets:
            page.locator(f'#queue tr[data-ticket="{t}"] input').check()
        page.locator("#match-check").click()
        expect(page.locator("#match-result")).not_to_be_empty()
        page.locator(".chart details summary").first.click()
        page.locator(".note summary").click()
        axe(page, f"{tag}: live, a check's answer, a chart's figures, the shift note")
        page.locator(f'#rooms tr[data-room="{pair.room}"] button').first.click()
        expect(page.locator("#notice")).to_be_visible()
        axe(page, f"{tag}: live, the notice form")
        page.locator("#notice button[value=cancel]").click()

        page.locator("#tab-reports").click()
        expect(page.locator("#report-list tbody tr")).to_have_count(1)
        page.locator("#report-list tbody tr button").click()
        expect(page.locator("#report")).to_be_visible()
        page.locator("#resolve-form button[type=submit]").click()  # no decision: an error
        expect(page.locator("#resolve-err")).not_to_be_empty()
        axe(page, f"{tag}: reports, one open with an error")

        page.locator("#resolve-form input[value=suspend]").check()
        page.locator("#resolve-note").fill("x")
        page.locator("#resolve-form button[type=submit]").click()
        expect(page.locator("#report")).to_be_hidden()
        page.locator("#tab-suspensions").click()
        expect(page.locator("#suspensions tbody tr").first).to_be_visible()
        axe(page, f"{tag}: suspensions")
        page.locator("#suspensions tbody tr").first.locator("button").last.click()
        expect(page.locator("#ask")).to_be_visible()
        axe(page, f"{tag}: suspensions, lifting asks why")
        page.locator("#ask button[value=cancel]").click()

        page.locator("#tab-prompts").click()
        axe(page, f"{tag}: prompts")
        page.locator("#prompts tbody tr").first.locator("button").last.click()
        expect(page.locator("#ask")).to_be_visible()
        axe(page, f"{tag}: prompts, retiring asks first")
        page.locator("#ask button[value=cancel]").click()

        page.locator("#tab-events").click()
        page.locator("#ev-new").click()
        expect(page.locator("#ev-edit")).to_be_visible()
        page.locator("#ev-save").click()  # nothing filled in: the browser or the server says why
        axe(page, f"{tag}: events, the new event form")
        page.locator("#ev-title-en").fill("Town talk")
        page.locator("#ev-starts").fill("2099-12-10T18:00")
        page.locator("#ev-prompts input").first.check()
        page.locator("#ev-save").click()
        expect(page.locator("#ev-live")).to_be_visible()
        expect(page.locator("#ev-signups")).to_have_text("0")
        page.locator("#ev-live details summary").click()
        axe(page, f"{tag}: events, the list and one followed")

        page.locator("#tab-audit").click()
        expect(page.locator("#audit tbody tr").first).to_be_visible()
        axe(page, f"{tag}: audit and invites")
    finally:
        members.close()
        ctx.close()


def test_event_page_has_no_violations(browser,  # type: ignore[no-untyped-def]
                                      tmp_path_factory: pytest.TempPathFactory) -> None:
    """The event page (/e/<slug>): the form, an error, signed up, and Arabic."""
    from conftest import LiveServer
    from test_browser_event import SLUG, announce

    base = tmp_path_factory.mktemp("a11y-event")
    announce(base / "data", SLUG, "--invite-code", "library")
    srv = LiveServer(data_dir=base / "data", log_path=base / "server.log").start()
    try:
        # The module's one browser: a second sync Playwright cannot start beside it.
        for lang in ("en", "ar"):
            ctx = browser.new_context(viewport={"width": 360, "height": 740}, bypass_csp=True)
            page = ctx.new_page()
            page.goto(f"{srv.url}/e/{SLUG}?lang={lang}")
            expect(page.locator("#ev-form")).to_be_visible()
            axe(page, f"event {lang}: form")
            page.locator("#ev-submit").click()
            expect(page.locator("#ev-alert")).not_to_be_empty()
            axe(page, f"event {lang}: nothing chosen")
            page.locator("#ep-0").check()
            page.locator("#ev-invite").fill("library")
            page.locator("#ev-submit").click()
            expect(page.locator("#ev-mine")).to_be_visible()
            axe(page, f"event {lang}: signed up")
            ctx.close()
    finally:
        srv.stop()
