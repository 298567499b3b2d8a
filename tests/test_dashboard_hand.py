"""A moderator acts on the live pool from the dashboard, in real Chromium against the real
server: opens a room by hand for two waiting members the matcher had left apart (and is
told why it had), is refused an incompatible pair with the reason in words, and speaks to
a live room; each action lands once in the audit log."""

from __future__ import annotations

import pytest
from browser_util import BROWSER
from dashboard_util import desk, shot, sign_in, tab
from modclient import Mod
from playwright.async_api import Page, expect
from wsclient import DIVIDE_A, Clients, Member, fresh_lang, marker

pytestmark = BROWSER


async def waiting(clients: Clients, prompt: int, lang: str) -> tuple[Member, str]:
    m = await clients.member()
    queued = await m.join([m.prompt_id(prompt)], [lang], DIVIDE_A)
    return m, str(queued["ticket"])


async def pick(page: Page, *tickets: str) -> None:
    for t in tickets:
        await page.locator(f'#queue tr[data-ticket="{t}"] input[type=checkbox]').check()


async def test_hand_match_two_members_and_be_refused_an_incompatible_pair(
        tmp_path_factory: pytest.TempPathFactory) -> None:
    async with desk(tmp_path_factory) as d, Clients(d.srv.ws_url) as clients:
        page = d.page
        await sign_in(page, d.srv.url, "mo")
        lang = fresh_lang()
        # Different prompts, one language: the matcher never pairs them.
        a, ta = await waiting(clients, 0, lang)
        b, tb = await waiting(clients, 1, lang)
        # The same prompt in two languages: nobody may put them together.
        c, tc = await waiting(clients, 2, fresh_lang())
        e, te = await waiting(clients, 2, fresh_lang())
        await expect(page.locator("#queue tbody tr")).to_have_count(4)

        check, open_room = (page.get_by_role("button", name="Check"),
                            page.get_by_role("button", name="Open room"))
        await expect(open_room).to_be_disabled()
        await pick(page, tc, te)
        await expect(page.locator("#match-count")).to_have_text("2 selected")
        await check.click()
        result = page.locator("#match-result")
        await expect(result).to_have_text("They cannot be put in one room: they share no language.")
        await open_room.click()
        await expect(result).to_have_text("They cannot be put in one room: they share no language.")
        await c.expect_nothing()
        await e.expect_nothing()
        for t in (tc, te):
            await page.locator(f'#queue tr[data-ticket="{t}"] input[type=checkbox]').uncheck()

        await pick(page, ta, tb)
        await check.click()
        await expect(result).to_contain_text("They can be put in one room.")
        await expect(result).to_contain_text("they chose no prompt in common.")
        assert "no_shared_prompt" not in await result.inner_text()
        await shot(page, "dashboard-hand-check")
        await open_room.click()
        ma = await a.expect("matched", wait=5)
        mb = await b.expect("matched", wait=5)
        assert ma["room"] == mb["room"]
        await expect(page.locator("#done")).to_have_text(
            f"A room was opened on “{ma['prompt']['text']}”.")
        await expect(page.locator(f'#rooms tr[data-room="{ma["room"]}"]')).to_be_visible()
        await expect(page.locator(f'#queue tr[data-ticket="{ta}"]')).to_have_count(0)
        await expect(page.locator("#match-count")).to_have_text("0 selected")

        async with Mod(d.srv.url) as admin:
            await admin.login("ann")
            entries = [x for x in await admin.audit() if x["action"] == "room.hand_match"]
            assert [x["target"] for x in entries] == [f"room:{ma['room']}"], entries
    # Chromium logs the refused request (409) it was asked to make; nothing else went wrong.
    assert [p for p in d.problems if "status of 409" not in p] == []


async def test_a_notice_to_a_live_room_reaches_both_members(
        tmp_path_factory: pytest.TempPathFactory) -> None:
    async with desk(tmp_path_factory) as d, Clients(d.srv.ws_url) as clients:
        page = d.page
        await sign_in(page, d.srv.url, "ann")
        pair = await clients.pair()
        row = page.locator(f'#rooms tr[data-room="{pair.room}"]')
        await row.get_by_role("button", name="Send a notice").click()
        dialog = page.get_by_role("dialog")
        await expect(dialog).to_be_visible()
        words = f"Please keep it kind {marker()}"
        await dialog.get_by_label("What the room's members will read").fill(words)
        await dialog.get_by_role("button", name="Send notice").click()
        await expect(page.locator("#done")).to_have_text("The notice was sent to the room.")
        await expect(dialog).to_be_hidden()
        for m in (pair.a, pair.b):
            got = await m.find("notice", message=words)
            assert got.get("level") == "moderator" and got.get("room") == pair.room, got

        # An empty notice is not sent: the browser asks for words first.
        await row.get_by_role("button", name="Send a notice").click()
        await dialog.get_by_role("button", name="Send notice").click()
        await expect(dialog).to_be_visible()
        await dialog.get_by_role("button", name="Cancel").click()
        await expect(dialog).to_be_hidden()
        await pair.a.expect_nothing(ignore=frozenset({"stage"}))

        await tab(page, "Audit")
        entry = page.locator("#audit tr[data-action='room.notice']")
        await expect(entry).to_have_count(1)
        await expect(entry).to_contain_text("Sent a notice to a room")
        await expect(entry).to_contain_text(words)
    assert d.problems == []
