"""Reaching a database before a node starts: `bridgechat serve` and `doctor` ask here."""

from __future__ import annotations

import time

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool
from sqlmodel import create_engine

from bridgechat.store.base import engine_url


class Unreachable(Exception):
    """The database did not answer; the message says why in one line, with no password."""


def clock_offset(url: str, timeout: float = 5.0) -> float:
    """Seconds the database server's clock is ahead of ours (PostgreSQL; 0 for SQLite).

    Opens one connection and closes it: nothing is created, no schema is touched.
    """
    if url.startswith("sqlite"):
        return 0.0
    engine = create_engine(engine_url(url), poolclass=NullPool,
                           connect_args={"connect_timeout": max(1, round(timeout))})
    try:
        with engine.connect() as conn:
            before = time.time()
            server = conn.execute(text("SELECT extract(epoch FROM clock_timestamp())")).scalar()
            after = time.time()
    except SQLAlchemyError as e:
        reason = str(getattr(e, "orig", None) or e).strip().splitlines()
        raise Unreachable(reason[0] if reason else type(e).__name__) from None
    finally:
        engine.dispose()
    if server is None:
        raise Unreachable("the server gave no time")
    return float(server) - (before + after) / 2
