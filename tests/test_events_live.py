"""GET /api/events/{id}/live: what moderators see of an event as it runs (docs/moderation.md,
"During an event"), on a real server: members sign up over the events' API and wait in the
lobby over websockets, as tests/test_wire_lobby.py has them do."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest
from conftest import LiveServer
from modclient import Mod
from test_wire_lobby import announce, enter, sign_up
from wsclient import DIVIDE_A, DIVIDE_B, Clients, fresh_lang

LEAD = 10.0


@pytest.fixture(scope="module")
def srv(moderated_srv: LiveServer) -> LiveServer:
    return moderated_srv


async def live(mod: Mod, slug: str) -> dict[str, Any]:
    reply = await mod.get(f"/api/events/{slug}/live")
    assert reply.status == 200, reply
    return dict(reply.body)


async def until(mod: Mod, slug: str, test: Any, wait: float = 12.0) -> dict[str, Any]:
    deadline = time.monotonic() + wait
    while True:
        got = await live(mod, slug)
        if test(got):
            return got
        assert time.monotonic() < deadline, got
        await asyncio.sleep(0.2)


def bucket(got: dict[str, Any], dim: str, name: str) -> dict[str, Any]:
    return next(b for b in got["balance"][dim] if b["bucket"] == name)


async def test_counts_balance_then_rooms_crossing_and_who_still_waits(srv: LiveServer) -> None:
    slug, starts = await announce(srv.url, LEAD)
    lang = fresh_lang()
    # 11 alike and 2 across the divides come; one more signs up and never comes.
    profiles = [DIVIDE_A] * 11 + [DIVIDE_B] * 2
    tokens = [await sign_up(srv.url, slug, lang, p) for p in [*profiles, DIVIDE_B]]
    async with Mod(srv.url) as mo, Clients(srv.ws_url) as c:
        assert (await mo.login("mo")).status == 200  # a moderator, not an admin
        before = await live(mo, slug)
        assert before["signups"] == 14 and before["present"] == 0
        assert before["state"] == "lobby" and before["event"]["slug"] == slug
        assert abs(time.time() - _epoch(before["now"])) < 5
        assert _epoch(before["starts"]) == starts
        assert before["rooms"] == 0 and before["waiting"] == []

        members = [await c.member() for _ in profiles]
        for m, token in zip(members, tokens[:13], strict=True):
            await enter(m, slug, token)
        got = await live(mo, slug)
        assert got["signups"] == 14 and got["present"] == 13
        # Eleven alike are shown as a count; two, and the empty buckets, only as few.
        for dim, value in DIVIDE_A.items():
            assert bucket(got, dim, value) == {"bucket": value, "count": 11}
        for dim, value in DIVIDE_B.items():
            assert bucket(got, dim, value) == {"bucket": value, "few": True}
        assert bucket(got, "origin", "settled") == {"bucket": "settled", "few": True}
        assert got["rooms"] == 0 and got["waiting"] == []

        # After the start: one batch, six rooms of which the two with a B cross the
        # divides; the thirteenth waits, and the tab says for how long and why.
        after = await until(mo, slug, lambda g: g["rooms"] == 6 and g["waiting"])
        assert after["state"] == "running"
        assert after["crossing2"] == 2 and after["share"] == round(2 / 6, 3)
        assert after["present"] == 1 and after["waiting_total"] == 1
        [row] = after["waiting"]
        assert set(row) == {"waited_s", "reason", "reason_words"}
        assert 0 <= row["waited_s"] < 30 and " " in row["reason_words"]
        assert row["reason"] in ("no_prompt", "no_language", "no_mode", "quiet")

        # Never who: no member id, alias, ticket or profile value in the waiting list,
        # and no member id or alias anywhere in the answer.
        text = json.dumps(after)
        said = [f for m in members for f in m.seen]
        aliases = {f.get("alias") for f in said if f["type"] == "matched"} - {None}
        tickets = {f.get("ticket") for f in said if f["type"] == "queued"} - {None}
        for secret in {*(m.member_id for m in members), *aliases, *tickets}:
            assert str(secret) not in text
        rows = json.dumps(after["waiting"])
        for value in {*DIVIDE_A.values(), *DIVIDE_B.values()}:
            # "left" and "right" are also plain English words of a reason: whole values only.
            assert f'"{value}"' not in rows
            assert value in ("left", "right") or value not in rows
        assert "origin_" not in rows and "age_band" not in rows


def _epoch(iso: str) -> float:
    from datetime import datetime
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


async def test_moderators_only_and_unknown_events(srv: LiveServer) -> None:
    slug, _ = await announce(srv.url, 3600.0)
    async with Mod(srv.url) as anon, Mod(srv.url) as ann:
        reply = await anon.get(f"/api/events/{slug}/live")
        assert reply.status == 401 and reply.body["error"] == "not_signed_in"
        assert (await ann.login("ann")).status == 200
        got = await live(ann, slug)
        assert got["state"] == "upcoming" and got["present"] == 0 and got["share"] is None
        # Every bucket is listed, even with nobody present, as few: an absence tells nothing.
        assert all(b == {"bucket": b["bucket"], "few": True}
                   for dim in got["balance"].values() for b in dim)
        reply = await ann.get("/api/events/no-such-day/live")
        assert reply.status == 404 and reply.body["error"] == "unknown_event"
        # Reading is not an action: nothing lands in the audit log.
        assert not [e for e in await ann.audit() if e["action"].startswith("event.live")]
