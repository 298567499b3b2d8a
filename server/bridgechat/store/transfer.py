"""Copying a whole store from one database to another (`bridgechat copy-data`).

Made for the move from the embedded default (SQLite) to PostgreSQL, and
works between any two databases the store runs on. The target is brought
to the newest schema by the same migrations a node runs, and must be empty:
nothing is ever merged or overwritten. The source must already be at the
newest schema (a node of this version migrates its own database when it
starts; `bridgechat migrate` does it by hand) and is only read.

Every table of the store is copied in dependency order, in batches, with
its primary keys as they are, in one transaction on the target: a copy that
fails half-way leaves the target as empty as it found it. PostgreSQL's
sequences behind integer keys are then moved past the copied ids, so the
next row a node adds does not collide with a copied one. Last, the rows of
every table are counted on both sides.

Values are copied as they are stored: a report's sealed evidence stays
sealed with the report key it was made with, so the new nodes need that
same key.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Table, func, inspect, make_url, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError

from bridgechat.store import Store  # noqa: F401  (imports every mixin's tables into metadata)
from bridgechat.store.base import current_revision, head_revision, metadata, migrate, open_engine

BATCH = 500


class CopyRefused(Exception):
    """The copy cannot start (nothing was written); the message says why in plain words."""


class CopyFailed(Exception):
    """The copy began and failed; the target's transaction was rolled back."""


@dataclass(frozen=True, slots=True)
class Counted:
    """One table's rows in the source and, after the copy, in the target."""

    table: str
    source: int
    target: int

    @property
    def matches(self) -> bool:
        return self.source == self.target


def shown_url(url: str) -> str:
    """The URL with its password masked, fit to print."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


def tables() -> list[Table]:
    """Every table of the store, each after the tables it depends on."""
    return list(metadata.sorted_tables)


def _open(url: str, what: str) -> Engine:
    try:
        u = make_url(url)
    except ArgumentError:
        raise CopyRefused(f"The {what} {url!r} is not a database URL (e.g. "
                          "sqlite:///bridgechat-data/bridgechat.db or "
                          "postgresql://USER:PASSWORD@HOST/DB).") from None
    if u.get_backend_name() not in ("sqlite", "postgresql", "postgres"):
        raise CopyRefused(f"The {what} {shown_url(url)} is neither SQLite nor PostgreSQL.")
    if u.get_backend_name() == "sqlite":
        db = u.database or ""
        if what == "source" and (not db or db == ":memory:" or not Path(db).is_file()):
            raise CopyRefused(f"The source {shown_url(url)} names no SQLite file that exists.")
    try:
        return open_engine(url)
    except ModuleNotFoundError as exc:
        raise CopyRefused(f"PostgreSQL needs the postgres extra ({exc.name} is missing): "
                          "pip install 'bridgechat[postgres]'") from None


def _reach(engine: Engine, what: str, url: str) -> None:
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except DBAPIError as exc:
        first = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else str(exc)
        raise CopyRefused(f"Cannot reach the {what} {shown_url(url)}: "
                          f"{first}") from None


def _count(conn: Connection, table: Table) -> int:
    return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def _check_source(engine: Engine, url: str) -> None:
    at, head = current_revision(engine), head_revision()
    if at != head:
        raise CopyRefused(
            f"The source is at schema {at or 'nothing'}, not the newest ({head}): bring it up "
            f"to date first (bridgechat migrate --database {shown_url(url)}).")
    with engine.connect() as conn:
        found = set(inspect(conn).get_table_names())
    missing = sorted(t.name for t in tables() if t.name not in found)
    if missing:
        raise CopyRefused(f"The source lacks the tables {', '.join(missing)}.")


def _check_target_empty(engine: Engine, url: str) -> None:
    """Refuse a target holding any row in a table of ours, before anything is written."""
    with engine.connect() as conn:
        found = set(inspect(conn).get_table_names())
        full = [f"{t.name} ({n})" for t in tables()
                if t.name in found and (n := _count(conn, t))]
    if full:
        raise CopyRefused(f"The target {shown_url(url)} already holds rows "
                          f"({', '.join(full)}); copy only into an empty database.")


def _batches(conn: Connection, table: Table, size: int) -> Iterator[list[dict[str, Any]]]:
    """The table's rows in primary-key order, `size` at a time, as column -> value."""
    order = list(table.primary_key.columns) or list(table.columns)
    result = conn.execution_options(yield_per=size).execute(select(table).order_by(*order))
    for part in result.mappings().partitions(size):
        yield [dict(row) for row in part]


def _fix_sequences(conn: Connection) -> None:
    """Move each integer key's PostgreSQL sequence past the largest copied id."""
    for table in tables():
        col = table.autoincrement_column
        if col is None:
            continue
        conn.execute(
            text("SELECT setval(pg_get_serial_sequence(:t, :c), "
                 f'COALESCE((SELECT MAX("{col.name}") FROM "{table.name}"), 0) + 1, false)'),
            {"t": table.name, "c": col.name})


def _copy_rows(source: Engine, target: Engine, size: int,
               progress: Callable[[str, int], None]) -> None:
    with source.connect() as src, target.begin() as dst:
        for table in tables():
            copied = 0
            for rows in _batches(src, table, size):
                dst.execute(table.insert(), rows)
                copied += len(rows)
            progress(table.name, copied)
        if target.dialect.name == "postgresql":
            _fix_sequences(dst)


@dataclass(frozen=True, slots=True)
class Copied:
    """What a finished copy found: each table's counts, and the report keys in use."""

    counts: list[Counted]
    # Fingerprints (moderation.reports.key_id) of the keys that sealed the copied reports.
    report_keys: list[str]

    @property
    def matches(self) -> bool:
        return all(c.matches for c in self.counts)


def _result(source: Engine, target: Engine) -> Copied:
    with source.connect() as src, target.connect() as dst:
        counts = [Counted(t.name, _count(src, t), _count(dst, t)) for t in tables()]
        keys = sorted(dst.execute(text("SELECT DISTINCT key_id FROM report")).scalars())
    return Copied(counts, keys)


def copy_store(source_url: str, target_url: str, *, batch: int = BATCH,
               progress: Callable[[str, int], None] = lambda _t, _n: None) -> Copied:
    """Copy every row of the store at source_url into the empty store at target_url.

    Raises CopyRefused before writing anything (a source not at the newest
    schema, a target with rows, a database that cannot be reached, a missing
    driver), CopyFailed if the copy itself fails (rolled back). Returns each
    table's row counts on both sides (the caller says whether they match)
    and which report keys the copied reports need.
    """
    source = _open(source_url, "source")
    try:
        target = _open(target_url, "target")
    except BaseException:
        source.dispose()
        raise
    try:
        if source.url == target.url:
            raise CopyRefused("The source and the target are the same database.")
        _reach(source, "source", source_url)
        _check_source(source, source_url)
        _reach(target, "target", target_url)
        _check_target_empty(target, target_url)
        try:
            migrate(target)
        except DBAPIError as exc:
            raise CopyRefused(f"Cannot bring the target to the newest schema: {exc.orig}") from None
        try:
            _copy_rows(source, target, batch, progress)
        except SQLAlchemyError as exc:
            detail = exc.orig if isinstance(exc, DBAPIError) else exc
            raise CopyFailed(f"The copy failed and was rolled back: {detail}") from None
        return _result(source, target)
    finally:
        source.dispose()
        target.dispose()

