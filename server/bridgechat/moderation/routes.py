"""Moderators' HTTP API (docs/moderation.md): reports, prompts, rooms, the audit log.

Every handler is `guarded`: a state-changing request is refused with 403
unless it carries the CSRF token, before anything else is looked at; then
the session (401) and the role (403) are checked. Every action that
changes something lands once in the audit log with who, what, target, when
and the note the moderator gave: in the same transaction as the action when
the action is a database write, or written first when the action is held
only in memory (pausing a prompt, ending a room), so that no action happens
without its entry (docs/moderation.md, "Audit log").
"""

from __future__ import annotations

import re
from typing import Any, get_args, get_type_hints

from aiohttp import web

from bridgechat.core import protocol
from bridgechat.core.deck import Prompt
from bridgechat.core.protocol import iso
from bridgechat.moderation.auth import AUTH, Account, guarded, note_of, problem, read_json
from bridgechat.moderation.live import WATCH
from bridgechat.moderation.reports import ACTIONS, DESK, ReportKeyError

# The reason codes a member may give (docs/protocol.md, `report`).
REASONS = frozenset(get_args(get_type_hints(protocol.Report)["reason"]))
PROMPT_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
LANG_TAG = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")
MAX_DAYS = 3650.0


# -- reports ----------------------------------------------------------------------


@guarded()
async def list_reports(request: web.Request, who: Account) -> web.Response:
    status, reason, prompt = (request.query.get(k) for k in ("status", "reason", "prompt"))
    if status not in (None, "open", "resolved"):
        raise problem(400, "bad_status", "status is open or resolved.")
    if reason is not None and reason not in REASONS:
        raise problem(400, "bad_reason", "reason is one of " + ", ".join(sorted(REASONS)) + ".")
    if prompt is not None and not PROMPT_ID.match(prompt):
        raise problem(400, "bad_prompt_id", "A prompt id is 1 to 64 lower-case letters, "
                                            "digits, dashes or underscores.")
    return web.json_response({"reports": await request.app[DESK].listing(status, reason,
                                                                         prompt)})


@guarded()
async def show_report(request: web.Request, who: Account) -> web.Response:
    try:
        report = await request.app[DESK].detail(request.match_info["id"])
    except ReportKeyError as exc:
        raise problem(409, "wrong_key", str(exc)) from None
    if report is None:
        raise problem(404, "unknown_report", "There is no such report (it may have been "
                                             "deleted after its retention period).")
    return web.json_response(report)


RESOLVE_PROBLEMS = {
    "unknown_report": (404, "There is no such report."),
    "already_resolved": (409, "Another moderator has already resolved this report."),
    "nothing_verified": (409, "No message in this report was verified, so there is nobody "
                              "to warn or suspend; dismiss it instead."),
}


@guarded()
async def resolve_report(request: web.Request, who: Account) -> web.Response:
    body = await read_json(request)
    action, days = body.get("action"), body.get("days")
    if action not in ACTIONS:
        raise problem(400, "bad_action", "action is dismiss, warn or suspend.")
    note = note_of(body, required=True)
    if days is not None and (isinstance(days, bool) or not isinstance(days, int | float)
                             or not 0 < days <= MAX_DAYS):
        raise problem(400, "bad_days", f"days is a number above 0 and at most {MAX_DAYS:.0f}, "
                                       "or absent to suspend indefinitely.")
    report_id = request.match_info["id"]
    what = f"report.{action}" + (f" {days:g}d" if action == "suspend" and days else "")
    entry = request.app[AUTH].entry(who.username, what, f"report:{report_id}", note)
    try:
        trouble = await request.app[DESK].resolve(report_id, str(action), who.username,
                                                  None if days is None else float(days), entry)
    except ReportKeyError as exc:
        raise problem(409, "wrong_key", str(exc)) from None
    if trouble is not None:
        status, words = RESOLVE_PROBLEMS[trouble]
        raise problem(status, trouble, words)
    return web.json_response({"id": report_id, "status": "resolved", "action": action})


# -- prompts and rooms ------------------------------------------------------------


def prompt_list(request: web.Request) -> list[dict[str, Any]]:
    node = request.app[AUTH].node
    return [{"id": p.id, "text": p.text, "lang": p.lang, "paused": p.id in node.catalog.paused}
            for p in node.catalog.prompts.values()]


def prompts_changed(request: web.Request) -> None:
    watch = request.app[WATCH]
    watch.broadcast({"type": "prompts_changed", "prompts": prompt_list(request)})
    watch.poke("queue")  # a paused prompt can leave members stuck


@guarded()
async def list_prompts(request: web.Request, who: Account) -> web.Response:
    return web.json_response({"prompts": prompt_list(request)})


@guarded()
async def add_prompt(request: web.Request, who: Account) -> web.Response:
    body = await read_json(request)
    pid, text, lang = body.get("id"), body.get("text"), body.get("lang", "en")
    if not isinstance(pid, str) or not PROMPT_ID.match(pid):
        raise problem(400, "bad_prompt_id", "A prompt id is 1 to 64 lower-case letters, "
                                            "digits, dashes or underscores.")
    if not isinstance(text, str) or not text.strip() or len(text) > 500:
        raise problem(400, "bad_prompt_text", "A prompt's text is 1 to 500 characters.")
    if not isinstance(lang, str) or not LANG_TAG.match(lang) or len(lang) > 35:
        raise problem(400, "bad_language", "lang is a language tag such as en or pt-BR.")
    note = note_of(body, required=False)
    auth = request.app[AUTH]
    await auth.node.desk.set_prompt(Prompt(pid, text.strip(), lang), True,
                                    auth.entry(who.username, "prompt.add", f"prompt:{pid}", note))
    prompts_changed(request)
    return web.json_response({"id": pid, "text": text.strip(), "lang": lang}, status=201)


async def _prompt_action(request: web.Request, who: Account, action: str) -> web.Response:
    body = await read_json(request)
    note = note_of(body, required=False)
    pid = request.match_info["id"]
    node = request.app[AUTH].node
    prompt = node.catalog.prompts.get(pid)
    if prompt is None:
        raise problem(404, "unknown_prompt", "There is no active prompt with that id.")
    auth = request.app[AUTH]
    if action == "retire":
        await node.desk.set_prompt(prompt, False, auth.entry(who.username, "prompt.retire",
                                                             f"prompt:{pid}", note))
        node.desk.pause_prompt(pid, False)
    else:
        # Held in memory only: the entry is written first, and the pause follows it.
        await auth.audit(who.username, f"prompt.{action}", f"prompt:{pid}", note)
        node.desk.pause_prompt(pid, action == "pause")
    prompts_changed(request)
    return web.Response(status=204)


@guarded()
async def pause_prompt(request: web.Request, who: Account) -> web.Response:
    return await _prompt_action(request, who, "pause")


@guarded()
async def resume_prompt(request: web.Request, who: Account) -> web.Response:
    return await _prompt_action(request, who, "resume")


@guarded()
async def retire_prompt(request: web.Request, who: Account) -> web.Response:
    return await _prompt_action(request, who, "retire")


@guarded()
async def end_room(request: web.Request, who: Account) -> web.Response:
    body = await read_json(request)
    note = note_of(body, required=False)
    room_id = request.match_info["id"]
    auth = request.app[AUTH]
    # The room lives in the broker, not the database: the entry is written first, and the
    # room is ended only once it is stored (a room that closed in between stays closed).
    if not await auth.node.desk.live_room(room_id):
        raise problem(404, "unknown_room", "There is no live room with that id.")
    await auth.audit(who.username, "room.end", f"room:{room_id}", note)
    if not await auth.node.life.end(room_id, "moderator"):
        raise problem(404, "unknown_room", "There is no live room with that id.")
    return web.Response(status=204)


# -- audit ------------------------------------------------------------------------


@guarded("admin")
async def audit_log(request: web.Request, who: Account) -> web.Response:
    try:
        limit = min(500, max(1, int(request.query.get("limit", "100"))))
        before = int(request.query["before"]) if "before" in request.query else None
    except ValueError:
        raise problem(400, "bad_query", "limit and before are whole numbers.") from None
    node = request.app[AUTH].node
    rows = await node.db(node.store.audit_entries, limit, before)
    return web.json_response({"entries": [
        {"id": e.id, "at": iso(e.at), "moderator": e.moderator, "action": e.action,
         "target": e.target, "note": e.note} for e in rows]})


def setup_api_routes(app: web.Application) -> None:
    r = app.router
    r.add_get("/api/reports", list_reports)
    r.add_get("/api/reports/{id}", show_report)
    r.add_post("/api/reports/{id}/resolve", resolve_report)
    r.add_get("/api/prompts", list_prompts)
    r.add_post("/api/prompts", add_prompt)
    r.add_post("/api/prompts/{id}/pause", pause_prompt)
    r.add_post("/api/prompts/{id}/resume", resume_prompt)
    r.add_delete("/api/prompts/{id}", retire_prompt)
    r.add_post("/api/rooms/{id}/end", end_room)
    r.add_get("/api/audit", audit_log)
