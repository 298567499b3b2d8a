"""Invite codes: an operator may require one to join (`serve --require-invite`).

A code is 16 characters of Crockford base32 (80 random bits), shown once
when an admin creates it; the store keeps only its SHA-256, which is safe
for a value that random. Reading is forgiving the way Crockford intends:
case, dashes and spaces do not matter, O reads as 0 and I or L as 1. Each
join admitted with a code counts as one use (a member's client sends the
code with every join), so a limit of uses is a limit of joins.
"""

from __future__ import annotations

import hashlib
import secrets
import time

from aiohttp import web

from bridgechat.core.protocol import iso
from bridgechat.moderation.auth import AUTH, Account, guarded, note_of, problem, read_json
from bridgechat.node import Node
from bridgechat.node.parts import InviteCheck
from bridgechat.store.moderation import InviteCode

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_CHARS = 16
MAX_USES = 1_000_000
_READ_AS = str.maketrans({"O": "0", "I": "1", "L": "1"})


def new_code() -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(CODE_CHARS))
    return "-".join(raw[i:i + 4] for i in range(0, CODE_CHARS, 4))


def normal_code(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum()).translate(_READ_AS)


def hash_code(code: str) -> str:
    return hashlib.sha256(normal_code(code).encode()).hexdigest()


def make_check(node: Node) -> InviteCheck:
    """The node's `invite_check`: a valid code admits the join and uses it up by one."""

    async def check(code: str | None) -> bool:
        if not code or len(normal_code(code)) != CODE_CHARS:
            return False
        return await node.db(node.store.use_invite, hash_code(code))

    return check


def _public(inv: InviteCode) -> dict[str, object]:
    return {"id": inv.id, "label": inv.label, "uses": inv.uses, "max_uses": inv.max_uses,
            "created": iso(inv.created), "created_by": inv.created_by, "revoked": inv.revoked}


@guarded("admin")
async def list_invites(request: web.Request, who: Account) -> web.Response:
    auth = request.app[AUTH]
    rows = await auth.node.db(auth.node.store.invites)
    return web.json_response({"required": auth.settings.require_invite,
                              "invites": [_public(r) for r in rows]})


@guarded("admin")
async def create_invite(request: web.Request, who: Account) -> web.Response:
    auth = request.app[AUTH]
    body = await read_json(request)
    label, max_uses = body.get("label", ""), body.get("max_uses")
    if not isinstance(label, str) or len(label) > 200:
        raise problem(400, "bad_label", "A label is text of at most 200 characters.")
    if max_uses is not None and (not isinstance(max_uses, int) or isinstance(max_uses, bool)
                                 or not 1 <= max_uses <= MAX_USES):
        raise problem(400, "bad_max_uses", "max_uses is a whole number from 1, or null for "
                                           "no limit.")
    code = new_code()
    inv = InviteCode(id=secrets.token_urlsafe(8), code_hash=hash_code(code), label=label.strip(),
                     max_uses=max_uses, created=time.time(), created_by=who.username)
    await auth.node.db(auth.node.store.add_invite, inv, auth.entry(
        who.username, "invite.create", f"invite:{inv.id}", inv.label or None))
    # The only time the code itself is shown: it is not kept.
    return web.json_response({**_public(inv), "code": code}, status=201)


@guarded("admin")
async def revoke_invite(request: web.Request, who: Account) -> web.Response:
    auth = request.app[AUTH]
    note = note_of(await read_json(request), required=False)
    invite_id = request.match_info["id"]
    if not await auth.node.db(auth.node.store.revoke_invite, invite_id,
                              auth.entry(who.username, "invite.revoke", f"invite:{invite_id}",
                                         note)):
        raise problem(404, "unknown_invite", "There is no such live invite code.")
    return web.Response(status=204)


def setup_invite_routes(app: web.Application) -> None:
    app.router.add_get("/api/invites", list_invites)
    app.router.add_post("/api/invites", create_invite)
    app.router.add_delete("/api/invites/{id}", revoke_invite)
