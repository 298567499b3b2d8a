"""Moderator sign-in: sessions in a cookie, CSRF tokens, login limits, the audit helper.

The session token is 256 random bits in an HttpOnly, SameSite=Strict
cookie (Secure and `__Host-` prefixed when served over TLS); the store
keeps only its SHA-256. The CSRF token is an HMAC of the session token, so
nothing more is stored and the token dies with the session; a page on
another site can neither read the cookie nor compute the token.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal

from aiohttp import web

from bridgechat.moderation.lanes import SlowLanes
from bridgechat.moderation.passwords import Busy, Passwords, normal_username
from bridgechat.moderation.throttle import LoginLimits
from bridgechat.node import Node
from bridgechat.privacy.addresses import AddressHasher
from bridgechat.settings import Settings
from bridgechat.store import hash_token
from bridgechat.store.moderation import AuditEntry
from bridgechat.web.keys import GATE, NODE, SETTINGS
from bridgechat.web.origin import origin_allowed

log = logging.getLogger("bridgechat.moderation")

COOKIE = "bridgechat_mod"
TLS_COOKIE = "__Host-bridgechat_mod"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
MAX_BODY = 16 * 1024
MAX_NOTE = 1000
Role = Literal["moderator", "admin"]


class _TooLarge(web.HTTPClientError):
    status_code = 413


_ERRORS: dict[int, type[web.HTTPException]] = {c.status_code: c for c in (
    web.HTTPBadRequest, web.HTTPUnauthorized, web.HTTPForbidden, web.HTTPNotFound,
    web.HTTPConflict, _TooLarge, web.HTTPTooManyRequests, web.HTTPServiceUnavailable)}


def problem(status: int, code: str, message: str,
            headers: dict[str, str] | None = None) -> web.HTTPException:
    """An HTTP error with a stable code for programs and plain words for people."""
    return _ERRORS[status](headers=headers, content_type="application/json",
                           text=json.dumps({"error": code, "message": message}))


async def read_json(request: web.Request) -> dict[str, Any]:
    if (request.content_length or 0) > MAX_BODY:
        raise problem(413, "too_large", "That request is too large.")
    raw = await request.read()  # bounded by the app's client_max_size when chunked
    if len(raw) > MAX_BODY:
        raise problem(413, "too_large", "That request is too large.")
    try:
        body = json.loads(raw or b"{}")
    except ValueError:
        raise problem(400, "bad_json", "The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise problem(400, "bad_request", "The request body must be a JSON object.")
    if not storable(body):
        raise problem(400, "bad_text", "Some text in this request cannot be stored: it holds "
                                       "a broken character (a lone surrogate) or NUL.")
    return body


def storable(body: object) -> bool:
    """No text in a decoded body holds a lone surrogate (valid as a JSON escape, but not
    UTF-8) or NUL (which PostgreSQL refuses): checked before anything is done, so an
    action cannot happen and then fail to reach the audit log. Iterative: a deep body
    cannot exhaust the stack here."""
    stack = [body]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return False
            try:
                item.encode()
            except UnicodeEncodeError:
                return False
        elif isinstance(item, dict):
            stack.extend(item)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return True


def note_of(body: dict[str, Any], required: bool) -> str | None:
    note = body.get("note")
    if note is None and not required:
        return None
    if not isinstance(note, str) or not note.strip() or len(note) > MAX_NOTE:
        raise problem(400, "note_required", f"Say why in a note (1 to {MAX_NOTE} characters): "
                                            "it goes into the audit log.")
    return note.strip()


def csrf_for(token: str) -> str:
    mac = hmac.new(token.encode(), b"bridgechat csrf v1", hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


@dataclass(frozen=True, slots=True)
class Account:
    """The moderator behind a request."""

    username: str
    role: str
    token_hash: str
    expires: float


class Auth:
    """Sessions, login limits and the audit log, for one node."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.passwords = Passwords(settings.login_hash_workers, settings.login_hash_queue)
        self.addresses = AddressHasher()
        self.limits = LoginLimits(settings.login_name_attempts, settings.login_address_attempts,
                                  settings.login_window, settings.login_tracked)
        self.lanes = SlowLanes(settings.login_name_delay, settings.login_name_queue,
                               settings.login_slow_queue)
        self._node: Node | None = None
        # Called with a session's token hash when it ends (live.py closes its sockets).
        self.on_end: list[Callable[[str], None]] = []

    def attach(self, node: Node) -> None:
        self._node = node

    @property
    def node(self) -> Node:
        if self._node is None:
            raise RuntimeError("moderation used before the server started")
        return self._node

    def close(self) -> None:
        self.passwords.close()

    # -- sessions ---------------------------------------------------------------

    def over_tls(self, request: web.Request) -> bool:
        return request.secure or (self.settings.public_url or "").startswith("https://")

    @staticmethod
    def token(request: web.Request) -> str | None:
        return request.cookies.get(TLS_COOKIE) or request.cookies.get(COOKIE)

    def check_csrf(self, request: web.Request) -> None:
        token, sent = self.token(request), request.headers.get(CSRF_HEADER, "")
        if not sent or token is None or not hmac.compare_digest(sent, csrf_for(token)):
            raise problem(403, "csrf", "This request lacks a valid X-CSRF-Token header. "
                                       "Reload the dashboard and try again.")

    async def current(self, request: web.Request, touch: bool = True) -> Account | None:
        token = self.token(request)
        if token is None:
            return None
        return await self.account(hash_token(token), touch)

    async def account(self, token_hash: str, touch: bool = False) -> Account | None:
        got = await self.node.db(self.node.store.session_account, token_hash, time.time(),
                                self.settings.moderator_idle, touch)
        return None if got is None else Account(got[0], got[1], token_hash, got[2])

    async def audit(self, who: str, action: str, target: str, note: str | None = None) -> None:
        """Write an entry on its own: for an action held only in memory, written before
        the action (which does not happen if this fails)."""
        await self.node.db(self.node.store.audit, who, action, target, note, time.time())

    @staticmethod
    def entry(who: str, action: str, target: str, note: str | None = None) -> AuditEntry:
        """An entry for a store method to write in the same transaction as its action."""
        return AuditEntry(at=time.time(), moderator=who, action=action, target=target,
                          note=note)

    def set_cookie(self, request: web.Request, resp: web.StreamResponse, token: str) -> None:
        tls = self.over_tls(request)
        resp.set_cookie(TLS_COOKIE if tls else COOKIE, token, path="/", httponly=True,
                        secure=tls, samesite="Strict",
                        max_age=int(self.settings.moderator_session))

    def clear_cookie(self, request: web.Request, resp: web.StreamResponse) -> None:
        tls = self.over_tls(request)
        resp.del_cookie(TLS_COOKIE if tls else COOKIE, path="/", secure=tls, httponly=True,
                        samesite="Strict")


AUTH = web.AppKey("moderation_auth", Auth)
Guarded = Callable[[web.Request, Account], Awaitable[web.StreamResponse]]


def guarded(role: Role = "moderator") -> Callable[[Guarded], Callable[
        [web.Request], Awaitable[web.StreamResponse]]]:
    """CSRF first (for anything that changes state), then the session, then the role."""

    def wrap(fn: Guarded) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def handler(request: web.Request) -> web.StreamResponse:
            auth = request.app[AUTH]
            if request.method not in SAFE_METHODS:
                auth.check_csrf(request)
                # The token already stops a forged request; a foreign Origin on top of a
                # valid token means a page elsewhere got hold of it, so it is refused too.
                if not origin_allowed(request, auth.settings, missing_ok=True):
                    raise problem(403, "bad_origin", "Act only from the dashboard of this "
                                                     "server.")
            who = await auth.current(request)
            if who is None:
                raise problem(401, "not_signed_in", "Sign in as a moderator first; "
                                                    "your session may have ended.")
            if role == "admin" and who.role != "admin":
                raise problem(403, "admin_only", "Only an admin may do this.")
            resp = await fn(request, who)
            # Report evidence and the like must not linger in a browser's or proxy's cache.
            resp.headers["Cache-Control"] = "no-store"
            return resp

        handler.__name__ = fn.__name__
        return handler

    return wrap


# -- handlers -------------------------------------------------------------------


async def login(request: web.Request) -> web.Response:
    auth, settings = request.app[AUTH], request.app[SETTINGS]
    # A cross-site form cannot read the answer, but it could sign a browser in as someone else.
    if not origin_allowed(request, settings, missing_ok=True):
        raise problem(403, "bad_origin", "Sign in from the dashboard of this server.")
    body = await read_json(request)
    name, password = body.get("username"), body.get("password")
    if not isinstance(name, str) or not isinstance(password, str):
        raise problem(400, "bad_request", "Send a username and a password, both as text.")
    name = normal_username(name)[:64]
    now = time.time()
    # Behind a proxy, the address it forwarded (--trusted-proxy), as for members.
    address = auth.addresses.hash(request.app[GATE].address_of(request), now)
    wait = auth.limits.retry_after(address, now)
    if wait > 0:
        raise problem(429, "rate_limited", "Too many sign-in attempts from here. Wait a few "
                      "minutes and try again.", headers={"Retry-After": str(int(wait) + 1)})
    attempt = auth.limits.attempt(name, address, now)
    node = auth.node
    account = await node.db(node.store.moderator, name)
    stored, password = (account.password_hash if account else None), password[:4096]
    try:
        if attempt.slow:  # many attempts at this name: its checks wait their turn, one by one
            ok, rehash = await auth.lanes.run(
                name, attempt.rank, lambda: auth.passwords.check(stored, password, False))
        else:
            ok, rehash = await auth.passwords.check(stored, password)
    except Busy:
        auth.limits.take_back(attempt)  # never checked: it uses no attempt
        raise problem(503, "busy", "The server is busy checking other sign-ins. Try again "
                      "in a moment.", headers={"Retry-After": "2"}) from None
    if not ok or account is None:
        raise problem(401, "bad_credentials", "That username and password do not match.")
    auth.limits.take_back(attempt)
    if rehash:
        # Stronger parameters than this hash was made with: replace it while we have the password.
        with contextlib.suppress(Busy):
            await node.db(node.store.set_password_hash, name, await auth.passwords.hash(password))
    token = secrets.token_urlsafe(32)
    expires = now + settings.moderator_session
    await node.db(node.store.create_session, hash_token(token), name, now, expires,
                  auth.entry(name, "login", f"moderator:{name}"))
    log.info("moderator signed in", extra={"what": account.role})
    resp = web.json_response({"csrf": csrf_for(token), "username": name, "role": account.role,
                              "expires": min(expires, now + settings.moderator_idle)})
    auth.set_cookie(request, resp, token)
    resp.headers["Cache-Control"] = "no-store"
    return resp


@guarded()
async def logout(request: web.Request, who: Account) -> web.Response:
    auth = request.app[AUTH]
    await auth.node.db(auth.node.store.end_session, who.token_hash,
                       auth.entry(who.username, "logout", f"moderator:{who.username}"))
    for fn in auth.on_end:
        fn(who.token_hash)
    resp = web.Response(status=204)
    auth.clear_cookie(request, resp)
    return resp


@guarded()
async def session_info(request: web.Request, who: Account) -> web.Response:
    """Who is signed in, and the CSRF token again (for a reloaded dashboard)."""
    token = request.app[AUTH].token(request)
    assert token is not None
    return web.json_response({"username": who.username, "role": who.role,
                              "csrf": csrf_for(token), "expires": who.expires})


def setup_auth_routes(app: web.Application) -> None:
    app.router.add_post("/api/moderator/login", login)
    app.router.add_post("/api/moderator/logout", logout)
    app.router.add_get("/api/moderator/session", session_info)


__all__ = ["AUTH", "NODE", "Account", "Auth", "guarded", "problem", "read_json"]
