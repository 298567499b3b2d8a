"""Reports end to end: franking-verified evidence, sealed at rest, resolved by a moderator."""

from __future__ import annotations

import base64
import os
import stat
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import LiveServer
from modclient import Mod, files_containing, moderated_server
from wsclient import Clients, Pair, marker


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    server = moderated_server(tmp_path_factory)
    yield server
    server.stop()


async def said(pair: Pair, *texts: str) -> list[dict[str, Any]]:
    """b says each text; the message frames a received, as a would report them."""
    got = []
    for text in texts:
        await pair.b.say(pair.room, text)
        got.append(await pair.a.expect("message", room=pair.room, text=text))
    return got


async def report(pair: Pair, messages: list[dict[str, Any]], reason: str = "harassment",
                 note: str | None = None) -> dict[str, Any]:
    frame: dict[str, Any] = {"type": "report", "room": pair.room, "reason": reason,
                             "messages": messages}
    if note is not None:
        frame["note"] = note
    await pair.a.send(frame)
    return await pair.a.expect("reported")


async def test_an_altered_line_is_neither_verified_shown_nor_stored(srv: LiveServer) -> None:
    async with Mod(srv.url) as mod, Clients(srv.ws_url) as clients:
        await mod.login("mo")
        feed = await mod.feed()
        await feed.recv()
        pair = await clients.pair()
        texts = [f"line {i} {marker()}" for i in range(3)]
        got = await said(pair, *texts)
        forged = f"forged {marker()}"
        got[1] = {**got[1], "text": forged}
        reported = await report(pair, got, note="they were rude")
        assert reported["verified"] == 2

        opened = await feed.until(lambda f: f["type"] == "report_opened")
        assert opened["report"] == reported["report"]
        assert opened["reason"] == "harassment" and opened["verified"] == 2

        listed = (await mod.get("/api/reports")).body["reports"]
        [row] = [r for r in listed if r["id"] == reported["report"]]
        assert row["status"] == "open" and row["verified"] == 2 and row["reason"] == "harassment"
        assert row["created"].endswith("Z")

        opened_reply = await mod.get(f"/api/reports/{reported['report']}")
        assert opened_reply.headers["Cache-Control"] == "no-store"  # evidence is not cached
        detail = opened_reply.body
        assert [m["text"] for m in detail["evidence"]] == [texts[0], texts[2]]
        assert all(m["from"] == pair.b_alias for m in detail["evidence"])
        assert detail["note"] == "they were rude"
        assert forged not in str(detail) and texts[1] not in str(detail)

    # At rest: no evidence in the clear, and the forged line nowhere at all.
    for needle in (*texts, forged, "they were rude"):
        assert files_containing(srv.data_dir, needle.encode()) == [], needle


async def test_a_duplicated_line_counts_once(srv: LiveServer) -> None:
    async with Clients(srv.ws_url) as clients:
        pair = await clients.pair()
        got = await said(pair, "one", "two")
        assert (await report(pair, [got[0], got[0], got[1]]))["verified"] == 2


async def test_the_report_key_is_made_once_private_and_announced(srv: LiveServer) -> None:
    key = srv.data_dir / "report.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert len(base64.urlsafe_b64decode(key.read_text().strip())) == 32
    assert srv.log().count("generated a report key") == 1


async def test_resolving_needs_a_note_and_a_known_action(srv: LiveServer) -> None:
    async with Mod(srv.url) as mod, Clients(srv.ws_url) as clients:
        await mod.login("mo")
        pair = await clients.pair()
        rid = (await report(pair, await said(pair, "hm")))["report"]
        for body, code in (({"action": "warn"}, "note_required"),
                           ({"action": "warn", "note": "  "}, "note_required"),
                           ({"action": "ban", "note": "x"}, "bad_action"),
                           ({"action": "suspend", "note": "x", "days": -1}, "bad_days")):
            reply = await mod.post(f"/api/reports/{rid}/resolve", body)
            assert reply.status == 400 and reply.body["error"] == code, (body, reply)
        assert (await mod.get(f"/api/reports/{rid}")).body["status"] == "open"


async def test_warn_shows_the_author_a_plain_warning(srv: LiveServer) -> None:
    async with Mod(srv.url) as mod, Clients(srv.ws_url) as clients:
        await mod.login("mo")
        feed = await mod.feed()
        snap = await feed.recv()
        pair = await clients.pair()
        rid = (await report(pair, await said(pair, "you are an idiot")))["report"]
        reply = await mod.post(f"/api/reports/{rid}/resolve",
                               {"action": "warn", "note": "insult, first time"})
        assert reply.status == 200, reply
        notice = await pair.b.expect("notice")
        assert notice["level"] == "warning" and "moderator" in notice["message"]
        await pair.a.expect_nothing()
        resolved = await feed.until(lambda f: f["type"] == "report_resolved")
        assert resolved["report"] == rid and resolved["reports"] == snap["reports"]
        assert (await mod.get(f"/api/reports/{rid}")).body["status"] == "resolved"
        again = await mod.post(f"/api/reports/{rid}/resolve", {"action": "warn", "note": "x"})
        assert again.status == 409 and again.body["error"] == "already_resolved"


async def test_suspend_cuts_the_author_off_and_hello_is_refused(srv: LiveServer) -> None:
    async with Mod(srv.url) as mod, Clients(srv.ws_url) as clients:
        await mod.login("mo")
        pair = await clients.pair()
        token = pair.b.token
        rid = (await report(pair, await said(pair, "threat")))["report"]
        reply = await mod.post(f"/api/reports/{rid}/resolve",
                               {"action": "suspend", "note": "threats", "days": 7})
        assert reply.status == 200, reply
        code, frames = await pair.b.expect_close()
        assert any(f.get("code") == "suspended" for f in frames), frames
        assert code is not None and code >= 4000
        await pair.a.expect("closed", room=pair.room, reason="suspended")

        again = await clients.connect()
        await again.send({"type": "hello", "v": 1, "token": token})
        await again.expect_error("suspended")


async def test_nothing_verified_means_nobody_to_act_on(srv: LiveServer) -> None:
    async with Mod(srv.url) as mod, Clients(srv.ws_url) as clients:
        await mod.login("mo")
        pair = await clients.pair()
        [real] = await said(pair, "fine words")
        rid_v = await report(pair, [{**real, "text": "words never said"}])
        assert rid_v["verified"] == 0
        rid = rid_v["report"]
        refused = await mod.post(f"/api/reports/{rid}/resolve",
                                 {"action": "suspend", "note": "x"})
        assert refused.status == 409 and refused.body["error"] == "nothing_verified"
        await pair.b.expect_nothing()
        done = await mod.post(f"/api/reports/{rid}/resolve",
                              {"action": "dismiss", "note": "nothing there"})
        assert done.status == 200


async def test_reports_need_the_key_they_were_sealed_with(make_server, tmp_path,
                                                          monkeypatch) -> None:
    from modclient import add_moderator

    data = tmp_path / "data"
    add_moderator(data, "ann", "admin")
    key_file = tmp_path / "key"
    key_file.write_text(base64.urlsafe_b64encode(os.urandom(32)).decode())
    srv = make_server("--report-key-file", str(key_file), data_dir=data)
    async with Mod(srv.url) as mod, Clients(srv.ws_url) as clients:
        await mod.login("ann")
        pair = await clients.pair()
        rid = (await report(pair, await said(pair, "kept under the file's key")))["report"]
        assert (await mod.get(f"/api/reports/{rid}")).status == 200
    assert not (data / "report.key").exists()

    # Restarted with another key (from the environment): the report stays listed but sealed.
    srv.stop()
    monkeypatch.setenv("BRIDGECHAT_REPORT_KEY", base64.urlsafe_b64encode(os.urandom(32)).decode())
    srv.args = []
    srv.start()
    async with Mod(srv.url) as mod:
        await mod.login("ann")
        assert any(r["id"] == rid for r in (await mod.get("/api/reports")).body["reports"])
        sealed = await mod.get(f"/api/reports/{rid}")
        assert sealed.status == 409 and sealed.body["error"] == "wrong_key"
    assert not (data / "report.key").exists()


async def test_a_bad_key_stops_the_server_with_a_plain_reason(make_server, tmp_path) -> None:
    key_file = tmp_path / "key"
    key_file.write_text("too short")
    with pytest.raises(RuntimeError, match="not 32 bytes"):
        make_server("--report-key-file", str(key_file))


async def test_a_suspension_without_days_holds_indefinitely(srv: LiveServer) -> None:
    async with Mod(srv.url) as mod, Clients(srv.ws_url) as clients:
        await mod.login("mo")
        pair = await clients.pair()
        token = pair.b.token
        rid = (await report(pair, await said(pair, "spam spam spam")))["report"]
        reply = await mod.post(f"/api/reports/{rid}/resolve",
                               {"action": "suspend", "note": "spam bot"})
        assert reply.status == 200, reply
        await pair.b.expect_close()
        [entry] = [e for e in await mod_audit(srv) if e["target"] == f"report:{rid}"]
        assert entry["action"] == "report.suspend" and entry["note"] == "spam bot"
        again = await clients.connect()
        await again.send({"type": "hello", "v": 1, "token": token})
        await again.expect_error("suspended")


async def mod_audit(srv: LiveServer) -> list[dict[str, Any]]:
    async with Mod(srv.url) as admin:
        await admin.login("ann")
        return await admin.audit()
