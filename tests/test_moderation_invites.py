"""Invite codes with `serve --require-invite`, and the audit log of every moderator action."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest
from conftest import LiveServer
from modclient import Mod, files_containing, moderated_server
from wsclient import Clients, Member, fresh_lang, fresh_topic, marker


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    server = moderated_server(tmp_path_factory, "--require-invite")
    yield server
    server.stop()


async def join_with(member: Member, code: str | None) -> dict[str, object]:
    frame: dict[str, object] = {"type": "join", "prompts": [member.prompt_id(fresh_topic())],
                                "languages": [fresh_lang()]}
    if code is not None:
        frame["invite"] = code
    await member.send(frame)
    return await member.recv()


async def leave(member: Member) -> None:
    await member.send({"type": "leave_queue"})
    await member.expect("left_queue")


async def test_a_join_needs_a_live_code_with_uses_left(srv: LiveServer) -> None:
    async with Mod(srv.url) as admin, Clients(srv.ws_url) as clients:
        await admin.login("ann")
        member = await clients.member()
        for code in (None, "NOT-A-REAL-CODE!", "0000-0000-0000-0000"):
            got = await join_with(member, code)
            assert got["type"] == "error" and got["code"] == "invite_required", got

        made = await admin.post("/api/invites", {"label": "library workshop", "max_uses": 2})
        assert made.status == 201, made
        code = made.body["code"]
        assert (await join_with(member, code))["type"] == "queued"
        await leave(member)
        # Codes are read forgivingly: any case, no dashes.
        assert (await join_with(member, code.lower().replace("-", "")))["type"] == "queued"
        await leave(member)
        assert (await join_with(member, code))["code"] == "invite_required"  # used up

        listed = (await admin.get("/api/invites")).body
        assert listed["required"] is True
        [row] = [i for i in listed["invites"] if i["id"] == made.body["id"]]
        assert row["uses"] == 2 and row["max_uses"] == 2 and "code" not in row
        assert files_containing(srv.data_dir, code.encode()) == []
        assert files_containing(srv.data_dir, code.replace("-", "").encode()) == []


async def test_a_revoked_code_admits_nobody(srv: LiveServer) -> None:
    async with Mod(srv.url) as admin, Clients(srv.ws_url) as clients:
        await admin.login("ann")
        made = (await admin.post("/api/invites", {})).body
        member = await clients.member()
        assert (await join_with(member, made["code"]))["type"] == "queued"
        await leave(member)
        assert (await admin.request("DELETE", f"/api/invites/{made['id']}")).status == 204
        assert (await join_with(member, made["code"]))["code"] == "invite_required"
        again = await admin.request("DELETE", f"/api/invites/{made['id']}")
        assert again.status == 404


async def test_every_action_appears_once_in_the_audit_log(srv: LiveServer) -> None:
    async with Mod(srv.url) as admin, Mod(srv.url) as mo, Clients(srv.ws_url) as clients:
        why = marker()
        await mo.login("mo")
        await admin.login("ann")
        before = {e["id"] for e in await admin.audit()}

        invite = (await admin.post("/api/invites", {"label": why})).body
        await admin.request("DELETE", f"/api/invites/{invite['id']}")
        prompt = f"audit-{why[:8]}"
        await mo.post("/api/prompts", {"id": prompt, "text": "Why audit?", "note": why})
        await mo.post(f"/api/prompts/{prompt}/pause", {"note": why})
        await mo.post(f"/api/prompts/{prompt}/resume", {"note": why})
        await mo.request("DELETE", f"/api/prompts/{prompt}", {"note": why})

        code = (await admin.post("/api/invites", {})).body["code"]
        a, b = await clients.member(), await clients.member()
        shared = a.prompt_id(fresh_topic())
        lang = fresh_lang()
        for m, profile in ((a, {"age_band": "18-29"}), (b, {"age_band": "60+"})):
            await m.send({"type": "join", "prompts": [shared], "languages": [lang],
                          "profile": profile, "invite": code})
            await m.expect("queued")
        # The contract: any compatible pair is matched within 10 s.
        room = (await a.expect("matched", wait=12))["room"]
        await b.expect("matched")
        await b.say(room, "rude words")
        msg = await a.expect("message")
        await a.send({"type": "report", "room": room, "reason": "harassment", "messages": [msg]})
        rid = (await a.expect("reported"))["report"]
        await mo.post(f"/api/reports/{rid}/resolve", {"action": "warn", "note": why})
        await mo.post(f"/api/rooms/{room}/end", {"note": why})
        await mo.post("/api/moderator/logout")

        entries = [e for e in await admin.audit() if e["id"] not in before]
        counts = Counter((e["moderator"], e["action"], e["target"]) for e in entries)
        expected = [
            ("ann", "invite.create", f"invite:{invite['id']}"),
            ("ann", "invite.revoke", f"invite:{invite['id']}"),
            ("mo", "prompt.add", f"prompt:{prompt}"),
            ("mo", "prompt.pause", f"prompt:{prompt}"),
            ("mo", "prompt.resume", f"prompt:{prompt}"),
            ("mo", "prompt.retire", f"prompt:{prompt}"),
            ("mo", "report.warn", f"report:{rid}"),
            ("mo", "room.end", f"room:{room}"),
            ("mo", "logout", "moderator:mo"),
        ]
        for key in expected:
            assert counts[key] == 1, (key, entries)
        for e in entries:
            assert e["at"].endswith("Z")
            if e["moderator"] == "mo" and e["action"] not in ("logout",):
                assert e["note"] == why, e
        # The log lists newest first, and the logout came last.
        assert entries[0]["action"] == "logout"
