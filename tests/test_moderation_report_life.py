"""A report over its whole life: filters, the room, the author's other reports, suspensions
listed with their end and report, lifted early with a note (the member may join at once)."""

from __future__ import annotations

import math
import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from bridgechat.broker.memory import MemoryBroker
from bridgechat.deck_file import load_deck
from bridgechat.moderation.reports import Desk, Sealer
from bridgechat.node import Node
from bridgechat.node.parts import ReportDraft
from bridgechat.privacy.addresses import DAY
from bridgechat.settings import Settings
from bridgechat.store import Store, hash_token, sqlite_url
from conftest import LiveServer
from modclient import Mod, add_moderator, moderated_server
from test_moderation_reports import report, said
from wsclient import DIVIDE_A, DIVIDE_B, Clients, Member, Pair, fresh_lang, marker


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    server = moderated_server(tmp_path_factory)
    yield server
    server.stop()


def when(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


async def meet_again(clients: Clients, b: Member, prompt: str) -> Pair:
    """b, who has left their room, is matched with a newcomer c: the pair (c, b)."""
    c = await clients.member()
    lang = fresh_lang()
    await b.join([prompt], [lang], DIVIDE_B)
    await c.join([prompt], [lang], DIVIDE_A)
    c_matched = await c.expect("matched")
    b_matched = await b.find("matched", room=c_matched["room"])
    await b.find("stage", room=c_matched["room"])
    return Pair(c, b, c_matched["room"], prompt, lang, c_matched, b_matched)


async def reported_twice(clients: Clients) -> tuple[Pair, Pair, str, str]:
    """Member b is reported in one room, leaves, and is reported again in another."""
    first = await clients.pair()
    r1 = (await report(first, await said(first, f"rude {marker()}")))["report"]
    await first.b.send({"type": "leave", "room": first.room})
    await first.a.find("closed", room=first.room)
    await first.b.find("closed", room=first.room)
    second = await meet_again(clients, first.b, first.prompt)
    r2 = (await report(second, await said(second, f"ruder {marker()}"), reason="threat"))[
        "report"]
    return first, second, r1, r2


async def suspend(mod: Mod, rid: str, days: float | None = None) -> None:
    body: dict[str, Any] = {"action": "suspend", "note": "enough"}
    if days is not None:
        body["days"] = days
    reply = await mod.post(f"/api/reports/{rid}/resolve", body)
    assert reply.status == 200, reply


async def refused_hello(clients: Clients, token: str) -> None:
    again = await clients.connect()
    await again.send({"type": "hello", "v": 1, "token": token})
    await again.expect_error("suspended")


async def test_filters_return_only_the_reports_asked_for(srv: LiveServer) -> None:
    async with Mod(srv.url) as mod, Clients(srv.ws_url) as clients:
        await mod.login("mo")
        spam_pair, hate_pair = await clients.pair(), await clients.pair()
        spam = (await report(spam_pair, await said(spam_pair, "buy now"), "spam"))["report"]
        hate = (await report(hate_pair, await said(hate_pair, "go home"), "hate"))["report"]
        await mod.post(f"/api/reports/{hate}/resolve", {"action": "dismiss", "note": "ok"})

        async def ids(query: str) -> list[str]:
            reply = await mod.get("/api/reports" + query)
            assert reply.status == 200, reply
            return [r["id"] for r in reply.body["reports"]]

        everything = (await mod.get("/api/reports")).body["reports"]
        row = next(r for r in everything if r["id"] == spam)
        assert row["prompt"] == spam_pair.prompt and row["status"] == "open"
        assert row["author"].startswith("m-") and row["suspension"] is None
        for query, wanted, unwanted in (
                ("?reason=spam", spam, hate), ("?reason=hate", hate, spam),
                ("?status=open", spam, hate), ("?status=resolved", hate, spam),
                ("?status=open&reason=spam", spam, hate),
                (f"?prompt={spam_pair.prompt}&reason=spam", spam, hate)):
            got = await ids(query)
            assert wanted in got and unwanted not in got, query
        rows = (await mod.get("/api/reports?reason=hate&status=resolved")).body["reports"]
        assert rows and all(r["reason"] == "hate" and r["status"] == "resolved" for r in rows)
        assert hate not in await ids(f"?prompt={hate_pair.prompt}&status=open")
        if hate_pair.prompt != spam_pair.prompt:
            assert spam not in await ids(f"?prompt={hate_pair.prompt}")
        for query, code in (("?reason=rude", "bad_reason"), ("?status=all", "bad_status"),
                            ("?prompt=Not%20One", "bad_prompt_id")):
            reply = await mod.get("/api/reports" + query)
            assert reply.status == 400 and reply.body["error"] == code, query


async def test_detail_shows_the_room_and_the_same_authors_other_reports(
        srv: LiveServer) -> None:
    async with Mod(srv.url) as mod, Clients(srv.ws_url) as clients:
        await mod.login("mo")
        began = time.time()
        first, second, r1, r2 = await reported_twice(clients)
        other = await clients.pair()
        r3 = (await report(other, await said(other, "meh")))["report"]

        d2 = (await mod.get(f"/api/reports/{r2}")).body
        d1 = (await mod.get(f"/api/reports/{r1}")).body
        d3 = (await mod.get(f"/api/reports/{r3}")).body
        # One pseudonym for b in both rooms, another for the other author; none names anyone.
        assert d1["author"] == d2["author"] != d3["author"]
        for secret in (first.b.member_id, first.b.token, first.a.member_id, first.b_alias):
            assert secret not in d1["author"] and secret not in str(d1["earlier"])
        assert [e["id"] for e in d2["earlier"]] == [r1]
        assert d2["earlier"][0] == {"id": r1, "reason": "harassment", "created": d1["created"],
                                    "status": "open", "action": None, "verified": 1}
        assert [e["id"] for e in d1["earlier"]] == [r2]
        assert d3["earlier"] == []

        # The first room has closed: its start and its length are known.
        room1 = d1["room"]
        assert room1["prompt"] == first.prompt
        assert began - 1 <= when(room1["started"]) <= when(d1["created"])
        assert room1["length_s"] is not None and 0 <= room1["length_s"] < time.time() - began + 1
        # The second is still open: it has a start and no length yet.
        assert d2["room"]["prompt"] == second.prompt and d2["room"]["length_s"] is None
        assert when(d2["room"]["started"]) >= when(room1["started"])


async def test_a_suspension_is_listed_linked_and_lifted_once(srv: LiveServer) -> None:
    async with Mod(srv.url) as mod, Clients(srv.ws_url) as clients:
        await mod.login("mo")
        pair = await clients.pair()
        token = pair.b.token
        rid = (await report(pair, await said(pair, "threat")))["report"]
        before = time.time()
        await suspend(mod, rid, days=7)
        await pair.b.expect_close()

        [row] = [r for r in (await mod.get("/api/reports")).body["reports"] if r["id"] == rid]
        sid = row["suspension"]
        assert sid is not None and row["action"] == "suspend"
        listed = (await mod.get("/api/suspensions")).body["suspensions"]
        [entry] = [s for s in listed if s["id"] == sid]
        assert entry["report"] == rid and entry["by"] == "mo" and entry["author"] == row["author"]
        assert abs(when(entry["until"]) - (before + 7 * 86400)) < 30
        assert before - 1 <= when(entry["since"]) <= time.time() + 1
        await refused_hello(clients, token)

        # Refused: no note, no CSRF token, a foreign page. Nothing is lifted by them.
        path = f"/api/suspensions/{sid}/lift"
        for kw, status, code in (({}, 400, "note_required"),
                                 ({"csrf": False}, 403, "csrf"),
                                 ({"headers": {"Origin": "https://evil.example"}}, 403,
                                  "bad_origin")):
            body = {} if not kw else {"note": "appeal"}
            reply = await mod.post(path, body, **kw)
            assert reply.status == status and reply.body["error"] == code, (kw, reply)
        await refused_hello(clients, token)

        assert (await mod.post(path, {"note": "appeal accepted"})).status == 204
        back = await clients.member(token)
        lang = fresh_lang()
        queued = await back.join([pair.prompt], [lang], DIVIDE_B)
        assert queued["type"] == "queued"
        assert sid not in [s["id"] for s in (await mod.get("/api/suspensions")).body[
            "suspensions"]]

        again = await mod.post(path, {"note": "twice"})
        assert again.status == 409 and again.body["error"] == "already_lifted"
        unknown = await mod.post("/api/suspensions/no-such-one/lift", {"note": "x"})
        assert unknown.status == 404 and unknown.body["error"] == "unknown_suspension"

    async with Mod(srv.url) as admin:
        await admin.login("ann")
        lifts = [e for e in await admin.audit() if e["action"] == "suspension.lift"
                 and e["target"] == f"suspension:{sid}"]
        assert len(lifts) == 1 and lifts[0]["note"] == "appeal accepted"
        assert lifts[0]["moderator"] == "mo"


async def test_lifting_one_of_two_suspensions_keeps_the_other(srv: LiveServer) -> None:
    async with Mod(srv.url) as mod, Clients(srv.ws_url) as clients:
        await mod.login("mo")
        first, _second, r1, r2 = await reported_twice(clients)
        token = first.b.token
        await suspend(mod, r2)  # indefinitely
        await first.b.expect_close()
        await suspend(mod, r1, days=2)  # shorter: must not cut the first one short
        details = [(await mod.get(f"/api/reports/{r}")).body for r in (r1, r2)]
        s1, s2 = (d["suspension"] for d in details)
        listed = {s["id"]: s for s in (await mod.get("/api/suspensions")).body["suspensions"]}
        assert listed[s2]["until"] is None and listed[s2]["report"] == r2
        assert listed[s1]["until"] is not None and listed[s1]["report"] == r1
        await refused_hello(clients, token)

        assert (await mod.post(f"/api/suspensions/{s1}/lift", {"note": "short one"})).status == 204
        await refused_hello(clients, token)  # the indefinite one still holds
        assert (await mod.post(f"/api/suspensions/{s2}/lift", {"note": "appeal"})).status == 204
        back = await clients.member(token)
        assert (await back.join([first.prompt], [fresh_lang()], DIVIDE_B))["type"] == "queued"


async def test_the_new_columns_name_no_member(srv: LiveServer) -> None:
    """In the clear: pseudonyms, prompt, reason, moderators and times; ids only sealed."""
    async with Mod(srv.url) as mod, Clients(srv.ws_url) as clients:
        await mod.login("mo")
        pair = await clients.pair()
        rid = (await report(pair, await said(pair, "again")))["report"]
        await suspend(mod, rid, days=1)
        await pair.b.expect_close()
    db = sqlite3.connect(f"file:{srv.data_dir / 'bridgechat.db'}?mode=ro", uri=True)
    try:
        rows = [*db.execute("SELECT * FROM suspension"), *db.execute("SELECT * FROM report"),
                *db.execute("SELECT * FROM report_author")]
    finally:
        db.close()
    assert any(rid in str(r) for r in rows)
    for secret in (pair.b.member_id, pair.a.member_id, pair.b.token, pair.b_alias):
        assert not any(secret.encode() in (v if isinstance(v, bytes) else str(v).encode())
                       for r in rows for v in r), secret


async def test_a_lift_on_one_node_lets_the_member_join_on_another(
        make_server: Callable[..., LiveServer], redis_server: Any, tmp_path: Path) -> None:
    """Two nodes over one Redis and one data dir: suspended through node one, refused at
    node two (which then remembers the suspension), lifted through node one: node two
    lets the member join at once."""
    shared = tmp_path / "shared-data"
    add_moderator(shared, "mo")
    flags = ("--redis", redis_server.url)
    n1 = make_server(*flags, data_dir=shared)
    n2 = make_server(*flags, data_dir=shared)
    async with (Mod(n1.url) as mod, Clients(n1.ws_url) as one, Clients(n2.ws_url) as two):
        await mod.login("mo")
        pair = await one.pair()
        token = pair.b.token
        rid = (await report(pair, await said(pair, "threat")))["report"]
        await suspend(mod, rid, days=3)
        await pair.b.expect_close()
        await refused_hello(two, token)
        sid = (await mod.get(f"/api/reports/{rid}")).body["suspension"]
        assert (await mod.post(f"/api/suspensions/{sid}/lift", {"note": "appeal"})).status == 204
        back = await two.member(token)
        assert (await back.join([pair.prompt], [fresh_lang()], DIVIDE_B))["type"] == "queued"


async def test_retention_drops_ended_suspensions_and_those_of_members_gone(
        tmp_path: Path) -> None:
    """The hourly purge: a record lifted longer ago than the reports' retention goes, one
    lifted since stays, and one whose member no longer exists goes even while in force."""
    settings = Settings(data_dir=tmp_path, report_retention=7 * DAY)
    store = Store(sqlite_url(tmp_path))
    node = Node(settings, store, MemoryBroker(), load_deck())
    await node.start()
    desk = Desk()
    desk.attach(node, Sealer(os.urandom(32)))
    try:
        sids = {}
        for name in ("lifted-long-ago", "lifted-lately", "erased", "kept"):
            store.create_member(name, hash_token(f"t-{name}"), "2024-05-01")
            rid = await desk.sink(ReportDraft(room="gone", prompt="home", reason="spam",
                                              note=None, reporter="someone", evidence=(),
                                              authors=(name,)))
            assert await desk.resolve(rid, "suspend", "mo", None) is None
            [sids[name]] = store.suspensions_of([rid])[rid]
        now = time.time()
        assert store.lift_suspension(sids["lifted-long-ago"], "mo", now - 8 * DAY) == "lifted"
        assert store.lift_suspension(sids["lifted-lately"], "mo", now - 6 * DAY) == "lifted"
        await node.members.erase("erased")

        await desk.purge(settings.report_retention)

        left = {name for name, sid in sids.items() if store.suspension(sid) is not None}
        assert left == {"lifted-lately", "kept"}
        kept = store.member_by_token(hash_token("t-kept"))
        assert kept is not None and kept.suspended_until == math.inf
    finally:
        await node.stop()
        store.close()
