"""`bridgechat copy-data --from URL --to URL`: move the store to another database.

The move from the embedded default to PostgreSQL (docs/backup.md, step by
step):

    bridgechat copy-data --from sqlite:///bridgechat-data/bridgechat.db \\
        --to postgresql://bridgechat:PASSWORD@db.example.org/bridgechat

`--from` also takes the SQLite file or the data dir itself. The target is
migrated to the newest schema and must hold no rows; every table is copied
with its keys, then counted on both sides and the counts printed. Exit
codes: 0 when every count matches, 1 when one differs or the copy failed
(rolled back), 2 when it was refused before anything was written (one
plain line saying why). The work itself is in bridgechat.store.transfer,
the only place that talks to the databases.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bridgechat.store.base import sqlite_url
from bridgechat.store.transfer import BATCH, Copied, CopyFailed, CopyRefused, copy_store, shown_url

REFUSED = 2
FAILED = 1


def source_url(given: str) -> str:
    """A URL as it is; a data dir or a SQLite file as the sqlite:/// URL of that file."""
    if "://" in given:
        return given
    path = Path(given)
    if path.is_dir():
        return sqlite_url(path)
    return f"sqlite:///{path}"


def _table(copied: Copied) -> list[str]:
    width = max(len(c.table) for c in copied.counts)
    lines = [f"{'table':<{width}}  {'source':>8}  {'target':>8}"]
    for c in copied.counts:
        mark = "" if c.matches else "  DIFFERS"
        lines.append(f"{c.table:<{width}}  {c.source:>8}  {c.target:>8}{mark}")
    return lines


def _key_note(copied: Copied, source: str) -> str:
    where = ""
    if source.startswith("sqlite:///"):
        key_file = Path(source.removeprefix("sqlite:///")).parent / "report.key"
        if key_file.is_file():
            where = f" (the old node's key is in {key_file})"
    if not copied.report_keys:
        return ("No report was copied. Still give the new nodes the old node's report key"
                f"{where}, so all reports stay readable with one key.")
    return (f"Reports were copied still sealed: start every new node with the report key "
            f"they were sealed with{where}, as BRIDGECHAT_REPORT_KEY or --report-key-file; "
            f"its fingerprint is {', '.join(copied.report_keys)}.")


def copy_data(args: argparse.Namespace) -> int:
    source = source_url(args.source)
    print(f"Copying {shown_url(source)} to {shown_url(args.target)}", flush=True)

    def progress(table: str, rows: int) -> None:
        print(f"  copied {table}: {rows} rows", flush=True)

    try:
        copied = copy_store(source, args.target, batch=args.batch, progress=progress)
    except CopyRefused as exc:
        print(f"Nothing copied. {exc}", file=sys.stderr)
        return REFUSED
    except CopyFailed as exc:
        print(str(exc), file=sys.stderr)
        return FAILED
    print("\n".join(_table(copied)))
    if not copied.matches:
        differ = ", ".join(c.table for c in copied.counts if not c.matches)
        print(f"The row counts differ in {differ}: do not use the target. Was a node still "
              "writing to the source? Stop it, empty the target and copy again.",
              file=sys.stderr)
        return FAILED
    total = sum(c.source for c in copied.counts)
    print(f"Copied {total} rows in {len(copied.counts)} tables; every count matches.")
    print(_key_note(copied, source))
    return 0


def _batch(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number above zero, not {text!r}")
    return value


def add_data_commands(sub: Any,
                      where: Callable[[argparse.ArgumentParser], None] | None = None) -> None:
    """Add `copy-data` to the top-level subparsers.

    It names both databases by URL, so `where` (the --data-dir/--database
    options of commands that open one store) is not used; it is accepted so
    every operator command is added the same way.
    """
    del where
    c = sub.add_parser(
        "copy-data", help="copy the store into an empty database (SQLite to PostgreSQL)",
        description="Copy every table of the store into an empty database, migrated to the "
                    "newest schema first, then compare the row counts of every table. Stop "
                    "the node first. Exit 0: copied, counts match; 1: counts differ or the "
                    "copy failed (rolled back); 2: refused, nothing written.")
    c.add_argument("--from", dest="source", required=True, metavar="URL",
                   help="the store to copy: a database URL, a SQLite file or a data dir "
                        "(e.g. sqlite:///bridgechat-data/bridgechat.db)")
    c.add_argument("--to", dest="target", required=True, metavar="URL",
                   help="an empty database, e.g. postgresql://USER:PASSWORD@HOST/DB")
    c.add_argument("--batch", type=_batch, default=BATCH,
                   help=f"rows read and written at a time (default {BATCH})")
    c.set_defaults(func=copy_data)
