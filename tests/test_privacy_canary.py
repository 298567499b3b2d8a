"""Canaries through every path: none may reach the data directory or the log.

A unique marker rides in each kind of thing the server must never keep:
message text (chat, resume, a report's evidence and note), profile answers
(buckets of a deck made for this test), tokens (real and made up), and
addresses (the TCP peer, from a loopback address of its own, and the proxy
headers a client can forge). After a chat and a report the server stops;
then every file under its data directory and its whole log are searched.
A second run does the same around what moderators do to members: match
them by hand, speak to their room, leave a note for the next shift.
"""

from __future__ import annotations

import http.client
from pathlib import Path

import pytest
from modclient import Mod, moderated_server
from wsclient import Clients, fresh_lang, marker

# Linux routes all of 127.0.0.0/8 to loopback: connecting from this address
# makes it the peer address the server sees, unique enough to search for.
PEER = "127.31.41.59"
FORGED = "203.0.113.77"  # TEST-NET-3, sent in X-Forwarded-For and friends
PROXY_HEADERS = {"X-Forwarded-For": FORGED, "X-Real-IP": FORGED,
                 "Forwarded": f"for={FORGED}"}


def deck(path: Path, warm: str, cool: str) -> Path:
    path.write_text(f'''
[[prompts]]
id = "canary"
text = "What would you tell a stranger?"

[[dimensions]]
id = "tone"
label = "Your tone"
buckets = ["{warm}", "{cool}"]
sensitive = true
''', "utf-8")
    return path


def request(srv, method: str, path: str, token: str | None = None) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=5,
                                      source_address=(PEER, 0))
    headers = dict(PROXY_HEADERS, Origin=srv.origin)
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    try:
        conn.request(method, path, headers=headers)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def found_at_rest(srv, canaries: dict[str, str], log_only: dict[str, str] | None = None
                  ) -> set[tuple[str, str]]:
    """(name, where) for each canary found in a file under the stopped server's data
    directory or in its log; `log_only` ones may be stored but never logged."""
    files = [p for p in srv.data_dir.rglob("*") if p.is_file()]
    assert any(p.name == "bridgechat.db" for p in files)
    found = {(name, str(p)) for name, value in canaries.items() for p in files
             if value.encode() in p.read_bytes()}
    log = srv.log_path.read_bytes()
    found |= {(name, "log") for name, value in (canaries | (log_only or {})).items()
              if value.encode() in log}
    return found


async def test_no_canary_at_rest_or_in_the_log(make_server, tmp_path: Path) -> None:
    text, note, bogus = (f"text-{marker()}", f"note-{marker()}", f"tok-{marker()}")
    warm, cool = f"warm-{marker()}", f"cool-{marker()}"
    srv = make_server("--deck", str(deck(tmp_path / "deck.toml", warm, cool)))
    reported = False
    tokens: list[str] = []
    async with Clients(srv.ws_url) as clients:
        async def member():
            m = await clients.connect(local_addr=(PEER, 0), additional_headers=PROXY_HEADERS)
            await m.hello()
            assert m.token is not None
            tokens.append(m.token)
            return m

        a, b, c = await member(), await member(), await member()
        lang = fresh_lang()
        await a.join(["canary"], [lang], {"tone": warm}, stances={"canary": "agree"})
        await b.join(["canary"], [lang], {"tone": cool}, stances={"canary": "disagree"})
        room = (await a.expect("matched"))["room"]
        assert (await b.expect("matched"))["room"] == room

        # Message text: relayed, acknowledged, replayed on resume.
        await a.say(room, f"{text} from a")
        got = await b.expect("message", room=room)
        await b.say(room, f"{text} from b")
        await a.expect("message", room=room)
        await b.send({"type": "resume", "room": room, "after": 0})
        await b.expect("message", seq=1)
        await b.expect("message", seq=2)
        await b.expect("resumed")

        # A report carries the text again as evidence, and a note of its own.
        await b.send({"type": "report", "room": room, "reason": "harassment",
                      "note": f"{note} {text}", "messages": [got]})
        answer = await b.recv()
        if answer["type"] == "reported":
            reported = answer["verified"] == 1
            assert reported, answer
        else:
            assert answer["type"] == "error", answer

        # A waiting ticket holds a profile answer; its export shows it back.
        await c.join(["canary"], [fresh_lang()], {"tone": warm})
        status, body = request(srv, "GET", "/api/me", c.token)
        assert status == 200 and warm.encode() in body
        assert request(srv, "GET", "/api/me", bogus)[0] == 401
        assert request(srv, "GET", f"/api/impact?epsilon={bogus}")[0] == 400
        assert request(srv, "GET", "/api/impact")[0] == 200
        assert request(srv, "GET", f"/nothing-{bogus}")[0] == 404
        assert request(srv, "DELETE", "/api/me", c.token)[0] == 200

        await a.send({"type": "leave", "room": room})
        await a.expect("closed", room=room)
        await b.expect("left", room=room)
        await b.expect("closed", room=room)
        for m in (a, b):
            await m.send({"type": "feedback", "room": room, "common_ground": 2, "again": False})
            await m.expect("thanks")
    srv.stop()

    canaries = {"message text": text, "report note": note, "profile answer": warm,
                "other profile answer": cool, "made-up token": bogus, "peer address": PEER,
                "forged address": FORGED}
    canaries |= {f"token {i}": t for i, t in enumerate(tokens)}
    assert found_at_rest(srv, canaries) == set()
    if not reported:
        pytest.xfail("reports are not stored by this server yet: the evidence path is untested")


async def test_moderators_actions_keep_no_member_canary(tmp_path_factory: pytest.TempPathFactory,
                                                        tmp_path: Path) -> None:
    """Hand-matching, a notice to the room and a note for the next shift: the moderator's
    own words go to the audit log, and nothing of the members they touched is kept."""
    warm, cool = f"warm-{marker()}", f"cool-{marker()}"
    path = deck(tmp_path / "deck.toml", warm, cool)
    # A second prompt, so that the two members are never matched but by hand.
    path.write_text(path.read_text("utf-8") + '''
[[prompts]]
id = "other"
text = "What do you miss most?"
''', "utf-8")
    srv = moderated_server(tmp_path_factory, "--deck", str(path))
    tokens: list[str] = []
    notice = f"Please keep it kind {marker()}"
    try:
        async with Mod(srv.url) as mod, Clients(srv.ws_url) as clients:
            assert (await mod.login("mo")).status == 200
            lang = fresh_lang()
            waiting = []
            for prompt, tone in (("canary", warm), ("other", cool)):
                m = await clients.connect(local_addr=(PEER, 0),
                                          additional_headers=PROXY_HEADERS)
                await m.hello()
                assert m.token is not None
                tokens.append(m.token)
                queued = await m.join([prompt], [lang], {"tone": tone})
                waiting.append((m, str(queued["ticket"])))
            (a, ta), (b, tb) = waiting
            check = await mod.post("/api/match/check", {"tickets": [ta, tb]})
            assert check.status == 200 and check.body["ok"], check
            made = await mod.post("/api/match", {"tickets": [ta, tb], "note": "by hand"})
            assert made.status == 201, made
            room = made.body["room"]
            await a.expect("matched", room=room)
            await b.expect("matched", room=room)
            sent = await mod.post(f"/api/rooms/{room}/notice", {"message": notice})
            assert sent.status == 204, sent
            for m in (a, b):
                got = await m.expect("notice")
                assert got["message"] == notice and got["room"] == room
            shift = await mod.post("/api/shift/note", {"text": "Quiet evening, one match."})
            assert shift.status == 201, shift
            await a.send({"type": "leave", "room": room})
            await a.expect("closed", room=room)
    finally:
        srv.stop()

    canaries = {"profile answer": warm, "other profile answer": cool, "peer address": PEER,
                "forged address": FORGED} | {f"token {i}": t for i, t in enumerate(tokens)}
    # The notice is the moderator's, kept as the audit entry's note only: never logged.
    assert found_at_rest(srv, canaries, log_only={"notice": notice}) == set()


async def test_event_sign_ups_keep_no_answer_or_token_unsealed(
        tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> None:
    """Signing up ahead for an event, changing and withdrawing: the answers are sealed at
    rest and the token kept as a hash, so no profile value, token or address is found in
    any file of the data dir or in the log."""
    import json
    from datetime import UTC, datetime, timedelta

    warm, cool = f"warm-{marker()}", f"cool-{marker()}"
    srv = moderated_server(tmp_path_factory, "--deck", str(deck(tmp_path / "deck.toml",
                                                                 warm, cool)))
    tokens: list[str] = []
    starts = (datetime.now(UTC) + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    try:
        async with Mod(srv.url) as ann:
            assert (await ann.login("ann")).status == 200
            made = await ann.post("/api/events", {
                "slug": "canary-day", "title": {"en": "Canary day"}, "starts": starts,
                "tz": "UTC", "prompts": ["canary"]})
            assert made.status == 201, made

        def call(method: str, body: dict[str, object], token: str | None = None
                 ) -> tuple[int, dict[str, object]]:
            conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=5,
                                              source_address=(PEER, 0))
            headers = dict(PROXY_HEADERS, Origin=srv.origin)
            headers["Content-Type"] = "application/json"
            if token is not None:
                headers["Authorization"] = f"Bearer {token}"
            try:
                conn.request(method, "/api/e/canary-day/signup", json.dumps(body), headers)
                resp = conn.getresponse()
                return resp.status, json.loads(resp.read())
            finally:
                conn.close()

        answers = {"prompts": ["canary"], "languages": ["en"], "profile": {"tone": warm},
                   "stances": {"canary": "agree"}}
        for _ in range(2):
            status, body = call("POST", answers)
            assert status == 201, body
            tokens.append(str(body["token"]))
        status, body = call("PUT", {**answers, "profile": {"tone": cool}}, tokens[0])
        assert status == 200 and body["signup"] == {**answers, "profile": {"tone": cool},  # type: ignore[comparison-overlap]
                                                    "learning": [], "lang": "en"}
        assert call("DELETE", {}, tokens[1])[0] == 200
    finally:
        srv.stop()

    canaries = {"profile answer": warm, "changed answer": cool, "peer address": PEER,
                "forged address": FORGED} | {f"token {i}": t for i, t in enumerate(tokens)}
    assert found_at_rest(srv, canaries) == set()
