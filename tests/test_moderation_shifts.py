"""Shifts: who is on duty, and the note one shift leaves for the next (a real server)."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from bridgechat.store import Store, sqlite_url
from bridgechat.store.moderation import AuditEntry
from bridgechat.store.shifts import ShiftNote
from conftest import LiveServer
from modclient import Mod, moderated_server


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    server = moderated_server(tmp_path_factory)
    yield server
    server.stop()


def on_duty(shift: dict[str, Any]) -> list[str]:
    return [d["moderator"] for d in shift["on_duty"]]


async def test_on_duty_are_the_moderators_signed_in(srv: LiveServer) -> None:
    async with Mod(srv.url) as mo, Mod(srv.url) as ann:
        assert (await mo.get("/api/shift")).status == 401
        began = time.time()
        await mo.login("mo")
        shift = (await mo.get("/api/shift")).body
        assert on_duty(shift) == ["mo"]
        since = datetime.fromisoformat(shift["on_duty"][0]["since"]).timestamp()
        assert began - 1 <= since <= time.time() + 1
        await ann.login("ann")
        assert on_duty((await mo.get("/api/shift")).body) == ["mo", "ann"]  # longest first
        # A second sign-in of mo's (another browser) is still one moderator on duty.
        async with Mod(srv.url) as mo_again:
            await mo_again.login("mo")
            assert on_duty((await ann.get("/api/shift")).body) == ["mo", "ann"]
            assert (await mo_again.post("/api/moderator/logout")).status == 204
        assert (await mo.post("/api/moderator/logout")).status == 204
        assert on_duty((await ann.get("/api/shift")).body) == ["ann"]
        assert (await ann.post("/api/moderator/logout")).status == 204


async def test_the_feed_tells_who_comes_on_and_goes_off_duty(srv: LiveServer) -> None:
    async with Mod(srv.url) as mo, Mod(srv.url) as ann:
        await ann.login("ann")
        feed = await ann.feed()
        assert "mo" not in on_duty((await feed.recv())["shift"])
        await mo.login("mo")
        # Within the feed's refresh (5 s): sign-ins on any node show.
        await feed.until(lambda f: f["type"] == "shift" and "mo" in on_duty(f), wait=8)
        assert (await mo.post("/api/moderator/logout")).status == 204
        await feed.until(lambda f: f["type"] == "shift" and on_duty(f) == ["ann"])


async def test_a_note_is_kept_for_the_next_shift_and_audited_once(srv: LiveServer) -> None:
    async with Mod(srv.url) as mo, Mod(srv.url) as ann:
        await mo.login("mo")
        await ann.login("ann")
        feed = await ann.feed()
        snap = await feed.recv()
        assert set(snap["shift"]) == {"on_duty", "note"}
        assert "ann" in on_duty(snap["shift"])
        text = "Quiet evening. Prompt 'home' had a spam wave at 19:00; paused it, resumed at 20:00."
        reply = await mo.post("/api/shift/note", {"text": f"  {text}\n"})
        assert reply.status == 201, reply
        assert reply.body["note"]["text"] == text and reply.body["note"]["by"] == "mo"
        at = datetime.fromisoformat(reply.body["note"]["at"]).timestamp()
        assert abs(at - time.time()) < 5
        # The other moderator's dashboard is told at once.
        frame = await feed.until(lambda f: f["type"] == "shift" and f["note"] is not None
                                 and f["note"]["text"] == text)
        assert frame["note"]["by"] == "mo" and {"mo", "ann"} <= set(on_duty(frame))
        # The next shift reads it, from any session.
        assert (await ann.get("/api/shift")).body["note"] == reply.body["note"]
        entries = [e for e in await ann.audit() if e["action"] == "shift.note"]
        assert len(entries) == 1
        [entry] = entries
        assert entry["moderator"] == "mo" and entry["target"].startswith("shift_note:")
        # The audit log is kept for good; the note's text is not in it.
        assert entry["note"] is None
        # A newer note replaces it.
        assert (await ann.post("/api/shift/note", {"text": "All calm."})).status == 201
        assert (await mo.get("/api/shift")).body["note"]["text"] == "All calm."
        assert len([e for e in await ann.audit() if e["action"] == "shift.note"]) == 2


async def test_a_note_must_be_text_from_this_dashboard(srv: LiveServer) -> None:
    async with Mod(srv.url) as mo, Mod(srv.url) as ann:
        await mo.login("mo")
        await ann.login("ann")
        before = (await mo.get("/api/shift")).body["note"]
        audited = len(await ann.audit())
        refusals: list[tuple[dict[str, Any], dict[str, Any], int, str]] = [
            ({"text": "forged"}, {"csrf": False}, 403, "csrf"),
            ({"text": "forged"}, {"csrf": False, "headers": {"X-CSRF-Token": "x" * 43}}, 403,
             "csrf"),
            ({"text": "elsewhere"}, {"headers": {"Origin": "https://evil.example"}}, 403,
             "bad_origin"),
            ({}, {}, 400, "bad_note"),
            ({"text": "   "}, {}, 400, "bad_note"),
            ({"text": 7}, {}, 400, "bad_note"),
            ({"text": "x" * 2001}, {}, 400, "bad_note"),
            ({"text": "half a character \ud800"}, {}, 400, "bad_text"),
        ]
        for body, kw, status, code in refusals:
            reply = await mo.post("/api/shift/note", body, **kw)
            assert (reply.status, reply.body["error"]) == (status, code), (body, kw, reply)
        assert (await mo.get("/api/shift")).body["note"] == before
        assert len(await ann.audit()) == audited
        signed_out = Mod(srv.url)
        async with signed_out:
            reply = await signed_out.post("/api/shift/note", {"text": "who am I"}, csrf=False)
            assert reply.status == 403
        # A note whose audit entry cannot be written is not kept either.
        db = sqlite3.connect(srv.data_dir / "bridgechat.db")
        with db:
            db.execute("CREATE TRIGGER test_audit_refused BEFORE INSERT ON audit "
                       "BEGIN SELECT RAISE(ABORT, 'the test refuses audit entries'); END")
        try:
            assert (await mo.post("/api/shift/note", {"text": "unaudited"})).status == 500
        finally:
            with db:
                db.execute("DROP TRIGGER test_audit_refused")
            db.close()
        assert (await mo.get("/api/shift")).body["note"] == before
        assert (await mo.post("/api/shift/note", {"text": "x" * 2000})).status == 201


def test_old_notes_go_after_the_retention_and_lapsed_sessions_are_off_duty(
        tmp_path: Path) -> None:
    """The store's side, with chosen times: the hourly purge and who counts as on duty."""
    store = Store(sqlite_url(tmp_path))
    try:
        now = 2_000_000_000.0
        for i, at in enumerate((now - 40 * 86400, now - 3600)):
            store.add_shift_note(ShiftNote(id=f"n{i}", text=f"note {i}", moderator="mo", at=at),
                                 AuditEntry(at=at, moderator="mo", action="shift.note",
                                            target=f"shift_note:n{i}"))
        assert store.purge_shift_notes(now - 30 * 86400) == 1
        kept = store.shift_note()
        assert kept is not None and kept.id == "n1"
        idle = 1800.0
        store.create_session("live", "mo", now - 600, now + 3600)
        store.create_session("expired", "ann", now - 7200, now - 1)
        store.create_session("idle", "bo", now - 7200, now + 3600)  # seen when made: idle since
        assert store.on_duty(now, idle) == [("mo", now - 600)]
    finally:
        store.close()
