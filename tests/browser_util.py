"""Helpers for the browser tests: the Chromium fixtures, what a person does on the
page, a cuttable TCP relay, and page checks run in the page.

Test modules import the fixtures by their function names (`browser_fixture`,
`open_member_fixture`); pytest knows them as `browser` and `open_member`.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import threading
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from conftest import ROOT, LiveServer
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
# Every browser test file: marked, and skipped with the reason when Chromium is missing.
BROWSER = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(),
                       reason=f"{CHROMIUM} is not installed (apt-get install chromium)"),
]
CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


DECK_FILE = ROOT / "server" / "bridgechat" / "data" / "deck.toml"
DECK = tomllib.loads(DECK_FILE.read_text(encoding="utf-8"))
PROMPT = {p["id"]: p["text"] for p in DECK["prompts"]}
AGE_LABEL = next(d["label"] for d in DECK["dimensions"] if d["id"] == "age_band")
MATCH_TIMEOUT = 15_000  # ms: the contract promises a match within 10 s
# Where browser tests write what a person should look at (screenshots, figures):
# BRIDGECHAT_TEST_OUTPUT, or test-output/ in the repository.
OUTPUT = Path(os.environ.get("BRIDGECHAT_TEST_OUTPUT") or ROOT / "test-output")

CSP_LISTENER = """
window.__csp = [];
document.addEventListener('securitypolicyviolation',
  (e) => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));
"""


@dataclass
class Member:
    """One person: a browser context with its own storage, and what went wrong in it."""

    page: Page
    context: BrowserContext
    problems: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    # Console lines that a test expects (Chromium logs every failed WebSocket attempt).
    allowed: list[re.Pattern[str]] = field(default_factory=list)

    def problems_now(self) -> list[str]:
        csp = self.page.evaluate("window.__csp || []") if not self.page.is_closed() else []
        logged = [p for p in self.problems if not any(a.search(p) for a in self.allowed)]
        return (logged + [f"CSP violation: {v}" for v in csp]
                + [f"dialog: {d}" for d in self.dialogs])


@pytest.fixture(scope="module", name="browser")
def browser_fixture() -> Iterator[Browser]:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(name="open_member")
def open_member_fixture(browser: Browser, server: LiveServer) -> Iterator[Callable[..., Member]]:
    """Open the member page in a fresh browser context (own storage); checks it at teardown."""
    members: list[Member] = []

    def open_(width: int = 360, height: int = 740, url: str | None = None,
              color_scheme: str = "light", token: str | None = None, locale: str = "en-GB",
              rules_seen: bool = True, init: str | None = None,
              bypass_csp: bool = False) -> Member:
        ctx = browser.new_context(viewport={"width": width, "height": height},
                                  color_scheme=color_scheme,  # type: ignore[arg-type]
                                  locale=locale, bypass_csp=bypass_csp)
        ctx.add_init_script(CSP_LISTENER)
        if rules_seen:
            ctx.add_init_script("localStorage.setItem('bc.rules', '1')")
        if init:
            ctx.add_init_script(init)
        if token is not None:
            ctx.add_init_script(f"localStorage.setItem('bc.token', {token!r})")
        page = ctx.new_page()
        m = Member(page, ctx)
        page.on("console", lambda msg: m.problems.append(f"console {msg.type}: {msg.text}")
                if msg.type in ("error", "warning") else None)
        page.on("pageerror", lambda e: m.problems.append(f"page error: {e}"))

        def on_dialog(d):  # type: ignore[no-untyped-def]
            m.dialogs.append(f"{d.type}: {d.message}")
            d.dismiss()

        page.on("dialog", on_dialog)
        page.goto((url or server.url) + "/")
        members.append(m)
        return m

    yield open_
    problems = {i: m.problems_now() for i, m in enumerate(members)}
    for m in members:
        m.context.close()
    assert not any(problems.values()), problems


# ---- what a person does ----

def start_screen(page: Page) -> None:
    expect(page.get_by_role("heading", level=1, name="Talk with someone")).to_be_visible()


def to_step(page: Page, step: int) -> None:
    """Go to a step of the start form (0: language, 1: questions, 2: about you) by its
    button in the progress bar; its heading takes focus."""
    page.locator(f".progress .step-link[data-go='{step}']").click()
    expect(page.locator(".step:not([hidden]) h2")).to_be_focused()


def choose(page: Page, prompt: str, age: str | None = None, stance: str | None = None) -> None:
    start_screen(page)
    to_step(page, 1)
    page.get_by_role("checkbox", name=PROMPT[prompt]).check()
    if stance:
        item = page.locator("li", has_text=PROMPT[prompt])
        item.get_by_label("Your view").select_option(label=stance)
    if age:
        to_step(page, 2)
        page.get_by_label(AGE_LABEL).select_option(age)


def join_in_any_language(page: Page, prompt: str, age: str) -> None:
    """Choose a prompt and an age band and join, by value: the page may be in any language."""
    page.locator(".step-link[data-go='1']").click()
    page.locator(f"#prompt-list input[value={prompt}]").check()
    page.locator(".step-link[data-go='2']").click()
    page.locator("#d-0").select_option(age)
    page.locator("#join-btn").click()


def find_partner(page: Page) -> None:
    page.get_by_role("button", name="Find a partner").click()


def room(page: Page):  # type: ignore[no-untyped-def]
    return page.locator(".room:not([hidden])")


def wait_matched(page: Page, prompt: str) -> str:
    """Wait for the conversation; return the alias the partner sees for us."""
    heading = room(page).get_by_role("heading", level=1)
    expect(heading).to_contain_text(PROMPT[prompt], timeout=MATCH_TIMEOUT)
    expect(heading).to_be_focused()
    you = room(page).get_by_text("Others see you as")
    expect(you).to_be_visible()
    text = re.sub(r"[\u2068\u2069]", "", you.inner_text())
    return text.removeprefix("Others see you as ").rstrip(".")


def named(alias: str, rest: str) -> re.Pattern[str]:
    """Text naming a member: the client wraps names in invisible Unicode isolates."""
    return re.compile("\u2068?" + re.escape(alias) + "\u2069?" + re.escape(rest))


def in_menu(page: Page, name: str):  # type: ignore[no-untyped-def]
    """Open the conversation's menu (one tap away in the header); the item named `name`."""
    r = room(page)
    button = r.get_by_role("button", name="Conversation menu")
    if button.get_attribute("aria-expanded") != "true":
        button.click()
    return r.locator(".menu").get_by_role("button", name=name, exact=True)


def say(page: Page, text: str) -> None:
    box = room(page).get_by_label("Your message")
    box.fill(text)
    box.press("Enter")


def log(page: Page):  # type: ignore[no-untyped-def]
    return room(page).get_by_role("log")


def pair(open_member: Callable[..., Member], prompt: str,
         **kw: object) -> tuple[Member, Member, str, str]:
    a, b = open_member(**kw), open_member(**kw)
    # Two divides (age and opposite views): matched on the next round, no waiting.
    choose(a.page, prompt, age="18-29", stance="Agree")
    choose(b.page, prompt, age="60+", stance="Disagree")
    find_partner(a.page)
    expect(a.page.get_by_role("heading", level=1, name="Looking for a partner")).to_be_focused()
    find_partner(b.page)
    return a, b, wait_matched(a.page, prompt), wait_matched(b.page, prompt)


class CutProxy:
    """A loopback TCP relay to a server; `cut()` drops every connection, like a lost network.

    The browser loads the page through the relay, so `Origin` and `Host` agree and the
    server's same-origin check passes.
    """

    def __init__(self, target_port: int) -> None:
        self.target = ("127.0.0.1", target_port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.listener.getsockname()[1])
        self.blocked = False
        self.closed = False
        self.lock = threading.Lock()
        self.conns: set[socket.socket] = set()
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _accept(self) -> None:
        while not self.closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if self.blocked:
                client.close()
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.conns.update((client, upstream))
            threading.Thread(target=self._pipe, args=(client, upstream), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            self._drop(s)

    def _drop(self, s: socket.socket) -> None:
        with self.lock:
            self.conns.discard(s)
        with contextlib.suppress(OSError):
            s.shutdown(socket.SHUT_RDWR)
        s.close()

    def cut(self, *, block: bool = True) -> None:
        """Drop every open connection; while blocked, new ones are refused at once."""
        self.blocked = block
        with self.lock:
            conns = list(self.conns)
        for s in conns:
            self._drop(s)

    def unblock(self) -> None:
        self.blocked = False

    def close(self) -> None:
        self.closed = True
        self.cut()
        self.listener.close()


# Text whose colour contrasts less than 4.5:1 with the background behind it.
LOW_CONTRAST_JS = """() => {
  const parse = (c) => {
    const m = /rgba?\\(([^)]+)\\)/.exec(c);
    if (!m) return null;
    const p = m[1].split(/[\\s,\\/]+/).filter(Boolean).map(Number);
    return { r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1 };
  };
  const lum = ({ r, g, b }) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const bgOf = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c && c.a > 0.5) return c;
    }
    return { r: 255, g: 255, b: 255, a: 1 };
  };
  const bad = [];
  for (const el of document.querySelectorAll('body *')) {
    if (!el.checkVisibility({ opacityProperty: true, visibilityProperty: true })) continue;
    if (![...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim())) continue;
    const fg = parse(getComputedStyle(el).color);
    const bg = bgOf(el);
    const [a, b] = [lum(fg), lum(bg)];
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    const what = `${el.tagName}.${el.className} "${el.textContent.trim().slice(0, 30)}"`;
    if (ratio < 4.5) bad.push(`${what} ${ratio.toFixed(2)}`);
  }
  return bad;
}"""

# Visible controls smaller than 24 x 24 CSS pixels.
SMALL_TARGETS_JS = """() => {
  const bad = [];
  for (const el of document.querySelectorAll('button, input, select, textarea, summary, a[href]')) {
    if (!el.checkVisibility()) continue;
    const r = el.getBoundingClientRect();
    const what = `${el.tagName}.${el.className}`;
    if (r.width < 24 || r.height < 24) bad.push(`${what} ${r.width}x${r.height}`);
  }
  return bad;
}"""

# Whether the page scrolls sideways, and which elements stick out.
OVERFLOW_JS = """() => {
  const w = document.documentElement.clientWidth;
  const out = [...document.querySelectorAll('body *')]
    .filter((e) => e.checkVisibility() && e.getBoundingClientRect().right > w + 1)
    .map((e) => `${e.tagName}.${e.className}`);
  return { scroll: document.documentElement.scrollWidth, width: w, out };
}"""
