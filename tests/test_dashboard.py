"""The moderators' dashboard in real headless Chromium, against the real server.

A moderator signs in, watches a member join (and sees no profile answer),
sees the pair matched into a live room, opens the report one of them files,
and suspends the author; the member's socket is closed. The page must log
no errors and break no Content-Security-Policy rule along the way.
"""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from browser_util import BROWSER, CHROMIUM, CHROMIUM_ARGS
from conftest import LiveServer
from modclient import PASSWORD, moderated_server
from playwright.async_api import Page, async_playwright, expect
from wsclient import DIVIDE_A, Clients, fresh_lang, fresh_topic, marker

pytestmark = BROWSER

CSP_LISTENER = """
window.__csp = [];
document.addEventListener('securitypolicyviolation',
  (e) => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));
"""
# Chromium logs every refused request; a dashboard that is not signed in yet asks once.
EXPECTED_CONSOLE = re.compile(r"status of 401")


@pytest.fixture
async def dashboard(tmp_path_factory: pytest.TempPathFactory
                    ) -> AsyncIterator[tuple[LiveServer, Page, list[str]]]:
    srv = moderated_server(tmp_path_factory)
    problems: list[str] = []
    try:
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            page = await browser.new_page(viewport={"width": 1100, "height": 900})
            await page.add_init_script(CSP_LISTENER)
            page.on("console", lambda m: m.type == "error" and not EXPECTED_CONSOLE.search(
                m.text) and problems.append(m.text))
            page.on("pageerror", lambda e: problems.append(str(e)))
            yield srv, page, problems
            problems.extend(await page.evaluate("window.__csp"))
            await browser.close()
    finally:
        srv.stop()


async def sign_in(page: Page, url: str, name: str) -> None:
    await page.goto(url + "/moderate.html")
    await page.get_by_label("Username").fill(name)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.locator("#live")).to_have_text("live")


async def test_watch_a_join_and_a_match_then_suspend_from_a_report(
        dashboard: tuple[LiveServer, Page, list[str]], tmp_path: Path) -> None:
    srv, page, problems = dashboard
    await sign_in(page, srv.url, "ann")
    await expect(page.get_by_role("tab", name="Audit")).to_be_visible()  # an admin

    async with Clients(srv.ws_url) as clients:
        a, b = await clients.member(), await clients.member()
        prompt, lang = a.prompt_id(fresh_topic()), fresh_lang()
        started = time.monotonic()
        queued = await a.join([prompt], [lang], {"age_band": "60+", "area": "rural"})
        row = page.locator(f'#queue tr[data-ticket="{queued["ticket"]}"]')
        await expect(row).to_be_visible(timeout=1000)
        assert time.monotonic() - started < 1.0
        await expect(row).to_contain_text(lang)
        await expect(page.locator("#f-waiting")).to_have_text("1")
        shown = await page.locator("body").inner_text()
        for secret in ("60+", "rural", a.member_id, b.member_id):
            assert secret not in shown, secret

        await b.join([prompt], [lang], DIVIDE_A)
        room = (await a.expect("matched", wait=12))["room"]
        await b.expect("matched")
        await expect(row).to_have_count(0)
        await expect(page.locator(f'#rooms tr[data-room="{room}"]')).to_be_visible()
        await expect(page.locator("#f-rooms")).to_have_text("1")

        words = f"you fool {marker()}"
        await b.say(room, words)
        msg = await a.expect("message", text=words)
        await a.send({"type": "report", "room": room, "reason": "harassment",
                      "note": "insults", "messages": [msg]})
        report = (await a.expect("reported"))["report"]
        item = page.locator(f'#reports li[data-report="{report}"]')
        await expect(item).to_contain_text("Harassment")  # the reason in words, not its code
        await expect(item).not_to_contain_text("harassment")
        await expect(page.locator("#f-reports")).to_have_text("1")

        await item.get_by_role("button", name="Review").click()
        await expect(page.locator("#evidence")).to_contain_text(words)
        await expect(page.locator("#report-note")).to_contain_text("insults")
        await page.get_by_label("Suspend the author").check()
        await page.get_by_label("Days of suspension").fill("3")
        await page.get_by_label("Why (goes into the audit log)").first.fill("insults again")
        await page.get_by_role("button", name="Resolve").click()
        await expect(page.locator("#done")).to_have_text(
            "Report resolved: the author was suspended.")

        _, frames = await b.expect_close()
        assert any(f.get("code") == "suspended" for f in frames), frames
        await a.expect("closed", room=room, reason="suspended")

    await expect(page.locator("#evidence")).to_have_count(1)
    assert await page.locator("#evidence li").count() == 0  # the evidence left the page
    await page.get_by_role("tab", name="Live").click()
    await expect(page.locator("#reports-empty")).to_be_visible()
    await page.get_by_role("tab", name="Audit").click()
    await expect(page.locator("#audit")).to_contain_text(
        "Suspended the author of a report (3 days)")
    await expect(page.locator("#summary")).to_contain_text("0 open reports", timeout=8000)
    await page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)
    assert problems == []


async def test_a_wrong_password_says_so_and_signing_out_returns_to_the_form(
        dashboard: tuple[LiveServer, Page, list[str]]) -> None:
    srv, page, problems = dashboard
    await page.goto(srv.url + "/moderate.html")
    await page.get_by_label("Username").fill("mo")
    await page.get_by_label("Password").fill("not the password at all")
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("alert").filter(has_text="do not match")).to_be_visible()
    await expect(page.locator("#s-dash")).to_be_hidden()

    await sign_in(page, srv.url, "mo")
    await expect(page.get_by_role("tab", name="Audit")).to_be_hidden()  # not an admin
    await page.reload()  # a reloaded dashboard keeps its session and its CSRF token
    await expect(page.locator("#live")).to_have_text("live")
    await page.get_by_role("button", name="Sign out").click()
    await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    await expect(page.locator("#done")).to_have_text("You are signed out.")
    assert problems == [], problems
