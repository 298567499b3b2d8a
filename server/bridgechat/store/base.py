"""The store: the little that is kept on disk, through SQLModel.

Only the modules of this package import sqlmodel. Nothing here holds message
text or a profile answer. SQLite is the default (one file under the data
dir, with secure_delete so erased rows are overwritten on disk),
PostgreSQL for many nodes. Calls are synchronous; the node runs them on one
worker thread so the event loop never waits on disk.

`Store` gathers one mixin per concern (members, moderation, records), each
in its own module with its tables.

The schema comes from the alembic revisions in server/bridgechat/migrations/, on
PostgreSQL and on SQLite alike: `StoreBase` runs `alembic upgrade head` when
it opens a database. One path for both means the embedded default gets the
same schema changes as a cluster when an operator upgrades (create_all only
ever adds missing tables, never a column), and the revisions are exercised
by every test that opens a store. Nodes that start together take a lock
first (a PostgreSQL advisory lock, or a lock file beside the SQLite file)
so only one of them migrates.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, event, inspect, make_url, text
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel, create_engine

log = logging.getLogger("bridgechat.store")
# Alembic narrates every start at INFO (plugins, context, "will assume...");
# migrate() logs the one line that matters: which revisions it applied.
logging.getLogger("alembic").setLevel(logging.WARNING)

# Every table of every mixin, once bridgechat.store has imported them all;
# server/bridgechat/migrations/env.py compares revisions against it.
metadata = SQLModel.metadata

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"

# The revision that the first release's schema was made by; see _adopt_legacy.
BASELINE = "0001"

# Any constant will do; it only has to be the same on every node.
_PG_LOCK_KEY = 0x6272_6964_6765  # "bridge"


def sqlite_url(data_dir: Path) -> str:
    return f"sqlite:///{data_dir / 'bridgechat.db'}"


def engine_url(url: str) -> str:
    """The URL to give SQLAlchemy: a bare postgresql:// means psycopg 3.

    SQLAlchemy would pick psycopg2 for a bare URL; we ship psycopg 3 (the
    `postgres` extra), so operators can write the URL every tool knows.
    """
    u = make_url(url)
    if u.drivername in ("postgresql", "postgres"):
        u = u.set(drivername="postgresql+psycopg")
    return u.render_as_string(hide_password=False)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA secure_delete=ON")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def migration_config(connection: Connection | None = None) -> Config:
    """An alembic Config for the packaged revisions, with no .ini file.

    With a connection, env.py migrates through it (the caller holds the lock
    and owns the transaction).
    """
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    head = ScriptDirectory.from_config(migration_config()).get_current_head()
    assert head is not None, "server/bridgechat/migrations has no revision"
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


@contextlib.contextmanager
def _sqlite_lock(engine: Engine) -> Iterator[None]:
    """Serialise migrations of one SQLite file across processes with flock."""
    db = engine.url.database
    if not db or db == ":memory:":
        yield
        return
    with open(f"{db}.migrate-lock", "a+b") as f:
        fcntl.flock(f, fcntl.LOCK_EX)  # released when the file closes
        yield


def _adopt_legacy(conn: Connection) -> None:
    """Stamp a database made by create_all before the revisions existed.

    Before migrations, the store made its tables with create_all and kept no
    alembic_version. Such a database holds some of the baseline revision's
    tables, exactly as that revision makes them; create_all adds the missing
    ones (it never touches an existing table), then it is stamped at the
    baseline and later revisions apply as usual. (A baseline table missing
    there and changed by a later revision would be made in its newer shape;
    no database from before migrations lacks one, so this stays simple.)
    """
    names = set(inspect(conn).get_table_names())
    if "alembic_version" in names or "member" not in names:
        return
    log.warning("adopting a database made before migrations existed; stamping %s", BASELINE)
    metadata.create_all(conn, tables=[t for t in metadata.sorted_tables
                                      if t.name in BASELINE_TABLES])
    command.stamp(migration_config(conn), BASELINE)


# The tables that the baseline revision makes (a test keeps the two in step).
BASELINE_TABLES = frozenset({
    "audit", "block", "conversation_record", "invite", "member", "moderator",
    "moderator_session", "prompt", "report",
})


def migrate(engine: Engine) -> str:
    """Bring the schema to the newest revision; return that revision."""
    head = head_revision()
    if engine.dialect.name == "postgresql":
        lock: contextlib.AbstractContextManager[None] = contextlib.nullcontext()
    else:
        lock = _sqlite_lock(engine)
    with lock, engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            # Transaction-scoped, so it is released even if a migration fails.
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})
        _adopt_legacy(conn)
        before = MigrationContext.configure(conn).get_current_revision()
        if before != head:
            command.upgrade(migration_config(conn), "head")
            log.info("database schema migrated",
                     extra={"what": f"{before or 'nothing'} -> {head}"})
    return head


def open_engine(url: str) -> Engine:
    args: dict[str, Any] = {}
    url = engine_url(url)
    if url.startswith("sqlite"):
        args["connect_args"] = {"check_same_thread": False}
    else:
        # A database server may restart under a long-running node; a dead pooled
        # connection is then replaced instead of failing the next call.
        args["pool_pre_ping"] = True
        # An unreachable server fails a call in seconds rather than at TCP's timeout.
        args["connect_args"] = {"connect_timeout": 10}
    engine = create_engine(url, **args)
    if url.startswith("sqlite"):
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


class StoreBase:
    """The engine, at the newest schema; mixins add tables and methods."""

    engine: Engine

    def __init__(self, url: str) -> None:
        self.engine = open_engine(url)
        try:
            migrate(self.engine)
        except BaseException:
            self.engine.dispose()
            raise

    def close(self) -> None:
        self.engine.dispose()
