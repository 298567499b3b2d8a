"""The dashboard's Live tab in real Chromium against the real server: it fits a laptop
screen, its tabs work from the keyboard, a lone newcomer is not flagged as stuck, and the
charts follow what members do."""

from __future__ import annotations

import asyncio
import re

import pytest
from browser_util import BROWSER
from dashboard_util import desk, shot, sign_in
from playwright.async_api import Page, expect
from wsclient import DIVIDE_A, DIVIDE_B, Clients, fresh_lang

pytestmark = BROWSER

OLD = {"age_band": "60+"}


def cell(table: str, row: str, col: int):  # type: ignore[no-untyped-def]
    return f"#{table} tbody tr{row} > :nth-child({col})"


async def table_rows(page: Page, table: str) -> list[list[str]]:
    return list(await page.eval_on_selector_all(
        f"#{table} tbody tr", "rows => rows.map(r => [...r.cells].map(c => c.textContent))"))


async def test_the_live_tab_fits_a_laptop_and_the_tabs_follow_the_keyboard(
        tmp_path_factory: pytest.TempPathFactory) -> None:
    async with desk(tmp_path_factory) as d, Clients(d.srv.ws_url) as clients:
        page = d.page
        await sign_in(page, d.srv.url, "ann")
        # A busy pool: many waiting, a live room; lists scroll inside their own boxes.
        for i in range(14):
            m = await clients.member()
            await m.join([m.prompt_id(i)], [fresh_lang()], DIVIDE_A)
        await clients.pair()
        await expect(page.locator("#f-waiting")).to_have_text("14")
        await expect(page.locator("#f-rooms")).to_have_text("1")
        size = await page.evaluate("""() => ({h: document.documentElement.scrollHeight,
            w: document.documentElement.scrollWidth, vh: innerHeight, vw: innerWidth})""")
        assert size["h"] <= size["vh"] and size["w"] <= size["vw"], size
        for box in ("#queue", "#rooms", "#reports-title"):  # every list is on screen
            assert await page.locator(box).first.is_visible(), box
        await shot(page, "dashboard-live-1366x768")

        live = page.get_by_role("tab", name="Live")
        await expect(live).to_have_attribute("aria-selected", "true")
        await live.focus()
        await page.keyboard.press("ArrowRight")
        reports = page.get_by_role("tab", name="Reports")
        await expect(reports).to_be_focused()
        await expect(reports).to_have_attribute("aria-selected", "true")
        await expect(page.get_by_role("tabpanel")).to_have_attribute("id", "p-reports")
        await expect(page.locator("#p-live")).to_be_hidden()
        await page.keyboard.press("End")
        await expect(page.get_by_role("tab", name="Audit")).to_be_focused()
        await expect(page.get_by_role("heading", name="Audit log")).to_be_visible()
        await page.keyboard.press("ArrowRight")  # wraps round
        await expect(live).to_be_focused()
        await page.keyboard.press("ArrowLeft")
        await expect(page.get_by_role("tab", name="Audit")).to_be_focused()
        await page.keyboard.press("Home")
        await expect(page.locator("#p-live")).to_be_visible()
        # Only the selected tab is in the tab order.
        assert await page.locator("[role=tab][tabindex='0']").count() == 1
    assert d.problems == []


async def test_a_lone_newcomer_is_not_shown_as_stuck(
        tmp_path_factory: pytest.TempPathFactory) -> None:
    async with desk(tmp_path_factory) as d, Clients(d.srv.ws_url) as clients:
        page = d.page
        await sign_in(page, d.srv.url, "mo")
        m = await clients.member()
        queued = await m.join([m.prompt_id(0)], [fresh_lang()], DIVIDE_A)
        await expect(page.locator(f'#queue tr[data-ticket="{queued["ticket"]}"]')).to_be_visible()
        await asyncio.sleep(1.5)
        await expect(page.locator("#f-stuck")).to_have_text("0")
        assert not await page.locator("#f-stuck").evaluate(
            "e => e.closest('div').classList.contains('warn')")
        await expect(page.locator("#stuck tr.stuck")).to_have_count(0)
        await expect(page.locator("#stuck-empty")).to_be_visible()
    assert d.problems == []


async def test_charts_follow_members_joining_and_being_matched(
        tmp_path_factory: pytest.TempPathFactory) -> None:
    async with desk(tmp_path_factory) as d, Clients(d.srv.ws_url) as clients:
        page = d.page
        await sign_in(page, d.srv.url, "mo")
        waiting = page.locator(cell("t-waiting", ":last-child", 2))
        await expect(waiting).to_have_text("0")
        await expect(page.locator("#c-share [role=img]")).to_have_attribute(
            "aria-label", "No room has opened today yet.")

        # Eleven members aged 60+, each alone in their language: all wait.
        for i in range(11):
            m = await clients.member()
            await m.join([m.prompt_id(i)], [fresh_lang()], OLD)
        await expect(waiting).to_have_text("11")
        await expect(page.locator("#c-waiting [role=img]")).to_have_attribute(
            "aria-label", re.compile(r"^Members waiting per minute over the last hour: 11 now, "
                                     r"at most 11\. Latest median wait: \d+ s\.$"))
        balance = await table_rows(page, "t-balance")
        assert ["Age", "60+", "11"] in balance, balance
        assert ["Age", "18-29", "fewer than 11"] in balance, balance
        assert ["Politics", "Left", "fewer than 11"] in balance, balance
        # The one bucket with a count is a solid bar; the rest are drawn as "few".
        await expect(page.locator("#c-balance rect.bar:not(.few)")).to_have_count(1)
        await expect(page.locator("#c-balance rect.few")).not_to_have_count(0)

        # A pair crossing every divide is matched at once: one match, one room today,
        # crossing two divides or more.
        assert sum(int(r[1]) for r in await table_rows(page, "t-matches")) == 0
        pair = await clients.pair(profile_a=DIVIDE_A, profile_b=DIVIDE_B)
        await expect(page.locator(f'#rooms tr[data-room="{pair.room}"]')).to_be_visible()
        await expect(page.locator("#t-share tbody tr:nth-child(1) td")).to_have_text("1")
        await expect(page.locator("#t-share tbody tr:nth-child(2) td")).to_have_text("1")
        await expect(page.locator("#t-share tbody tr:nth-child(3) td")).to_have_text("100%")
        await expect(page.locator("#c-share-text")).to_have_text(
            "100% of today's rooms crossed two divides or more (1 of 1).")
        rows = await table_rows(page, "t-matches")
        assert len(rows) == 60 and sum(int(r[1]) for r in rows) == 1, rows
        await expect(waiting).to_have_text("11")  # the pair came and went

        # The figures behind each chart are one click away.
        await page.locator(".chart").nth(1).get_by_text("Figures").click()
        await expect(page.locator("#t-matches")).to_be_visible()
        await shot(page, "dashboard-charts")
    assert d.problems == []


async def test_who_is_on_duty_and_the_note_for_the_next_shift(
        tmp_path_factory: pytest.TempPathFactory) -> None:
    async with desk(tmp_path_factory) as d:
        page = d.page
        await sign_in(page, d.srv.url, "ann")
        duty = page.locator("#duty")
        await expect(duty).to_contain_text("ann")
        await expect(duty).not_to_contain_text("mo")
        other = await d.new_page()
        await sign_in(other, d.srv.url, "mo")
        await expect(duty).to_contain_text("mo")  # pushed by the feed, no reload

        await page.get_by_text("Note for the next shift", exact=True).click()
        await page.get_by_label("Leave a note for the next shift").fill("Room 2 needs a watch")
        await page.get_by_role("button", name="Save the note").click()
        await expect(page.locator("#done")).to_have_text("The note for the next shift was saved.")
        await other.get_by_text("Note for the next shift", exact=True).click()
        await expect(other.locator("#shift-note")).to_have_text("Room 2 needs a watch")
        await expect(other.locator("#shift-note-by")).to_contain_text("by ann")
    assert d.problems == []
