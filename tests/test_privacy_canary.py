"""Canaries through every path: none may reach the data directory or the log.

A unique marker rides in each kind of thing the server must never keep:
message text (chat, resume, a report's evidence and note), profile answers
(buckets of a deck made for this test), tokens (real and made up), and
addresses (the TCP peer, from a loopback address of its own, and the proxy
headers a client can forge). After a chat and a report the server stops;
then every file under its data directory and its whole log are searched.
"""

from __future__ import annotations

import http.client
from pathlib import Path

import pytest
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
    files = [p for p in srv.data_dir.rglob("*") if p.is_file()]
    assert any(p.name == "bridgechat.db" for p in files)
    found = {(name, str(p)) for name, value in canaries.items() for p in files
             if value.encode() in p.read_bytes()}
    log = srv.log_path.read_bytes()
    found |= {(name, "log") for name, value in canaries.items() if value.encode() in log}
    assert found == set()
    if not reported:
        pytest.xfail("reports are not stored by this server yet: the evidence path is untested")
