"""No moderator action escapes the audit log (docs/moderation.md, "Audit log").

Text the store cannot hold (a lone surrogate, sent as a JSON escape, or NUL)
is refused with 400 `bad_text` before anything happens; and when the audit
entry cannot be written at all, the action does not happen either.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from conftest import LiveServer
from modclient import Mod, moderated_server
from wsclient import Clients, Pair, assert_still_chatting, fresh_topic

BAD_TEXTS = ("x\ud800", "\udfff y", "nul\x00byte")


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    server = moderated_server(tmp_path_factory)
    yield server
    server.stop()


async def reported(pair: Pair) -> str:
    await pair.b.say(pair.room, "words to act on")
    msg = await pair.a.expect("message", room=pair.room)
    await pair.a.send({"type": "report", "room": pair.room, "reason": "threat",
                       "messages": [msg]})
    return str((await pair.a.expect("reported"))["report"])


async def paused(mod: Mod, prompt: str) -> bool | None:
    listed = (await mod.get("/api/prompts")).body["prompts"]
    return next((p["paused"] for p in listed if p["id"] == prompt), None)


async def audit_targets(srv: LiveServer) -> list[str]:
    async with Mod(srv.url) as admin:
        assert (await admin.login("ann")).status == 200
        return [e["target"] for e in await admin.audit()]


async def refused_everywhere(mod: Mod, pair: Pair, rid: str, prompt: str, note: str,
                             status: int, text: str = "A new prompt") -> None:
    """Every kind of action, each refused with `status`; afterwards nothing has changed."""
    attempts = [
        ("POST", f"/api/reports/{rid}/resolve", {"action": "suspend", "days": 7, "note": note}),
        ("POST", f"/api/prompts/{prompt}/pause", {"note": note}),
        ("DELETE", f"/api/prompts/{prompt}", {"note": note}),
        ("POST", f"/api/rooms/{pair.room}/end", {"note": note}),
        ("POST", "/api/prompts", {"id": "audit-new", "text": text, "note": note}),
    ]
    for method, path, body in attempts:
        reply = await mod.request(method, path, body)
        assert reply.status == status, (path, body, reply)
        if status == 400:
            assert reply.body["error"] == "bad_text" and " " in reply.body["message"], reply
    assert (await mod.get(f"/api/reports/{rid}")).body["status"] == "open"
    assert await paused(mod, prompt) is False
    assert await paused(mod, "audit-new") is None
    await pair.b.expect_nothing(0.3)  # not suspended, not closed
    await assert_still_chatting(pair)


async def test_text_the_store_cannot_hold_is_refused_before_anything_happens(
        srv: LiveServer) -> None:
    async with Mod(srv.url) as mod, Clients(srv.ws_url) as clients:
        assert (await mod.login("mo")).status == 200
        pair = await clients.pair()
        rid = await reported(pair)
        prompt = pair.a.prompt_id(fresh_topic())
        for bad in BAD_TEXTS:
            await refused_everywhere(mod, pair, rid, prompt, bad, 400)
        text = await mod.post("/api/prompts", {"id": "audit-new", "text": "A prompt\ud83d"})
        assert text.status == 400 and text.body["error"] == "bad_text", text
        assert await paused(mod, "audit-new") is None
        admin = Mod(srv.url)
        async with admin:
            await admin.login("ann")
            label = await admin.post("/api/invites", {"label": "x\ud800"})
            assert label.status == 400 and label.body["error"] == "bad_text", label
        targets = await audit_targets(srv)
        assert f"report:{rid}" not in targets and f"room:{pair.room}" not in targets
        assert f"prompt:{prompt}" not in targets and "prompt:audit-new" not in targets
        # A sign-in with such a password is a plain 400, not a failure on the hashing thread.
        async with Mod(srv.url) as other:
            reply = await other.login("mo", "a password \ud800 of sorts")
            assert reply.status == 400 and reply.body["error"] == "bad_text", reply
        # Ordinary text still works, and lands in the log once.
        done = await mod.post(f"/api/reports/{rid}/resolve",
                              {"action": "dismiss", "note": "fine: ünïcødé ✓"})
        assert done.status == 200, done
        assert (await audit_targets(srv)).count(f"report:{rid}") == 1


@contextmanager
def audit_refused(srv: LiveServer) -> Iterator[None]:
    """The audit table refuses every new entry (as a full disk or a lost database would)."""
    db = sqlite3.connect(srv.data_dir / "bridgechat.db")
    with db:
        db.execute("CREATE TRIGGER test_audit_refused BEFORE INSERT ON audit "
                   "BEGIN SELECT RAISE(ABORT, 'the test refuses audit entries'); END")
    try:
        yield
    finally:
        with db:
            db.execute("DROP TRIGGER test_audit_refused")
        db.close()


async def test_an_action_whose_audit_entry_fails_does_not_happen(srv: LiveServer) -> None:
    async with Mod(srv.url) as mod, Clients(srv.ws_url) as clients:
        assert (await mod.login("mo")).status == 200
        pair = await clients.pair()
        rid = await reported(pair)
        prompt = pair.a.prompt_id(fresh_topic())
        with audit_refused(srv):
            await refused_everywhere(mod, pair, rid, prompt, "a good reason", 500)
        # Once entries can be written again, the same actions go through and are logged.
        reply = await mod.post(f"/api/reports/{rid}/resolve",
                               {"action": "suspend", "days": 7, "note": "threats"})
        assert reply.status == 200, reply
        await pair.b.expect_close()
        assert f"report:{rid}" in await audit_targets(srv)
