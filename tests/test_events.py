"""Events over HTTP on a real server: admins announce, members sign up ahead.

The moderators' API (create, edit, cancel: admin only, CSRF and Origin, each
once in the audit log, plain-words refusals), the members' API (sign up,
change, withdraw until the deadline, invite codes, the per-address limit),
the calendar file (parsed with the `icalendar` package) and the retention of
sign-ups (deleted once their event has ended plus the grace period).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import icalendar
import pytest
from bridgechat.store import Store, sqlite_url
from bridgechat.store.events import Event, Signup
from conftest import LiveServer
from modclient import Mod, add_moderator, moderated_server

BERLIN = ZoneInfo("Europe/Berlin")
EVIL = "https://evil.example"


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    server = moderated_server(tmp_path_factory)
    yield server
    server.stop()


def local(delta: timedelta) -> str:
    """Wall-clock time in Berlin, `delta` from now, as an admin writes it."""
    return (datetime.now(BERLIN) + delta).replace(tzinfo=None).isoformat(timespec="seconds")


def spec(**over: Any) -> dict[str, Any]:
    body = {"slug": f"day-{uuid.uuid4().hex[:8]}", "title": {"en": "Town talk",
                                                             "de": "Stadtgespräch"},
            "description": {"en": "One evening, many conversations."},
            "starts": local(timedelta(days=7)), "tz": "Europe/Berlin",
            "signup_deadline": local(timedelta(days=6)), "length_min": 30,
            "prompts": ["neighbours", "home", "work"], "mode": "bridge", "group": 2}
    body.update(over)
    return body


ANSWERS = {"prompts": ["neighbours", "home"], "languages": ["en", "de"], "learning": [],
           "profile": {"age_band": "30-44", "area": "rural"},
           "stances": {"home": "agree"}, "lang": "de"}


class Member:
    """A member's browser without cookies: just the token it was given."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.token: str | None = None

    async def call(self, method: str, path: str, body: Any = None,
                   headers: dict[str, str] | None = None) -> tuple[int, Any]:
        sent = {"Origin": self.base, **(headers or {})}
        if self.token:
            sent.setdefault("Authorization", f"Bearer {self.token}")
        async with aiohttp.ClientSession() as http, http.request(
                method, self.base + path, json=body, headers=sent) as resp:
            raw = await resp.read()
            if resp.content_type == "application/json":
                return resp.status, await resp.json()
            return resp.status, raw

    async def sign_up(self, slug: str, answers: dict[str, Any] | None = None,
                      **extra: Any) -> tuple[int, Any]:
        status, body = await self.call("POST", f"/api/e/{slug}/signup",
                                       {**(answers or ANSWERS), **extra})
        if status == 201:
            self.token = body["token"]
        return status, body


async def created(ann: Mod, **over: Any) -> dict[str, Any]:
    reply = await ann.post("/api/events", spec(**over))
    assert reply.status == 201, reply
    return dict(reply.body)


async def test_admin_creates_edits_cancels_each_audited_once(srv: LiveServer) -> None:
    async with Mod(srv.url) as ann:
        await ann.login("ann")
        event = await created(ann, note="for the library")
        slug = event["slug"]
        assert event["title"]["de"] == "Stadtgespräch" and event["tz"] == "Europe/Berlin"
        assert event["starts"].endswith("+01:00") and event["signups"] == 0
        listed = (await ann.get("/api/events")).body["events"]
        assert slug in [e["slug"] for e in listed]

        reply = await ann.request("PATCH", f"/api/events/{event['id']}",
                                  {"length_min": 45, "title": {"en": "Town talk, longer"}})
        assert reply.status == 200 and reply.body["length_min"] == 45
        assert reply.body["title"] == {"en": "Town talk, longer"}
        reply = await ann.post(f"/api/events/{slug}/cancel", {"note": "the hall is closed"})
        assert reply.status == 200 and reply.body["cancelled"] is True
        again = await ann.post(f"/api/events/{slug}/cancel")
        assert (again.status, again.body["error"]) == (409, "event_cancelled")

        mine = [(e["action"], e["note"]) for e in await ann.audit()
                if e["target"] == f"event:{slug}"]
        assert sorted(mine) == [("event.cancel", "the hall is closed"),
                                ("event.create", "for the library"), ("event.edit", None)]
        status, public = await Member(srv.url).call("GET", f"/api/e/{slug}")
        assert status == 200 and public["cancelled"] is True


async def test_changes_need_csrf_same_origin_and_an_admin(srv: LiveServer) -> None:
    async with Mod(srv.url) as ann, Mod(srv.url) as mo:
        await ann.login("ann")
        await mo.login("mo")
        event = await created(ann)
        audited = len(await ann.audit())
        path = f"/api/events/{event['id']}"
        tries = [
            (ann, "POST", "/api/events", spec(), {"csrf": False}, 403, "csrf"),
            (ann, "POST", "/api/events", spec(), {"headers": {"Origin": EVIL}}, 403,
             "bad_origin"),
            (ann, "PATCH", path, {"length_min": 50}, {"csrf": False}, 403, "csrf"),
            (ann, "PATCH", path, {"length_min": 50}, {"headers": {"Origin": EVIL}}, 403,
             "bad_origin"),
            (ann, "POST", path + "/cancel", {}, {"csrf": False}, 403, "csrf"),
            (ann, "POST", path + "/cancel", {}, {"headers": {"Origin": EVIL}}, 403,
             "bad_origin"),
            (mo, "POST", "/api/events", spec(), {}, 403, "admin_only"),
            (mo, "PATCH", path, {"length_min": 50}, {}, 403, "admin_only"),
            (mo, "POST", path + "/cancel", {}, {}, 403, "admin_only"),
        ]
        for who, method, where, body, kw, status, code in tries:
            reply = await who.request(method, where, body, **kw)
            assert (reply.status, reply.body["error"]) == (status, code), (method, where, kw)
        assert len(await ann.audit()) == audited
        assert (await mo.get("/api/events")).status == 200  # moderators may look
        listed = {e["id"]: e for e in (await ann.get("/api/events")).body["events"]}
        assert listed[event["id"]]["length_min"] == 30 and not listed[event["id"]]["cancelled"]


@pytest.mark.parametrize("over,code", [
    ({"prompts": ["neighbours", "no-such-prompt"]}, "unknown_prompt"),
    ({"prompts": []}, "missing_prompts"),
    ({"tz": "Europe/Atlantis"}, "bad_timezone"),
    ({"starts": "next Tuesday"}, "bad_time"),
    ({"starts": "2001-01-01T18:00", "signup_deadline": None}, "in_the_past"),
    ({"signup_deadline": local(timedelta(days=8))}, "times_out_of_order"),
    ({"length_min": 2}, "bad_length"),
    ({"group": 5}, "bad_group"),
    ({"mode": "debate"}, "bad_mode"),
    ({"title": {"xx": "Unknown language"}}, "bad_title"),
    ({"title": {}}, "missing_title"),
    ({"slug": "Not A Slug"}, "bad_slug"),
    ({"invite_code": "ab"}, "bad_invite_code"),
    ({"colour": "blue"}, "unknown_field"),
])
async def test_bad_events_are_refused_in_plain_words(srv: LiveServer, over: dict[str, Any],
                                                     code: str) -> None:
    async with Mod(srv.url) as ann:
        await ann.login("ann")
        reply = await ann.post("/api/events", spec(**over))
        assert (reply.status, reply.body["error"]) == (400, code), reply
        assert reply.body["message"] and code not in reply.body["message"]


async def test_a_taken_slug_and_an_edit_out_of_order_are_refused(srv: LiveServer) -> None:
    async with Mod(srv.url) as ann:
        await ann.login("ann")
        event = await created(ann)
        reply = await ann.post("/api/events", spec(slug=event["slug"]))
        assert (reply.status, reply.body["error"]) == (409, "slug_taken")
        reply = await ann.request("PATCH", f"/api/events/{event['id']}",
                                  {"starts": local(timedelta(days=5))})  # before the deadline
        assert (reply.status, reply.body["error"]) == (400, "times_out_of_order")
        reply = await ann.request("PATCH", "/api/events/nothing-here", {"length_min": 40})
        assert (reply.status, reply.body["error"]) == (404, "unknown_event")


async def test_sign_up_change_and_withdraw(srv: LiveServer) -> None:
    async with Mod(srv.url) as ann:
        await ann.login("ann")
        slug = (await created(ann))["slug"]
    member = Member(srv.url)
    status, info = await member.call("GET", f"/api/e/{slug}")
    assert status == 200 and info["invite_required"] is False
    assert [p["id"] for p in info["prompts"]] == ["neighbours", "home", "work"]
    assert info["prompts"][0]["texts"]["de"].startswith("Was würde")
    assert {q["id"] for q in info["questions"]} >= {"age_band", "origin", "area"}
    assert "ar" in info["languages"] and "token" not in str(info)

    status, body = await member.sign_up(slug)
    assert status == 201 and len(member.token or "") >= 40
    assert body["signup"]["profile"] == {"age_band": "30-44", "area": "rural"}
    status, body = await member.call("GET", f"/api/e/{slug}/signup")
    assert status == 200 and body["signup"]["stances"] == {"home": "agree"}

    changed = {**ANSWERS, "prompts": ["work"], "stances": {"work": "unsure"}}
    status, body = await member.call("PUT", f"/api/e/{slug}/signup", changed)
    assert status == 200 and body["signup"]["prompts"] == ["work"]
    status, body = await member.call("GET", f"/api/e/{slug}/signup")
    assert body["signup"]["stances"] == {"work": "unsure"}

    stranger = Member(srv.url)
    stranger.token = "x" * 43
    assert (await stranger.call("DELETE", f"/api/e/{slug}/signup"))[0] == 401
    status, body = await member.call("DELETE", f"/api/e/{slug}/signup",
                                     headers={"Origin": EVIL})
    assert (status, body["error"]) == (403, "origin_not_allowed")
    status, body = await member.call("DELETE", f"/api/e/{slug}/signup")
    assert status == 200 and body["withdrawn"] is True
    status, body = await member.call("GET", f"/api/e/{slug}/signup")
    assert (status, body["error"]) == (401, "unknown_token")


@pytest.mark.parametrize("answers,code", [
    ({**ANSWERS, "prompts": ["young-old"]}, "bad_prompts"),  # in the deck, not the event
    ({**ANSWERS, "prompts": []}, "bad_prompts"),
    ({**ANSWERS, "languages": []}, "bad_language"),
    ({**ANSWERS, "languages": ["english"]}, "bad_language"),
    ({**ANSWERS, "profile": {"age_band": "7-8"}}, "bad_profile"),
    ({**ANSWERS, "profile": {"shoe_size": "42"}}, "bad_profile"),
    ({**ANSWERS, "stances": {"work": "agree"}}, "bad_stance"),
])
async def test_bad_answers_are_refused(srv: LiveServer, answers: dict[str, Any],
                                       code: str) -> None:
    async with Mod(srv.url) as ann:
        await ann.login("ann")
        slug = (await created(ann))["slug"]
    status, body = await Member(srv.url).sign_up(slug, answers)
    assert (status, body["error"]) == (400, code)


async def test_invite_code_and_foreign_origin(srv: LiveServer) -> None:
    async with Mod(srv.url) as ann:
        await ann.login("ann")
        slug = (await created(ann, invite_code="library-2026"))["slug"]
    member = Member(srv.url)
    assert (await member.call("GET", f"/api/e/{slug}"))[1]["invite_required"] is True
    status, body = await member.sign_up(slug)
    assert (status, body["error"]) == (403, "invite_required")
    status, body = await member.sign_up(slug, invite="wrong-code")
    assert (status, body["error"]) == (403, "invite_required")
    status, body = await member.call("POST", f"/api/e/{slug}/signup",
                                     {**ANSWERS, "invite": "library-2026"},
                                     headers={"Origin": EVIL})
    assert (status, body["error"]) == (403, "origin_not_allowed")
    status, _ = await member.sign_up(slug, invite="library-2026")
    assert status == 201


async def test_after_the_deadline_nothing_changes(srv: LiveServer) -> None:
    async with Mod(srv.url) as ann:
        await ann.login("ann")
        slug = (await created(ann, signup_deadline=local(timedelta(seconds=3))))["slug"]
    early, late = Member(srv.url), Member(srv.url)
    assert (await early.sign_up(slug))[0] == 201
    await asyncio.sleep(3.2)
    for status_body in (await late.sign_up(slug),
                        await early.call("PUT", f"/api/e/{slug}/signup", ANSWERS),
                        await early.call("DELETE", f"/api/e/{slug}/signup")):
        assert (status_body[0], status_body[1]["error"]) == (409, "signup_closed")
    assert (await early.call("GET", f"/api/e/{slug}/signup"))[0] == 200


async def test_calendar_file_is_valid_icalendar(srv: LiveServer) -> None:
    async with Mod(srv.url) as ann:
        await ann.login("ann")
        event = await created(ann, title={"en": "Town talk " * 12, "de": "Stadtgespräch"})
    status, raw = await Member(srv.url).call("GET", f"/api/e/{event['slug']}/calendar.ics")
    assert status == 200 and isinstance(raw, bytes)
    assert raw.startswith(b"BEGIN:VCALENDAR\r\n") and b"\n" not in raw.replace(b"\r\n", b"")
    assert all(len(line) <= 75 for line in raw.split(b"\r\n"))  # long lines are folded
    cal = icalendar.Calendar.from_ical(raw)
    (vevent,) = cal.walk("VEVENT")
    for name in ("UID", "DTSTAMP", "DTSTART", "DURATION", "SUMMARY", "URL"):
        assert name in vevent, name
    start = vevent.decoded("DTSTART")
    assert start == datetime.fromisoformat(event["starts"]).astimezone(UTC)
    assert vevent.decoded("DURATION") == timedelta(minutes=30)
    assert str(vevent["SUMMARY"]).startswith("Town talk Town talk")
    assert str(vevent["URL"]).endswith(f"/e/{event['slug']}")
    status, raw = await Member(srv.url).call(
        "GET", f"/api/e/{event['slug']}/calendar.ics?lang=de")
    assert str(icalendar.Calendar.from_ical(raw).walk("VEVENT")[0]["SUMMARY"]) == \
        "Stadtgespräch"


async def test_sign_ups_are_limited_per_address(make_server: Any) -> None:
    srv = make_server("--new-members-per-hour", "2")
    add_moderator(srv.data_dir, "ann", "admin")
    async with Mod(srv.url) as ann:
        await ann.login("ann")
        slug = (await created(ann))["slug"]
    codes = [(await Member(srv.url).sign_up(slug))[0] for _ in range(3)]
    assert codes == [201, 201, 429]


def test_retention_deletes_sign_ups_once_the_event_ended_plus_grace(make_server: Any,
                                                                   tmp_path: Any) -> None:
    """A short event in the past and one to come, written as a node would; the retention
    job (which also runs when a node starts) deletes the first one's sign-ups only."""
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    store = Store(sqlite_url(data))
    now = time.time()
    try:
        for slug, starts in (("gone-by", now - 3600), ("to-come", now + 3600),
                             ("just-ended", now - 5 * 60 - 10)):
            store.add_event(Event(id=slug, slug=slug, titles={"en": slug}, starts=starts,
                                  tz="UTC", signup_deadline=starts, length_min=5,
                                  prompts=["home"], created=now), None)
            for i in range(3):
                store.add_signup(Signup(id=f"{slug}{i}", event_id=slug,
                                        token_hash=f"{slug}-{i}", key_id="k", sealed=b"x",
                                        created=now, changed=now))
    finally:
        store.close()
    srv = make_server("--grace-period", "60", data_dir=data)
    deadline = time.monotonic() + 10
    store = Store(sqlite_url(srv.data_dir))
    try:
        while store.signup_count("gone-by") and time.monotonic() < deadline:
            time.sleep(0.1)
        counts = {s: store.signup_count(s) for s in ("gone-by", "to-come", "just-ended")}
        # "just-ended" ended 10 s ago, within the 60 s grace period: kept for now.
        assert counts == {"gone-by": 0, "to-come": 3, "just-ended": 3}
        assert store.event_by_slug("gone-by") is not None  # the event itself names nobody
        assert store.purge_signups(now - 5) == 3  # the same rule, 5 s of grace
    finally:
        store.close()
