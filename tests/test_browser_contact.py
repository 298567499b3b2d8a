"""Two safety features on the member page, in Chromium: contact details pass
only by mutual consent (a held message, the offer, the answer), and a message
with a phrase of the deck's watch list gets a quiet "Report it?" beside it on
the recipient's side. In English, and once in German and Arabic (no English
on those pages); axe-core with the offer bar and the nudge showing.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from browser_util import (  # noqa: F401 - the *_fixture names are fixtures
    BROWSER,
    DECK_FILE,
    MATCH_TIMEOUT,
    Member,
    browser_fixture,
    in_menu,
    log,
    named,
    open_member_fixture,
    room,
    say,
    to_step,
    wait_matched,
)
from conftest import ROOT, LiveServer
from playwright.sync_api import Page, expect

pytestmark = BROWSER

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
CATALOGS = ROOT / "client_web" / "i18n"
NUMBER = "call me on 0770 090 0123"
WATCHED = "send me a photo"  # on the default deck's watch list (deck.toml, [safety.watch])
KEYS = ["contact.held", "contact.offer", "contact.ask", "contact.mine", "contact.theirs",
        "contact.yes", "contact.no", "contact.withdraw", "contact.declined", "contact.open",
        "chat.flag", "err.contact_not_allowed"]


def catalog(loc: str) -> dict[str, Any]:
    return json.loads((CATALOGS / f"{loc}.json").read_text(encoding="utf-8"))


def parts(text: str) -> list[str]:
    """The fixed words of a catalog text, around its {placeholders}."""
    return [p.strip() for p in re.split(r"\{\w+\}", text) if p.strip()]


def record(m: Member) -> tuple[list[str], list[str]]:
    """Every WebSocket frame the page receives and sends, from a reload on."""
    got: list[str] = []
    sent: list[str] = []

    def on_ws(ws: Any) -> None:
        ws.on("framereceived", lambda data: got.append(str(data)))
        ws.on("framesent", lambda data: sent.append(str(data)))

    m.page.on("websocket", on_ws)
    m.page.reload()
    return got, sent


def nudge_first(m: Member, word: str) -> list[str]:
    """From a reload on, the page gets a nudge before its message (held back on the way);
    the list returned gets each message that came late."""
    swapped: list[str] = []

    def route(ws: Any) -> None:
        server = ws.connect_to_server()
        late: list[str] = []

        def from_server(data: str | bytes) -> None:
            f = json.loads(data)
            if f.get("type") == "message" and word in f.get("text", ""):
                late.append(str(data))
                return
            ws.send(data)
            if f.get("type") == "nudge":
                for d in late:
                    ws.send(d)
                swapped.extend(late)
                late.clear()

        server.on_message(from_server)

    m.page.route_web_socket(re.compile(r"/ws$"), route)
    m.page.reload()
    return swapped


def join(page: Page, prompt: str, age: str, stance: str) -> None:
    """Join by the form's controls, in any language."""
    expect(page.locator("#s-start h1")).to_be_visible()
    to_step(page, 1)
    item = page.locator("#prompt-list li", has=page.locator(f"input[value={prompt}]"))
    item.locator("input").check()
    item.locator("select").select_option(stance)
    to_step(page, 2)
    page.locator("#d-0").select_option(age)
    page.locator("#join-btn").click()


def matched(a: Member, b: Member, prompt: str, age: str = "18-29") -> None:
    join(a.page, prompt, age, "agree")
    expect(a.page.locator("#s-queued")).to_be_visible()
    join(b.page, prompt, "60+", "disagree")
    for p in (a.page, b.page):
        expect(room(p).locator(".room-title")).to_be_focused(timeout=MATCH_TIMEOUT)


def send(page: Page, text: str) -> None:
    box = room(page).locator(".composer textarea")
    box.fill(text)
    box.press("Enter")


def axe(page: Page, where: str) -> None:
    from test_a11y import RUN_AXE, TAGS

    if not AXE.exists():
        if os.environ.get("CI"):
            raise AssertionError("axe-core is not installed (npm ci)")
        return
    if not page.evaluate("typeof window.axe === 'object'"):
        page.add_script_tag(path=str(AXE))
    violations = page.evaluate(RUN_AXE, TAGS)
    assert not violations, f"{where}:\n" + "\n".join(violations)


def test_contact_details_by_consent_and_the_nudge(open_member: Callable[..., Member]) -> None:
    a, b = open_member(), open_member(bypass_csp=True)  # axe runs in B's page
    pa, pb = a.page, b.page
    _, a_sent = record(a)
    b_got, _ = record(b)
    matched(a, b, "neighbours")
    alias_a, alias_b = wait_matched(pa, "neighbours"), wait_matched(pb, "neighbours")

    # A watched phrase: relayed, with a quiet "Report it?" under it for B only.
    say(pa, "hello there")
    say(pa, WATCHED)
    flagged = log(pb).locator(".msg", has_text=WATCHED)
    expect(flagged.locator(".flag")).to_have_text(
        "This message may break the rules. Report it? Report")
    expect(log(pb).locator(".flag")).to_have_count(1)
    expect(log(pa).locator(".msg", has_text=WATCHED)).to_have_attribute("data-state", "delivered")
    expect(log(pa).locator(".flag")).to_have_count(0)

    # Contact details: not relayed; A is told why, the text is back in the composer.
    say(pa, NUMBER)
    held = log(pa).locator(".msg[data-state=failed]", has_text=NUMBER)
    expect(held).to_contain_text(
        "Not sent: it holds contact details (a phone number, e-mail, link or handle). "
        "They are shared only if you both agree.")
    expect(room(pa).get_by_label("Your message")).to_have_value(NUMBER)
    assert "0770" not in (pa.evaluate("sessionStorage.getItem('bc.outbox')") or "")

    # A offers, from beside the held message; B says no thanks.
    held.get_by_role("button", name="Offer to exchange contact details").click()
    expect(room(pa).locator(".offer-q")).to_contain_text("You offered to exchange contact details.")
    expect(room(pa).locator(".offer-q")).to_have_text(named(alias_b, " to agree."),
                                                     use_inner_text=True)
    expect(held.get_by_role("button", name="Offer to exchange contact details")).to_be_hidden()
    expect(room(pa).get_by_label("Your message")).to_be_focused()
    offer = room(pb).locator(".offer")
    expect(offer.locator(".offer-q")).to_have_text(named(
        alias_a, " offers to exchange contact details. Only agree if you want to: "
        "you can always report or leave."))
    # The offer left A after the held message: B never got the number, on the page or the wire.
    expect(log(pb).get_by_text("0770")).to_have_count(0)
    assert not [f for f in b_got if "0770" in f]
    expect(offer.get_by_role("button", name="Accept")).to_be_visible()
    offer.get_by_role("button", name="No thanks").click()
    expect(log(pa).get_by_text(named(alias_b, " would rather not exchange contact details."))
           ).to_be_visible()
    expect(room(pa).locator(".offer")).to_be_hidden()
    expect(offer).to_be_hidden()
    expect(held.get_by_role("button", name="Offer to exchange contact details")).to_be_visible()

    # Asked again from the menu: the offer bar and the nudge both showing, for axe.
    in_menu(pa, "Exchange contact details").click()
    expect(offer.locator(".offer-q")).to_contain_text("offers to exchange contact details")
    expect(in_menu(pa, "Exchange contact details")).to_be_hidden()
    pa.keyboard.press("Escape")
    axe(pb, "offer bar and nudge")

    # B's "Report" under the flagged message: the report form, that message checked.
    flagged.get_by_role("button", name="Report").click()
    panel = room(pb).get_by_role("region", name="Report this conversation")
    expect(panel.get_by_role("heading")).to_be_focused()
    expect(panel.get_by_role("checkbox")).to_have_count(2)
    expect(panel.get_by_role("checkbox", name=re.compile(WATCHED))).to_be_checked()
    expect(panel.locator("input:checked")).to_have_count(1)
    panel.get_by_role("button", name="Cancel").click()
    expect(flagged.get_by_role("button", name="Report")).to_be_focused()

    # B accepts: both are told, in the log; the number now passes.
    offer.get_by_role("button", name="Accept").click()
    for p in (pa, pb):
        expect(log(p).get_by_text(
            "You both agreed: contact details can now be shared in this conversation.")
        ).to_be_visible()
        expect(room(p).locator(".offer")).to_be_hidden()
    expect(held.get_by_role("button", name="Offer to exchange contact details")).to_be_hidden()
    expect(room(pa).get_by_label("Your message")).to_have_value(NUMBER)
    assert [f for f in a_sent if "0770" in f and json.loads(f)["type"] != "send"] == []
    assert len([f for f in a_sent if "0770" in f]) == 1
    room(pa).get_by_label("Your message").press("Enter")
    expect(log(pb).locator(".msg .text", has_text=NUMBER)).to_be_visible()
    expect(log(pa).locator(".msg.mine[data-state=delivered]", has_text=NUMBER)).to_have_count(1)


def test_in_german_and_arabic(open_member: Callable[..., Member]) -> None:
    """A reads German, B Arabic (right to left): every new string in the page's language.
    B's nudge comes before its message: it waits for it."""
    a, b = open_member(locale="de"), open_member(locale="ar")
    pa, pb = a.page, b.page
    swapped = nudge_first(b, "Foto")
    de, ar, en = catalog("de"), catalog("ar"), catalog("en")
    expect(pb.locator("html")).to_have_attribute("dir", "rtl")
    matched(a, b, "work")

    send(pa, "schick mir ein Foto")
    flagged = log(pb).locator(".msg", has_text="Foto")
    expect(flagged.locator(".flag")).to_contain_text(ar["chat.flag"])
    assert len(swapped) == 1
    expect(log(pb).locator(".flag").get_by_role("button")).to_have_text(ar["chat.report"])
    send(pa, NUMBER)
    held = log(pa).locator(".msg.mine", has_text=NUMBER)
    expect(held).to_contain_text(de["contact.held"])
    held.get_by_role("button", name=de["contact.offer"]).click()
    for part in parts(de["contact.mine"]):
        expect(room(pa).locator(".offer-q")).to_contain_text(part)
    for part in parts(ar["contact.theirs"]):
        expect(room(pb).locator(".offer-q")).to_contain_text(part)
    expect(room(pb).locator(".offer-no")).to_have_text(ar["contact.no"])
    texts = {"de": pa.locator("body").inner_text(), "ar": pb.locator("body").inner_text()}
    room(pb).get_by_role("button", name=ar["contact.yes"]).click()
    expect(log(pa).get_by_text(de["contact.open"])).to_be_visible()
    expect(log(pb).get_by_text(ar["contact.open"])).to_be_visible()
    texts = {k: v + "\n" + (pa if k == "de" else pb).locator("body").inner_text()
             for k, v in texts.items()}
    english = [s for k in KEYS for s in parts(str(en[k])) if len(s) > 5]
    for loc, text in texts.items():
        leaked = [s for s in english if s in text]
        assert not leaked, (loc, leaked)


def test_no_exchange_with_someone_under_18(make_server: Callable[..., LiveServer],
                                          open_member: Callable[..., Member],
                                          tmp_path: Path) -> None:
    """In a room with a member under 18 contact details are never exchanged: said plainly,
    and the offer is gone (the menu's, and the one beside the held message)."""
    ages = 'buckets = ["18-29", "30-44", "45-59", "60+"]'
    deck = DECK_FILE.read_text(encoding="utf-8")
    assert ages in deck
    path = tmp_path / "deck.toml"
    path.write_text(deck.replace(ages, ages.replace("[", '["16-17", ') + '\nminors = ["16-17"]'),
                    encoding="utf-8")
    srv = make_server("--deck", str(path))
    a, b = open_member(url=srv.url), open_member(url=srv.url)
    pa, pb = a.page, b.page
    matched(a, b, "home", age="16-17")
    say(pa, NUMBER)
    held = log(pa).locator(".msg[data-state=failed]", has_text=NUMBER)
    held.get_by_role("button", name="Offer to exchange contact details").click()
    no = "Contact details cannot be exchanged in this conversation."
    expect(log(pa).get_by_text(no)).to_be_visible()
    expect(held.get_by_role("button", name="Offer to exchange contact details")).to_be_hidden()
    expect(room(pa).locator(".offer")).to_be_hidden()
    expect(in_menu(pa, "Exchange contact details")).to_be_hidden()
    pa.keyboard.press("Escape")
    in_menu(pb, "Exchange contact details").click()
    expect(log(pb).get_by_text(no)).to_be_visible()
    expect(in_menu(pb, "Exchange contact details")).to_be_hidden()
    pb.keyboard.press("Escape")
    expect(room(pa).locator(".offer")).to_be_hidden()
    expect(log(pb).get_by_text("0770")).to_have_count(0)
