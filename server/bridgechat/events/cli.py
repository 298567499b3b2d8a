"""`bridgechat event create|edit|cancel|list`: events from the command line.

The same checks as the moderators' API (events/spec.py), against the deck the
settings name; each change lands once in the audit log as done by "command
line", in the same transaction as the change. A problem prints its code and
plain words on standard error and exits 1.
"""

from __future__ import annotations

import argparse
import secrets
import sys
import time
from typing import Any

from bridgechat.deck_file import load_deck
from bridgechat.events.spec import MODES, EventError, event_fields, local_iso
from bridgechat.moderation.cli import OPERATOR, open_store
from bridgechat.operate.config import add_flags
from bridgechat.operate.options import WHERE
from bridgechat.store import Store
from bridgechat.store.events import Event
from bridgechat.store.moderation import AuditEntry

# The lobby's opening too: from then on, what members wait with may not change.
OPTIONS = (*WHERE, "deck", "lobby-minutes")


def per_language(pairs: list[str] | None, flag: str) -> dict[str, str] | None:
    if pairs is None:
        return None
    out: dict[str, str] = {}
    for pair in pairs:
        lang, sep, text = pair.partition("=")
        if not sep:
            raise EventError(f"bad_{flag}", f'--{flag} is LANG="text", such as en="Town talk".')
        out[lang.strip()] = text
    return out


def body_of(args: argparse.Namespace) -> dict[str, Any]:
    """The API's body for what the flags say (absent flags are left out)."""
    body: dict[str, Any] = {}
    title = per_language(args.title, "title")
    description = per_language(args.description, "description")
    for key, value in (("slug", getattr(args, "slug", None)), ("title", title),
                       ("description", description), ("starts", args.starts), ("tz", args.tz),
                       ("signup_deadline", args.signup_deadline),
                       ("length_min", args.length_min), ("prompts", args.prompt),
                       ("mode", args.mode), ("group", args.group),
                       ("invite_code", args.invite_code)):
        if value is not None:
            body[key] = value
    return body


def known_prompts(store: Store, deck_prompts: set[str]) -> set[str]:
    return deck_prompts | {p.id for p in store.active_prompts()}


def describe(event: Event, signups: int) -> str:
    state = "cancelled" if event.cancelled else ("over" if event.ends() <= time.time()
                                                 else "open")
    title = event.titles.get("en") or next(iter(event.titles.values()), "")
    return (f"{event.slug}\t{local_iso(event.starts, event.tz)}\t{event.tz}\t{state}\t"
            f"{signups} sign-ups\t{title}")


def _run(args: argparse.Namespace, change: str) -> int:
    settings = args.effective.settings
    deck = load_deck(settings.deck)
    store = open_store(args)
    try:
        now = time.time()
        body = {} if change == "cancel" else body_of(args)
        known = known_prompts(store, {p.id for p in deck.prompts})
        if change == "create":
            fields = event_fields(body, deck, known, now)
            event = Event(id=secrets.token_hex(8), created=now, **fields)
            audit = AuditEntry(at=now, moderator=OPERATOR, action="event.create",
                               target=f"event:{event.slug}")
            if not store.add_event(event, audit):
                raise EventError("slug_taken", f"Another event already has the slug "
                                               f"{event.slug}; choose another.")
            print(f"Created event {event.slug}: its page is /e/{event.slug}")
            return 0
        before = store.event_by_slug(args.slug)
        if before is None:
            raise EventError("unknown_event", f"There is no event {args.slug}.")
        if before.cancelled:
            raise EventError("event_cancelled", "This event was cancelled; create a new one.")
        if before.ends() <= now:
            raise EventError("event_over", "This event is over and can no longer change.")
        fields = ({"cancelled": True} if change == "cancel"
                  else event_fields(body, deck, known, now, before=before,
                                    lobby_s=settings.lobby_minutes * 60))
        audit = AuditEntry(at=now, moderator=OPERATOR, action=f"event.{change}",
                           target=f"event:{before.slug}")
        store.update_event(before.id, fields, audit)
        print(f"{'Cancelled' if change == 'cancel' else 'Changed'} event {before.slug}."
              + (" Its sign-ups are deleted." if change == "cancel" else ""))
        return 0
    except EventError as exc:
        print(f"{exc.code}: {exc.message}", file=sys.stderr)
        return 1
    finally:
        store.close()


def _list(args: argparse.Namespace) -> int:
    store = open_store(args)
    try:
        for event in store.events():
            print(describe(event, store.signup_count(event.id)))
    finally:
        store.close()
    return 0


def _fields(p: argparse.ArgumentParser, create: bool) -> None:
    if create:
        p.add_argument("--slug", help="the page's address, /e/SLUG (default: random)")
    p.add_argument("--title", action="append", metavar='LANG="TEXT"',
                   help="the title in one of the deck's languages (repeat for each)")
    p.add_argument("--description", action="append", metavar='LANG="TEXT"')
    p.add_argument("--starts", help="start, wall-clock time in --tz: 2026-12-10T18:00")
    p.add_argument("--tz", help="the event's time zone, such as Europe/Berlin")
    p.add_argument("--signup-deadline", help="last moment to sign up or change, in --tz "
                                             "(default: the start)")
    p.add_argument("--length-min", type=int, help="minutes a conversation lasts (default 30)")
    p.add_argument("--prompt", action="append", help="a deck prompt's id (repeat for each)")
    p.add_argument("--mode", choices=sorted(MODES))
    p.add_argument("--group", type=int, choices=(2, 3, 4), help="people per conversation")
    p.add_argument("--invite-code", help="a code members must give to sign up "
                                         "(edit: an empty value removes it)")


def _verb(verbs: Any, name: str, help: str) -> argparse.ArgumentParser:
    p: argparse.ArgumentParser = verbs.add_parser(name, help=help)
    add_flags(p, OPTIONS)
    p.set_defaults(options=OPTIONS)
    return p


def add_event_command(sub: Any) -> None:
    """Add the `event` command to the `bridgechat` parser."""
    e = sub.add_parser("event", help="create, edit, cancel or list events (conversation days)")
    verbs = e.add_subparsers(dest="verb", required=True)
    c = _verb(verbs, "create", "announce an event")
    _fields(c, create=True)
    c.set_defaults(func=lambda a: _run(a, "create"))
    ed = _verb(verbs, "edit", "change an event before it ends")
    ed.add_argument("slug")
    _fields(ed, create=False)
    ed.set_defaults(func=lambda a: _run(a, "edit"))
    ca = _verb(verbs, "cancel", "cancel an event; its sign-ups are deleted")
    ca.add_argument("slug")
    ca.set_defaults(func=lambda a: _run(a, "cancel"))
    ls = _verb(verbs, "list", "list events: slug, start, zone, state, sign-ups, title")
    ls.set_defaults(func=_list)
