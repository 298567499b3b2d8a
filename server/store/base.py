"""The store: the little that is kept on disk, through SQLModel.

Only the modules of this package import sqlmodel. Nothing here holds message
text or a profile answer. SQLite is the default (one file under the data
dir, with secure_delete so erased rows are overwritten on disk),
PostgreSQL for many nodes. Calls are synchronous; the hub runs them on one
worker thread so the event loop never waits on disk.

`Store` gathers one mixin per concern (members, moderation, records), each
in its own module with its tables.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel, create_engine


def sqlite_url(data_dir: Path) -> str:
    return f"sqlite:///{data_dir / 'bridgechat.db'}"


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA secure_delete=ON")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


class StoreBase:
    """The engine; mixins add tables and methods."""

    engine: Engine

    def __init__(self, url: str) -> None:
        args: dict[str, Any] = {}
        if url.startswith("sqlite"):
            args["connect_args"] = {"check_same_thread": False}
        self.engine = create_engine(url, **args)
        if url.startswith("sqlite"):
            event.listen(self.engine, "connect", _sqlite_pragmas)
        SQLModel.metadata.create_all(self.engine)

    def close(self) -> None:
        self.engine.dispose()
