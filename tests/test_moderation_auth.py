"""Moderator sign-in over real HTTP: sessions, cookies, CSRF, limits, logout, expiry."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Iterator

import pytest
from argon2 import PasswordHasher
from conftest import LiveServer
from modclient import PASSWORD, Mod, files_containing, moderated_server


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    server = moderated_server(tmp_path_factory)
    yield server
    server.stop()


async def test_wrong_password_gets_401_and_no_session(srv: LiveServer) -> None:
    async with Mod(srv.url) as mod:
        for name, password in (("ann", "not the right password"), ("nobody", PASSWORD)):
            reply = await mod.login(name, password)
            assert reply.status == 401, reply
            assert reply.body["error"] == "bad_credentials"
            assert " " in reply.body["message"]
            assert reply.cookies == []
        assert (await mod.get("/api/reports")).status == 401


async def test_login_sets_a_strict_httponly_cookie_and_answers_csrf(srv: LiveServer) -> None:
    async with Mod(srv.url) as mod:
        reply = await mod.login("ANN")  # usernames are not case-sensitive
        assert reply.status == 200, reply
        assert reply.body["role"] == "admin" and reply.body["csrf"]
        [cookie] = reply.cookies
        attrs = [a.strip().lower() for a in cookie.split(";")]
        assert attrs[0].startswith("bridgechat_mod=")
        assert "httponly" in attrs and "samesite=strict" in attrs and "path=/" in attrs
        assert "secure" not in attrs  # plain HTTP here: a Secure cookie would never come back
        me = await mod.get("/api/moderator/session")
        assert me.status == 200
        assert me.body["username"] == "ann" and me.body["csrf"] == mod.csrf


async def test_no_session_sees_no_reports_and_no_feed(srv: LiveServer) -> None:
    async with Mod(srv.url) as mod:
        for path in ("/api/reports", "/api/reports/anything", "/api/prompts",
                     "/api/moderator/session"):
            reply = await mod.get(path)
            assert reply.status == 401, (path, reply)
            assert reply.body["error"] == "not_signed_in"
        assert await mod.refused() == 401
        assert await mod.refused(origin=None) == 401


async def test_feed_refuses_a_missing_or_foreign_origin(srv: LiveServer) -> None:
    async with Mod(srv.url) as mod:
        await mod.login("mo")
        assert await mod.refused(origin=None) == 403
        assert await mod.refused(origin="https://evil.example") == 403
        feed = await mod.feed()
        assert (await feed.recv())["type"] == "snapshot"


async def test_a_change_without_the_csrf_token_is_403_before_anything_else(
        srv: LiveServer) -> None:
    async with Mod(srv.url) as mod:
        # Even with no session at all, the missing token is what is reported.
        reply = await mod.post("/api/prompts/no-such-prompt/pause")
        assert reply.status == 403 and reply.body["error"] == "csrf"
        await mod.login("mo")
        for path in ("/api/prompts/no-such-prompt/pause", "/api/reports/nope/resolve",
                     "/api/rooms/nope/end", "/api/moderator/logout"):
            assert (await mod.post(path, csrf=False)).status == 403, path
            wrong = await mod.post(path, csrf=False, headers={"X-CSRF-Token": "x" * 43})
            assert wrong.status == 403, path
        # With the token the same request reaches the handler, which finds nothing.
        assert (await mod.post("/api/prompts/no-such-prompt/pause")).status == 404
        assert (await mod.get("/api/moderator/session")).status == 200  # still signed in


async def test_a_moderator_cannot_read_the_audit_log_or_make_invites(srv: LiveServer) -> None:
    async with Mod(srv.url) as mod:
        await mod.login("mo")
        for reply in (await mod.get("/api/audit"), await mod.post("/api/invites", {})):
            assert reply.status == 403 and reply.body["error"] == "admin_only"


async def test_logout_closes_that_moderators_feed_and_ends_the_session(srv: LiveServer) -> None:
    async with Mod(srv.url) as mine, Mod(srv.url) as other:
        await mine.login("mo")
        await other.login("mo")
        feed, other_feed = await mine.feed(), await other.feed()
        await feed.recv()
        await other_feed.recv()
        assert (await mine.post("/api/moderator/logout")).status == 204
        assert await feed.closed() == 4401
        assert (await mine.get("/api/reports")).status == 401
        # Another session of the same account carries on.
        assert (await other.get("/api/reports")).status == 200
        assert await mine.refused() == 401


async def test_password_and_session_token_never_reach_disk_or_log(srv: LiveServer) -> None:
    async with Mod(srv.url) as mod:
        await mod.login("ann")
        await mod.login("ann", "a wrong guess of a password")
        assert mod.cookie is not None
        token = mod.cookie.split("=", 1)[1].encode()
    for needle in (PASSWORD.encode(), token, b"a wrong guess"):
        assert files_containing(srv.data_dir, needle) == []
        assert needle.decode() not in srv.log()


async def test_an_old_hash_is_upgraded_at_login(srv: LiveServer) -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    db = sqlite3.connect(srv.data_dir / "bridgechat.db")
    with db:
        db.execute("UPDATE moderator SET password_hash = ? WHERE username = 'mo'", (weak,))
    async with Mod(srv.url) as mod:
        assert (await mod.login("mo")).status == 200
    (stored,) = db.execute("SELECT password_hash FROM moderator WHERE username = 'mo'").fetchone()
    db.close()
    assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$"), stored


DELAY = 2.0


async def test_guesses_at_a_username_slow_it_down_but_never_lock_it(tmp_path_factory) -> None:
    # Far above a password check's own time even on a loaded machine, so the slow lane
    # and the free one are told apart by the delay alone.
    srv = moderated_server(tmp_path_factory, "--login-name-delay", str(DELAY))
    try:
        async with Mod(srv.url) as mod:
            for _ in range(5):
                assert (await mod.login("mo", "guess guess guess guess")).status == 401
            began = time.monotonic()
            assert (await mod.login("mo", "guess guess guess guess")).status == 401
            assert time.monotonic() - began >= DELAY  # past five, each check waits its turn
            began = time.monotonic()
            assert (await mod.login("mo")).status == 200  # the right password still signs in
            assert time.monotonic() - began >= DELAY
            began = time.monotonic()
            assert (await mod.login("ann")).status == 200  # another account is unaffected
            assert time.monotonic() - began < DELAY
    finally:
        srv.stop()


async def test_login_is_limited_per_address(tmp_path_factory) -> None:
    srv = moderated_server(tmp_path_factory, "--login-address-attempts", "6")
    try:
        async with Mod(srv.url) as mod:
            # Six guesses at once (each at its own name): each is refused as wrong (401), or
            # as busy (503) past the cap on password checks (test_moderation_lockout.py).
            results = await asyncio.gather(*(mod.login(f"guess{i}", "guess guess guess")
                                             for i in range(6)))
            assert {r.status for r in results} <= {401, 503}
            while (reply := await mod.login("guess", "guess guess guess")).status == 401:
                pass
            assert reply.status == 429 and reply.body["error"] == "rate_limited"
            assert int(reply.headers["Retry-After"]) > 0
            assert (await mod.login("ann")).status == 429  # from this address, even the owner
    finally:
        srv.stop()


async def test_cookie_is_secure_and_host_prefixed_when_served_over_tls(
        tmp_path_factory) -> None:
    srv = moderated_server(tmp_path_factory, "--public-url", "https://bridge.example")
    try:
        async with Mod(srv.url) as mod:
            reply = await mod.login("ann")
            [cookie] = reply.cookies
            attrs = [a.strip().lower() for a in cookie.split(";")]
            assert cookie.startswith("__Host-bridgechat_mod=")
            assert "secure" in attrs and "httponly" in attrs and "samesite=strict" in attrs
            assert "path=/" in attrs and not any(a.startswith("domain") for a in attrs)
    finally:
        srv.stop()


async def test_an_idle_session_expires_and_its_feed_closes(tmp_path_factory) -> None:
    srv = moderated_server(tmp_path_factory, "--moderator-idle", "1.5")
    try:
        async with Mod(srv.url) as mod:
            await mod.login("mo")
            feed = await mod.feed()
            await feed.recv()
            assert await feed.closed(wait=5) == 4401
            assert (await mod.get("/api/reports")).status == 401
    finally:
        srv.stop()
