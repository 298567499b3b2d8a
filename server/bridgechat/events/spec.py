"""What an event and a sign-up may say: one validation for the API and the CLI.

An admin writes times as wall-clock time in the event's zone ("2026-12-10T18:00"
with tz "Europe/Berlin"), as the announcement will say them; they are kept as
UTC epoch seconds. Each problem is an `EventError` with a stable code for
programs and plain words for people.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Collection
from datetime import UTC, datetime
from typing import Any, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from bridgechat.core.deck import Deck
from bridgechat.core.protocol import Mode, Stance
from bridgechat.node.queue import LANGUAGE
from bridgechat.store import hash_token
from bridgechat.store.events import Event

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{2,63}$")
MODES = frozenset(get_args(Mode))
STANCES = frozenset(get_args(Stance))
MAX_TITLE, MAX_DESCRIPTION, MAX_PROMPTS, MAX_LANGS = 200, 2000, 20, 5
LENGTHS = range(5, 241)
# What a lobby ticket is made from: fixed once the lobby is open.
LOCKED = ("starts", "mode", "group", "prompts")
FIELDS = frozenset({"slug", "title", "description", "starts", "tz", "signup_deadline",
                    "length_min", "prompts", "mode", "group", "invite_code", "note"})


class EventError(ValueError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def zone(name: object) -> ZoneInfo:
    if not isinstance(name, str) or name not in available_timezones():
        raise EventError("bad_timezone", "tz is a time zone name such as Europe/Berlin "
                                         "or America/New_York.")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise EventError("bad_timezone", f"The time zone {name} is not known here.") from None


def moment(value: object, tz: ZoneInfo, what: str) -> float:
    """Epoch seconds of "YYYY-MM-DDTHH:MM" in `tz` (or of a time with its own offset)."""
    try:
        if not isinstance(value, str) or len(value) > 40:
            raise ValueError
        at = datetime.fromisoformat(value)
    except ValueError:
        raise EventError("bad_time", f"{what} is a date and time such as "
                                     "2026-12-10T18:00.") from None
    if at.tzinfo is None:
        at = at.replace(tzinfo=tz)
    return at.timestamp()


def local_iso(at: float, tz: str) -> str:
    """ISO 8601 with the zone's offset at that moment (to the minute when that is exact)."""
    moment = datetime.fromtimestamp(at, ZoneInfo(tz))
    return moment.isoformat(timespec="seconds" if moment.second else "minutes")


def utc_iso(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def texts(value: object, langs: Collection[str], field: str, limit: int,
          required: bool) -> dict[str, str]:
    if value is None and not required:
        return {}
    if not isinstance(value, dict) or (required and not value):
        raise EventError(f"bad_{field}", f"The {field} is given per language, such as "
                                         f'{{"en": "..."}}.')
    out: dict[str, str] = {}
    for lang, text in value.items():
        if lang not in langs:
            raise EventError(f"bad_{field}", f"{lang} is not one of the deck's languages ("
                                             + ", ".join(sorted(langs)) + ").")
        if not isinstance(text, str) or not text.strip() or len(text) > limit:
            raise EventError(f"bad_{field}", f"Each {field} is 1 to {limit} characters.")
        out[lang] = text.strip()
    return out


def event_fields(body: dict[str, Any], deck: Deck, known_prompts: Collection[str], now: float,
                 before: Event | None = None, lobby_s: float = 0.0) -> dict[str, Any]:
    """The columns `body` sets: all of a new event's (before=None), or an edit's changes.
    Every rule is checked on the event as it would be after the change. Once the lobby is
    open (`lobby_s` before the start), what the waiting members' tickets were made from
    is fixed (LOCKED)."""
    unknown = sorted(set(body) - FIELDS)
    if unknown:
        raise EventError("unknown_field", "Unknown field: " + ", ".join(unknown) + ".")
    out: dict[str, Any] = {}
    if before is None:
        slug = body.get("slug") or "".join(secrets.choice("abcdefghijkmnpqrstuvwxyz23456789")
                                           for _ in range(8))
        if not isinstance(slug, str) or not SLUG.match(slug):
            raise EventError("bad_slug", "A slug is 3 to 64 lower-case letters, digits or "
                                         "dashes, starting with a letter or digit.")
        out["slug"] = slug
        for need in ("title", "starts", "tz", "prompts"):
            if body.get(need) in (None, "", [], {}):
                raise EventError(f"missing_{need}", f"A new event needs {need}.")
    elif "slug" in body and body["slug"] != before.slug:
        raise EventError("slug_fixed", "An event's slug cannot change: its link is shared.")
    langs = deck.languages()
    if "title" in body:
        out["titles"] = texts(body["title"], langs, "title", MAX_TITLE, True)
    if "description" in body:
        out["descriptions"] = texts(body["description"], langs, "description",
                                    MAX_DESCRIPTION, False)
    tz_name = body.get("tz", before.tz if before else None)
    tz = zone(tz_name)
    out["tz"] = tz_name
    if "starts" in body:
        out["starts"] = moment(body["starts"], tz, "starts")
        if out["starts"] <= now:
            raise EventError("in_the_past", "The start must be in the future.")
    if "signup_deadline" in body and body["signup_deadline"] not in (None, ""):
        out["signup_deadline"] = moment(body["signup_deadline"], tz, "signup_deadline")
        if out["signup_deadline"] <= now:
            raise EventError("in_the_past", "The sign-up deadline must be in the future.")
    elif before is None or "signup_deadline" in body:
        out["signup_deadline"] = out.get("starts", before.starts if before else 0.0)
    starts = out.get("starts", before.starts if before else 0.0)
    if out.get("signup_deadline", before.signup_deadline if before else 0.0) > starts:
        raise EventError("times_out_of_order", "The sign-up deadline must be at or before "
                                               "the start.")
    if "length_min" in body or before is None:
        length = body.get("length_min", 30)
        if isinstance(length, bool) or not isinstance(length, int) or length not in LENGTHS:
            raise EventError("bad_length", "length_min is a whole number of minutes, "
                                           "5 to 240.")
        out["length_min"] = length
    if "prompts" in body:
        prompts = body["prompts"]
        if (not isinstance(prompts, list) or not 1 <= len(prompts) <= MAX_PROMPTS
                or len(set(map(str, prompts))) != len(prompts)):
            raise EventError("bad_prompts", f"prompts lists 1 to {MAX_PROMPTS} different "
                                            "prompt ids.")
        missing = [p for p in prompts if not isinstance(p, str) or p not in known_prompts]
        if missing:
            raise EventError("unknown_prompt", "These prompts are not in the deck: "
                                               + ", ".join(map(str, missing)) + ".")
        out["prompts"] = list(prompts)
    if "mode" in body or before is None:
        if body.get("mode", "bridge") not in MODES:
            raise EventError("bad_mode", "mode is " + ", ".join(sorted(MODES)) + ".")
        out["mode"] = body.get("mode", "bridge")
    if "group" in body or before is None:
        group = body.get("group", 2)
        if isinstance(group, bool) or group not in (2, 3, 4):
            raise EventError("bad_group", "group is 2, 3 or 4 people a conversation.")
        out["group"] = group
    if "invite_code" in body:
        code = body["invite_code"]
        if code in (None, ""):
            out["invite_hash"] = None
        elif not isinstance(code, str) or not 4 <= len(code) <= 64:
            raise EventError("bad_invite_code", "An invite code is 4 to 64 characters.")
        else:
            out["invite_hash"] = hash_token(code)
    if before is not None and now >= before.starts - lobby_s:
        changed = [k for k in LOCKED if k in out and out[k] != getattr(before, k)]
        if changed:
            raise EventError("lobby_open", "Members are already waiting in the lobby for "
                             "this event, so its " + ", ".join(changed) + " can no longer "
                             "change. Cancel it and announce a new one instead.")
    return out


def answers(body: dict[str, Any], event: Event, deck: Deck, interface: Collection[str]
            ) -> dict[str, Any]:
    """A sign-up's answers, checked against the event and the deck, in a fixed shape."""
    prompts, languages = body.get("prompts"), body.get("languages")
    learning, profile = body.get("learning") or [], body.get("profile") or {}
    stances, lang = body.get("stances") or {}, body.get("lang") or "en"
    if (not isinstance(prompts, list) or not 1 <= len(prompts) <= len(event.prompts)
            or any(p not in event.prompts for p in prompts)):
        raise EventError("bad_prompts", "Choose one or more of this event's prompts.")
    for langs, need in ((languages, 1), (learning, 0)):
        if (not isinstance(langs, list) or not need <= len(langs) <= MAX_LANGS
                or any(not isinstance(x, str) or not LANGUAGE.match(x) for x in langs)):
            raise EventError("bad_language", "Languages are two-letter codes such as en or "
                                             f"de, 1 to {MAX_LANGS} of them.")
    if not isinstance(profile, dict) or any(
            (dim := deck.dimension(k)) is None or v not in dim.buckets
            for k, v in profile.items()):
        raise EventError("bad_profile", "A profile answer does not match the questions "
                                        "offered.")
    if not isinstance(stances, dict) or any(p not in prompts or s not in STANCES
                                            for p, s in stances.items()):
        raise EventError("bad_stance", "A stance is agree, disagree or unsure, on one of "
                                       "your prompts.")
    if lang not in interface:
        lang = "en"
    return {"prompts": list(dict.fromkeys(prompts)),
            "languages": list(dict.fromkeys(languages or [])),
            "learning": list(dict.fromkeys(learning)), "profile": dict(sorted(profile.items())),
            "stances": dict(sorted(stances.items())), "lang": lang}
