"""The whole life of a report on the dashboard, in real Chromium against the real server:
filters, a report with its room and the author's earlier reports, a decision that is never
preselected, the suspension it gave and the way back, and lifting it early with a note
(the member can join again at once)."""

from __future__ import annotations

import pytest
from browser_util import BROWSER
from dashboard_util import desk, shot, sign_in, tab
from playwright.async_api import Page, expect
from test_moderation_report_life import refused_hello
from test_moderation_reports import report, said
from wsclient import DIVIDE_B, Clients

pytestmark = BROWSER


def rows(page: Page):  # type: ignore[no-untyped-def]
    return page.locator("#report-list tbody tr")


async def test_filter_review_resolve_suspend_and_lift(
        tmp_path_factory: pytest.TempPathFactory) -> None:
    async with desk(tmp_path_factory) as d, Clients(d.srv.ws_url) as clients:
        page = d.page
        await sign_in(page, d.srv.url, "mo")
        one, two = await clients.pair(), await clients.pair()
        spam = (await report(one, await said(one, "buy now"), "spam"))["report"]
        rude = (await report(one, await said(one, "you idiot"), "harassment"))["report"]
        hate = (await report(two, await said(two, "go home"), "hate"))["report"]
        await expect(page.locator("#f-reports")).to_have_text("3")

        await tab(page, "Reports")
        await expect(page.get_by_label("Status", exact=True)).to_have_value("open")
        await expect(rows(page)).to_have_count(3)
        await page.get_by_label("Reason", exact=True).select_option(label="Hate")
        await expect(rows(page)).to_have_count(1)
        await expect(rows(page).first).to_have_attribute("data-report", hate)
        await expect(rows(page).first).to_contain_text("Hate")
        await page.get_by_label("Reason", exact=True).select_option(label="All")
        await page.get_by_label("Prompt", exact=True).select_option(one.prompt)
        await expect(rows(page)).to_have_count(2)
        await page.get_by_label("Prompt", exact=True).select_option("")
        await page.get_by_label("Status", exact=True).select_option(label="Resolved")
        await expect(page.locator("#report-list-empty")).to_be_visible()

        # The second report on one author: the room it came from, the earlier report.
        await page.get_by_label("Status", exact=True).select_option(label="Open")
        await page.locator(f'#report-list tr[data-report="{rude}"]').get_by_role(
            "button", name="Review").click()
        await expect(page.locator("#report-title")).to_have_text("Report: Harassment")
        await expect(page.locator("#report-room")).to_contain_text("Room: “")
        await expect(page.locator("#report-author")).to_contain_text("(a pseudonym)")
        earlier = page.locator("#earlier li")
        await expect(earlier).to_have_count(1)
        await expect(earlier).to_contain_text("Spam")
        shown = await page.locator("#report").inner_text()
        assert "personal_info" not in shown and "harassment" not in shown

        # No decision is preselected: resolving without one asks for it.
        for choice in ("Dismiss", "Warn the author", "Suspend the author"):
            await expect(page.get_by_label(choice)).not_to_be_checked()
        await page.locator("#resolve-note").fill("spam and rude")
        await page.get_by_role("button", name="Resolve").click()
        await expect(page.locator("#resolve-err")).to_have_text("Choose a decision first.")
        await page.get_by_label("Warn the author").check()
        await page.get_by_role("button", name="Resolve").click()
        await expect(page.locator("#done")).to_have_text("Report resolved: the author was warned.")
        await expect(rows(page)).to_have_count(2)

        # Suspend the author of the hate report for two days.
        await page.locator(f'#report-list tr[data-report="{hate}"]').get_by_role(
            "button", name="Review").click()
        await page.get_by_label("Suspend the author").check()
        await page.get_by_label("Days of suspension").fill("2")
        await page.locator("#resolve-note").fill("hate speech")
        await page.get_by_role("button", name="Resolve").click()
        await expect(page.locator("#done")).to_have_text(
            "Report resolved: the author was suspended.")
        await two.b.expect_close()
        token = two.b.token
        assert token is not None
        await refused_hello(clients, token)

        # The resolved report links to its suspension, and the suspension back to it.
        await page.get_by_label("Status", exact=True).select_option(label="Resolved")
        await expect(rows(page)).to_have_count(2)
        await expect(page.locator(f'#report-list tr[data-report="{hate}"]')).to_contain_text(
            "the author was suspended")
        await page.locator(f'#report-list tr[data-report="{hate}"]').get_by_role(
            "button", name="Review").click()
        await expect(page.locator("#resolution-text")).to_contain_text(
            "Resolved: the author was suspended, by mo")
        await expect(page.locator("#resolve-form")).to_be_hidden()
        await page.get_by_role("button", name="See the suspension").click()
        await expect(page.get_by_role("tab", name="Suspensions")).to_have_attribute(
            "aria-selected", "true")
        row = page.locator("#suspensions tbody tr")
        await expect(row).to_have_count(1)
        await expect(row).to_contain_text("mo")
        await expect(row.locator("td").nth(2)).not_to_have_text("No end set")
        await row.get_by_role("button", name="Its report").click()
        await expect(page.locator("#report-title")).to_have_text("Report: Hate")
        await tab(page, "Suspensions")
        await shot(page, "dashboard-suspensions")

        # Lifting asks why, and will not go without an answer.
        await row.get_by_role("button", name="Lift").click()
        dialog = page.get_by_role("dialog")
        await dialog.get_by_role("button", name="Lift").click()
        await expect(dialog).to_be_visible()
        await dialog.get_by_label("Why (goes into the audit log)").fill("appeal accepted")
        await dialog.get_by_role("button", name="Lift").click()
        await expect(page.locator("#done")).to_have_text("The suspension was lifted.")
        await expect(page.locator("#suspensions-empty")).to_be_visible()

        back = await clients.member(token)
        queued = await back.join([two.prompt], [two.lang], DIVIDE_B)
        assert queued["type"] == "queued"
        await expect(page.locator(f'#queue tr[data-ticket="{queued["ticket"]}"]')).to_have_count(1)
        assert spam  # still open: the filters above counted it
    assert d.problems == []
