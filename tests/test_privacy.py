"""Members' rights over HTTP: download everything (Art. 20), erase everything (Art. 17).

Over the wire only: a real server process, `websockets` for members and
urllib for HTTP. After an erasure the member's id and token hash must be gone
from the SQLite file's bytes, both after a WAL checkpoint and after the
server stops.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import urllib.request
from pathlib import Path

from wsclient import Clients


def call(url: str, method: str = "GET", token: str | None = None,
         headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], dict[str, object]]:
    req = urllib.request.Request(url, method=method, headers=headers or {})
    if token is not None:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, dict(r.headers), json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), json.loads(e.read())


def plain_words(body: dict[str, object]) -> None:
    message = body.get("message")
    assert isinstance(body.get("error"), str)
    assert isinstance(message, str) and " " in message.strip(), body


def data_bytes(data_dir: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(data_dir.rglob("*")) if p.is_file())


def checkpoint(data_dir: Path) -> None:
    """Fold the WAL into the database file and truncate it, as SQLite does at close."""
    with sqlite3.connect(data_dir / "bridgechat.db") as db:
        busy, _, _ = db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    assert busy == 0, "the checkpoint could not complete"


async def test_export_lists_what_is_held(server) -> None:
    async with Clients(server.ws_url) as clients:
        pair = await clients.pair()
        status, headers, body = call(server.url + "/api/me", token=pair.a.token)
        assert status == 200
        assert body["member"] == pair.a.member_id
        assert body["rooms"] == [{"room": pair.room, "alias": pair.a_alias}]
        assert "no-store" in headers["Cache-Control"]
        assert "attachment" in headers["Content-Disposition"]
        # The token itself is not held, so it is not in the export either.
        assert pair.a.token not in json.dumps(body)


async def test_without_a_valid_token_the_answer_is_401_in_plain_words(server) -> None:
    for method in ("GET", "DELETE"):
        status, headers, body = call(server.url + "/api/me", method)
        assert status == 401 and body["error"] == "token_required"
        assert headers["WWW-Authenticate"].startswith("Bearer")
        plain_words(body)
        status, _, body = call(server.url + "/api/me", method, token="x" * 43)
        assert status == 401 and body["error"] == "unknown_token"
        plain_words(body)
        status, _, body = call(server.url + "/api/me", method,
                               headers={"Authorization": "Basic dXNlcjpwYXNz"})
        assert status == 401


async def test_a_foreign_origin_cannot_erase(server) -> None:
    async with Clients(server.ws_url) as clients:
        member = await clients.member()
        status, _, body = call(server.url + "/api/me", "DELETE", token=member.token,
                               headers={"Origin": "https://evil.example"})
        assert status == 403 and body["error"] == "origin_not_allowed"
        plain_words(body)
        # Still there: the refused request changed nothing.
        assert call(server.url + "/api/me", token=member.token)[0] == 200
        # The server's own origin may.
        status, _, body = call(server.url + "/api/me", "DELETE", token=member.token,
                               headers={"Origin": server.origin})
        assert status == 200 and body["erased"] is True


async def test_erased_member_is_gone_from_the_database_file(make_server) -> None:
    srv = make_server()
    async with Clients(srv.ws_url) as clients:
        pair = await clients.pair()
        gone, stays = pair.a, pair.b
        gone_id, gone_token = gone.member_id, gone.token
        assert gone_token is not None and stays.token is not None
        # A block names both members in one row: it has to go too.
        await stays.send({"type": "block", "room": pair.room})
        await stays.expect("closed", room=pair.room)
        await gone.expect("left", room=pair.room)
        await gone.expect("closed", room=pair.room)
        checkpoint(srv.data_dir)
        assert gone_id.encode() in data_bytes(srv.data_dir), "the test looks in the wrong place"

        status, _, body = call(srv.url + "/api/me", "DELETE", token=gone_token)
        assert status == 200 and body["erased"] is True
        assert " " in str(body["message"])

        # The token no longer opens a session, and no endpoint knows it.
        again = await clients.connect()
        await again.send({"type": "hello", "v": 1, "token": gone_token})
        await again.expect_error("unknown_token")
        assert call(srv.url + "/api/me", token=gone_token)[0] == 401
        # The other member is untouched.
        assert call(srv.url + "/api/me", token=stays.token)[0] == 200

        needles = [gone_id.encode(), hashlib.sha256(gone_token.encode()).hexdigest().encode()]
        checkpoint(srv.data_dir)
        raw = data_bytes(srv.data_dir)
        assert [n for n in needles if n in raw] == []
        assert stays.member_id.encode() in raw
    srv.stop()
    raw = data_bytes(srv.data_dir)
    assert [n for n in needles if n in raw] == []
