"""axe-core (from npm, see package.json) on the member page in every state a
member meets: WCAG 2.0, 2.1 and 2.2 at levels A and AA must report no
violation, in English and in Arabic (right to left), each in light and dark mode.

axe is injected with `page.add_script_tag`, an inline script, so these pages
bypass the Content-Security-Policy; every other browser test runs under it.
"""

from __future__ import annotations

import os
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
from playwright.sync_api import Page, expect

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
