"""Moderator-side test helpers, written from the contract only (no server imports).

Accounts are made the way an operator makes them: `python -m server
moderator add NAME` with the password on standard input. HTTP goes through
aiohttp's client with the cookie kept by hand (as a browser would keep it
for 127.0.0.1), and the live feed through the `websockets` library.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import sys
import time
from dataclasses import dataclass
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from conftest import LiveServer
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "correct horse battery staple"
TIMEOUT = 5.0


def moderator_cli(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bridgechat", "moderator", *args], input=stdin,
                          capture_output=True, text=True, cwd=ROOT, timeout=60, check=False)


def add_moderator(data_dir: Path, name: str, role: str = "moderator",
                  password: str = PASSWORD) -> None:
    done = moderator_cli("add", name, "--role", role, "--data-dir", str(data_dir),
                         stdin=password + "\n")
    assert done.returncode == 0, done.stderr


def moderated_server(factory: pytest.TempPathFactory, *flags: str) -> LiveServer:
    """A started server whose data dir has admin "ann" and moderator "mo"; stop it after."""
    base = factory.mktemp("moderated")
    add_moderator(base / "data", "ann", "admin")
    add_moderator(base / "data", "mo")
    return LiveServer(data_dir=base / "data", log_path=base / "server.log",
                      args=list(flags)).start()


@dataclass
class Reply:
    status: int
    body: Any
    headers: Any

    @property
    def cookies(self) -> list[str]:
        return list(self.headers.getall("Set-Cookie", []))


class Mod:
    """One moderator's browser: a session cookie and the CSRF token.

    `source`: the loopback address (127.0.0.x) its connections come from, so tests can
    sign in from many addresses on one machine."""

    def __init__(self, base: str, source: str | None = None) -> None:
        self.base = base
        connector = None if source is None else aiohttp.TCPConnector(local_addr=(source, 0))
        self.http = aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar(),
                                          connector=connector)
        self.cookie: str | None = None
        self.csrf: str | None = None
        self.feeds: list[Feed] = []

    async def __aenter__(self) -> Mod:
        return self

    async def __aexit__(self, *exc: object) -> None:
        for feed in self.feeds:
            await feed.close()
        await self.http.close()

    async def request(self, method: str, path: str, body: Any = None, *, csrf: bool = True,
                      headers: dict[str, str] | None = None) -> Reply:
        sent = {"Origin": self.base, **(headers or {})}
        if self.cookie:
            sent["Cookie"] = self.cookie
        if csrf and self.csrf and method not in ("GET", "HEAD"):
            sent["X-CSRF-Token"] = self.csrf
        data = None if body is None else json.dumps(body)
        if data is not None:
            sent["Content-Type"] = "application/json"
        async with self.http.request(method, self.base + path, data=data, headers=sent,
                                     allow_redirects=False) as resp:
            raw = await resp.read()
            parsed = json.loads(raw) if raw and resp.content_type == "application/json" else None
            return Reply(resp.status, parsed, resp.headers)

    async def get(self, path: str) -> Reply:
        return await self.request("GET", path)

    async def post(self, path: str, body: Any = None, **kw: Any) -> Reply:
        return await self.request("POST", path, {} if body is None else body, **kw)

    async def login(self, username: str, password: str = PASSWORD) -> Reply:
        reply = await self.request("POST", "/api/moderator/login",
                                   {"username": username, "password": password})
        if reply.status == 200:
            jar: SimpleCookie = SimpleCookie()
            for header in reply.cookies:
                jar.load(header)
            self.cookie = "; ".join(f"{k}={m.value}" for k, m in jar.items())
            self.csrf = reply.body["csrf"]
        return reply

    async def feed(self, origin: str | None = "same", cookie: bool = True) -> Feed:
        headers = {}
        if cookie and self.cookie:
            headers["Cookie"] = self.cookie
        ws = await connect(self.base.replace("http", "ws", 1) + "/ws/moderate",
                           origin=self.base if origin == "same" else origin,
                           additional_headers=headers, open_timeout=TIMEOUT, close_timeout=2)
        feed = Feed(ws)
        self.feeds.append(feed)
        return feed

    async def refused(self, **kw: Any) -> int:
        """The HTTP status that refuses a feed handshake."""
        try:
            await self.feed(**kw)
        except InvalidStatus as exc:
            return exc.response.status_code
        raise AssertionError("the feed handshake was accepted")

    async def audit(self) -> list[dict[str, Any]]:
        reply = await self.get("/api/audit?limit=500")
        assert reply.status == 200, reply
        return list(reply.body["entries"])


class Feed:
    """The /ws/moderate socket, with bounded waits."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.raw: list[str] = []

    async def recv(self, wait: float = TIMEOUT) -> dict[str, Any]:
        try:
            raw = await asyncio.wait_for(self.ws.recv(), wait)
        except TimeoutError:
            raise AssertionError(f"no frame on the feed within {wait} s") from None
        assert isinstance(raw, str)
        self.raw.append(raw)
        frame = json.loads(raw)
        assert isinstance(frame, dict) and isinstance(frame.get("type"), str), raw
        return frame

    async def until(self, test: Any, wait: float = TIMEOUT) -> dict[str, Any]:
        """The first frame for which `test(frame)` is true, within `wait` seconds."""
        deadline = time.monotonic() + wait
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no matching frame within {wait} s; got {self.raw[-5:]}")
            frame = await self.recv(left)
            if test(frame):
                return frame

    async def closed(self, wait: float = TIMEOUT) -> int | None:
        """Read until the server closes; its close code."""
        deadline = time.monotonic() + wait
        try:
            while time.monotonic() < deadline:
                await asyncio.wait_for(self.ws.recv(), deadline - time.monotonic())
        except ConnectionClosed as exc:
            return exc.rcvd.code if exc.rcvd else None
        except TimeoutError:
            pass
        raise AssertionError(f"the feed is still open after {wait} s")

    async def close(self) -> None:
        with contextlib.suppress(TimeoutError, OSError, ConnectionClosed):
            await asyncio.wait_for(self.ws.close(), 2)


def queue_has(ticket: str) -> Any:
    return lambda f: (f["type"] in ("snapshot", "queue_changed")
                      and any(e["ticket"] == ticket for e in f["queue"]))


def queue_lacks(ticket: str) -> Any:
    return lambda f: (f["type"] in ("snapshot", "queue_changed")
                      and all(e["ticket"] != ticket for e in f["queue"]))


def files_containing(root: Path, needle: bytes) -> list[str]:
    return [str(p) for p in sorted(root.rglob("*")) if p.is_file() and needle in p.read_bytes()]
