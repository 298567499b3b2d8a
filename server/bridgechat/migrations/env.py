"""Alembic's entry point: migrate one database to the schema of bridgechat.store.

StoreBase calls alembic programmatically and hands over a connection it has
locked (config.attributes["connection"]). A developer making a new revision
runs alembic from the repository root instead, naming a database:

    alembic -x url=postgresql://localhost/scratch revision --autogenerate -m "what"

(or set BRIDGECHAT_DATABASE instead of -x url). Name it with the next
number, `--rev-id 0002`, and read it before committing: autogenerate does
not see triggers (see 0001 for the audit log's).

The revision is rendered without sqlmodel's own types (plain sa.String), so
revisions import nothing but alembic and SQLAlchemy.
"""

from __future__ import annotations

import os
from typing import Any, Literal

import sqlalchemy as sa
from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy.engine import Connection

import bridgechat.store  # noqa: F401 - registers every table of every mixin
from bridgechat.store.base import engine_url, metadata, open_engine


def render_item(kind: str, obj: Any, _ctx: AutogenContext) -> str | Literal[False]:
    """Render sqlmodel's AutoString as the sa.String it stands for."""
    if (kind == "type" and isinstance(obj, sa.types.TypeDecorator)
            and type(obj).__module__.startswith("sqlmodel")
            and isinstance(obj.impl, sa.String)):
        length = obj.impl.length
        return f"sa.String(length={length})" if length is not None else "sa.String()"
    return False  # alembic's default rendering


def run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_item=render_item,
        # Batch mode lets later ALTERs work on SQLite (it copies the table).
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def database_url() -> str:
    url = (context.get_x_argument(as_dictionary=True).get("url")
           or os.environ.get("BRIDGECHAT_DATABASE")
           or context.config.get_main_option("sqlalchemy.url"))
    if not url:
        raise SystemExit("name the database: alembic -x url=postgresql://... (or sqlite:///x.db)")
    return url


given = context.config.attributes.get("connection")
if context.is_offline_mode():
    context.configure(url=engine_url(database_url()), target_metadata=metadata,
                      render_item=render_item, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
elif given is not None:
    run(given)
else:
    engine = open_engine(database_url())
    try:
        with engine.begin() as conn:
            run(conn)
    finally:
        engine.dispose()
