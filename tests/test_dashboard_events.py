"""The dashboard's Events tab in Chromium: an admin creates an event, sees it listed, follows
its countdown, sign-ups and those present as members sign up and enter its lobby, then
cancels it; the creation and the cancellation are each in the audit log once."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from dashboard_util import desk, shot, sign_in, tab
from modclient import Mod
from playwright.async_api import expect
from test_wire_lobby import enter, sign_up
from wsclient import DIVIDE_A, Clients, fresh_lang


async def test_an_admin_creates_follows_and_cancels_an_event(
        tmp_path_factory: pytest.TempPathFactory) -> None:
    async with desk(tmp_path_factory) as d, Mod(d.srv.url) as ann:
        page = d.page
        await sign_in(page, d.srv.url, "ann")
        await tab(page, "Events")
        await expect(page.locator("#ev-up-empty")).to_be_visible()

        slug = f"town-{uuid.uuid4().hex[:8]}"
        # Ten minutes ahead: the lobby (open from 15 minutes before) lets members in.
        starts = (datetime.now(UTC) + timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M")
        await page.get_by_role("button", name="New event").click()
        await page.locator("#ev-slug").fill(slug)
        await page.locator("#ev-title-en").fill("Town talk")
        await page.locator("#ev-starts").fill(starts)
        await page.locator("#ev-tz").fill("UTC")
        await page.locator("#ev-length").fill("45")
        await page.locator("#ev-prompts input[value=neighbours]").check()
        await page.locator("#ev-mode").select_option("bridge")
        await page.get_by_role("button", name="Save the event").click()
        await expect(page.locator("#done")).to_have_text("Town talk is created.")

        row = page.locator(f'#ev-up tr[data-event="{slug}"]')
        await expect(row).to_contain_text("Town talk")
        await expect(page.locator("#ev-live-title")).to_have_text("Town talk")
        await expect(page.locator("#ev-signups")).to_have_text("0")
        # The countdown counts down: two readings a couple of seconds apart differ.
        countdown = page.locator("#ev-countdown")
        await expect(countdown).to_contain_text("min")
        first = await countdown.inner_text()
        await expect(countdown).not_to_have_text(first, timeout=3000)

        # A member signs up, then enters the lobby: both counts follow within a poll.
        lang = fresh_lang()
        token = await sign_up(d.srv.url, slug, lang, DIVIDE_A)
        await expect(page.locator("#ev-signups")).to_have_text("1", timeout=5000)
        async with Clients(d.srv.ws_url) as c:
            m = await c.member()
            await enter(m, slug, token)
            await expect(page.locator("#ev-present")).to_have_text("1", timeout=5000)
            # One present: every bucket of the balance says "fewer than 11", never 1.
            await page.locator("#ev-live details summary").click()
            counts = page.locator("#t-ev-balance tbody td:last-child")
            await expect(counts.first).to_have_text("fewer than 11")
            assert set(await counts.all_inner_texts()) == {"fewer than 11"}
            await shot(page, "dashboard-events")

        await row.get_by_role("button", name="Cancel the event").click()
        await expect(page.locator("#ask")).to_be_visible()
        await page.locator("#ask-note").fill("the library is closed that day")
        await page.locator("#ask-ok").click()
        await expect(page.locator("#done")).to_have_text("The event is cancelled.")
        await expect(page.locator(f'#ev-past tr[data-event="{slug}"]')).to_contain_text(
            "Cancelled")
        await expect(page.locator(f'#ev-up tr[data-event="{slug}"]')).to_have_count(0)

        assert (await ann.login("ann")).status == 200
        mine = [e for e in await ann.audit() if e["target"] == f"event:{slug}"]
        assert sorted(e["action"] for e in mine) == ["event.cancel", "event.create"]
        assert next(e for e in mine if e["action"] == "event.cancel")["note"] == \
            "the library is closed that day"
    assert d.problems == []


async def test_a_moderator_follows_but_cannot_change(
        tmp_path_factory: pytest.TempPathFactory) -> None:
    async with desk(tmp_path_factory) as d, Mod(d.srv.url) as ann:
        assert (await ann.login("ann")).status == 200
        at = (datetime.now(UTC) + timedelta(hours=2)).replace(microsecond=0)
        made = await ann.post("/api/events", {
            "slug": "later-day", "title": {"en": "Later"}, "starts": at.isoformat(),
            "tz": "UTC", "prompts": ["neighbours"]})
        assert made.status == 201, made
        page = d.page
        await sign_in(page, d.srv.url, "mo")
        await tab(page, "Events")
        row = page.locator('#ev-up tr[data-event="later-day"]')
        await expect(row).to_contain_text("Later")
        await expect(page.get_by_role("button", name="New event")).to_be_hidden()
        await expect(row.get_by_role("button", name="Cancel the event")).to_have_count(0)
        await row.get_by_role("button", name="Follow").click()
        await expect(page.locator("#ev-state")).to_contain_text("Upcoming")
        await expect(page.locator("#ev-countdown")).to_contain_text("h")
        # Keyboard: the tabs are reached with the arrow keys, as the WAI-ARIA pattern says.
        await page.get_by_role("tab", name="Events").focus()
        await page.keyboard.press("ArrowLeft")
        await expect(page.get_by_role("tab", name="Prompts")).to_be_focused()
    assert d.problems == []
