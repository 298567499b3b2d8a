"""`bridgechat moderator add|remove|list`.

The password comes from standard input, one line, the newline not part of
it, so it never shows in a process list or a shell history; from a
terminal it is asked for without echo. Each account change lands in the
audit log as done by "command line", in the same transaction as the change.
"""

from __future__ import annotations

import argparse
import getpass
import sys
import time
from collections.abc import Callable
from typing import Any

from bridgechat.moderation.passwords import (
    ROLES,
    hash_password,
    normal_username,
    password_problem,
    username_problem,
)
from bridgechat.store import Store, sqlite_url
from bridgechat.store.moderation import AuditEntry

OPERATOR = "command line"


def read_password() -> str:
    if sys.stdin.isatty():
        return getpass.getpass("Password for the new moderator: ")
    line = sys.stdin.readline()
    return line.removesuffix("\n").removesuffix("\r")


def open_store(args: argparse.Namespace) -> Store:
    """The store the effective settings name (flags, environment, --config)."""
    settings = args.effective.settings
    if settings.database:
        return Store(settings.database)
    settings.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    return Store(sqlite_url(settings.data_dir))


def _add(args: argparse.Namespace) -> int:
    name = normal_username(args.name)
    trouble = username_problem(name)
    password = read_password()
    trouble = trouble or password_problem(password)
    if trouble:
        print(trouble, file=sys.stderr)
        return 1
    store = open_store(args)
    try:
        entry = AuditEntry(at=time.time(), moderator=OPERATOR, action="moderator.add",
                           target=f"moderator:{name}", note=f"role {args.role}")
        if not store.add_moderator(name, args.role, hash_password(password), time.time(),
                                   entry):
            print(f"A moderator named {name} already exists; remove it first to replace it.",
                  file=sys.stderr)
            return 1
    finally:
        store.close()
    print(f"Added {args.role} {name}. They can sign in at /moderate.html.")
    return 0


def _remove(args: argparse.Namespace) -> int:
    name = normal_username(args.name)
    store = open_store(args)
    try:
        entry = AuditEntry(at=time.time(), moderator=OPERATOR, action="moderator.remove",
                           target=f"moderator:{name}")
        if not store.remove_moderator(name, entry):
            print(f"There is no moderator named {name}.", file=sys.stderr)
            return 1
    finally:
        store.close()
    print(f"Removed {name}; their open sessions end within a few seconds.")
    return 0


def _list(args: argparse.Namespace) -> int:
    store = open_store(args)
    try:
        for name, role in store.moderators():
            print(f"{name}\t{role}")
    finally:
        store.close()
    return 0


def add_moderator_command(sub: Any, where: Callable[[argparse.ArgumentParser], None]) -> None:
    """Add the `moderator` command; `where` adds the options that locate the store."""
    m = sub.add_parser("moderator", help="add, remove or list moderator accounts")
    verbs = m.add_subparsers(dest="verb", required=True)

    a = verbs.add_parser("add", help="add an account; the password is read from standard input")
    a.add_argument("name")
    a.add_argument("--role", choices=ROLES, default="moderator",
                   help="admins also manage invite codes and read the audit log")
    where(a)
    a.set_defaults(func=_add)
    r = verbs.add_parser("remove", help="remove an account and end its sessions")
    r.add_argument("name")
    where(r)
    r.set_defaults(func=_remove)
    ls = verbs.add_parser("list", help="list accounts and their roles")
    where(ls)
    ls.set_defaults(func=_list)
