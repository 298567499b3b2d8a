"""Shared by the dashboard's browser tests (tests/test_dashboard*.py): a moderated server
and one Chromium page on it that records console errors and Content-Security-Policy
violations, and signing in as a person would."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from browser_util import CHROMIUM, CHROMIUM_ARGS, OUTPUT
from conftest import LiveServer
from modclient import PASSWORD, moderated_server
from playwright.async_api import Browser, Page, async_playwright, expect

CSP_LISTENER = """
window.__csp = [];
document.addEventListener('securitypolicyviolation',
  (e) => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));
"""
# Chromium logs every refused request; a dashboard that is not signed in yet asks once.
EXPECTED_CONSOLE = re.compile(r"status of 401")
LAPTOP = {"width": 1366, "height": 768}


@dataclass
class Desk:
    srv: LiveServer
    browser: Browser
    page: Page
    problems: list[str] = field(default_factory=list)

    async def new_page(self, locale: str = "en-GB", viewport: dict[str, int] | None = None,
                       **kw: Any) -> Page:
        ctx = await self.browser.new_context(locale=locale, viewport=viewport or LAPTOP, **kw)
        await ctx.add_init_script(CSP_LISTENER)
        page = await ctx.new_page()
        page.on("console", lambda m: m.type == "error" and not EXPECTED_CONSOLE.search(
            m.text) and self.problems.append(m.text))
        page.on("pageerror", lambda e: self.problems.append(str(e)))
        return page

    async def csp(self, page: Page) -> list[str]:
        return list(await page.evaluate("window.__csp"))


@asynccontextmanager
async def desk(factory: pytest.TempPathFactory, locale: str = "en-GB",
               viewport: dict[str, int] | None = None) -> AsyncIterator[Desk]:
    srv = moderated_server(factory)
    try:
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            d = Desk(srv, browser, None)  # type: ignore[arg-type]
            d.page = await d.new_page(locale, viewport)
            yield d
            for ctx in browser.contexts:
                for page in ctx.pages:
                    d.problems.extend(await d.csp(page))
            await browser.close()
    finally:
        srv.stop()


async def sign_in(page: Page, url: str, name: str, username: str = "Username",
                  password: str = "Password", submit: str = "Sign in",
                  live: str = "live") -> None:
    await page.goto(url + "/moderate.html")
    await page.get_by_label(username).fill(name)
    await page.get_by_label(password).fill(PASSWORD)
    await page.get_by_role("button", name=submit).click()
    await expect(page.locator("#live")).to_have_text(live)


async def tab(page: Page, name: str) -> None:
    await page.get_by_role("tab", name=name).click()
    await expect(page.get_by_role("tabpanel")).to_be_visible()


async def eventually(check: Callable[[], Awaitable[bool]], wait: float = 5.0) -> None:
    import asyncio
    import time
    deadline = time.monotonic() + wait
    while not await check():
        assert time.monotonic() < deadline, "the condition did not hold in time"
        await asyncio.sleep(0.1)


async def shot(page: Page, name: str) -> None:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(OUTPUT / f"{name}.png"))
