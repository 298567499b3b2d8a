"""The store on both of its databases: SQLite (the embedded default) and PostgreSQL.

Every check runs once per backend through the parametrised `store` fixture.
The PostgreSQL one is a real server that the session-wide `postgres`
fixture starts from Debian's packages (tests/cluster_util.py); each test
gets a fresh database in it, so the schema is built by the migrations
every time. The migration checks at the end compare what the revisions
build with what the models describe.
"""

from __future__ import annotations

import math
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from bridgechat.core.deck import Prompt
from bridgechat.store import Store, hash_token
from bridgechat.store.base import (
    BASELINE,
    BASELINE_TABLES,
    engine_url,
    head_revision,
    metadata,
    migration_config,
    open_engine,
)
from cluster_util import PostgresServer
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.exc import DBAPIError, IntegrityError

BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A URL of an empty database of the requested backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'bridgechat.db'}"
    pg: PostgresServer = request.getfixturevalue("postgres")
    return pg.create_database(f"t_{uuid.uuid4().hex[:12]}")


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    s = Store(db_url)
    yield s
    s.close()


pytestmark = pytest.mark.parametrize("db_url", BACKENDS, indirect=True)


def new_member(store: Store, day: str = "2024-05-01") -> tuple[str, str]:
    member_id, token = uuid.uuid4().hex, uuid.uuid4().hex
    store.create_member(member_id, hash_token(token), day)
    return member_id, hash_token(token)


# -- members ----------------------------------------------------------------------


def test_create_member_and_find_by_token_hash(store: Store) -> None:
    member_id, th = new_member(store)
    m = store.member_by_token(th)
    assert m is not None
    assert (m.id, m.created_day, m.seen_day, m.suspended_until) == (
        member_id, "2024-05-01", "2024-05-01", None)
    assert store.member_by_token(hash_token("never issued")) is None


def test_token_hash_is_unique(store: Store) -> None:
    _, th = new_member(store)
    with pytest.raises(IntegrityError):
        store.create_member(uuid.uuid4().hex, th, "2024-05-01")


def test_touch_member_moves_seen_day(store: Store) -> None:
    member_id, th = new_member(store)
    store.touch_member(member_id, "2024-06-02")
    m = store.member_by_token(th)
    assert m is not None and (m.created_day, m.seen_day) == ("2024-05-01", "2024-06-02")


def test_blocks_hold_in_both_directions(store: Store) -> None:
    a, _ = new_member(store)
    b, _ = new_member(store)
    c, _ = new_member(store)
    store.add_block(a, b)
    store.add_block(a, b)  # idempotent
    pair = frozenset((a, b))
    assert store.blocks_of([a]) == {pair}
    assert store.blocks_of([b]) == {pair}  # the blocked side sees it too
    assert store.blocks_of([c]) == set()
    assert store.blocks_of([]) == set()
    store.add_block(c, a)
    assert store.blocks_of([a]) == {pair, frozenset((a, c))}


def test_suspension_set_indefinite_and_lifted(store: Store) -> None:
    member_id, th = new_member(store)
    assert store.set_suspension(member_id, 1_900_000_000.5)
    m = store.member_by_token(th)
    assert m is not None and m.suspended_until == 1_900_000_000.5
    # Indefinitely is infinity: both databases must keep it as such.
    assert store.set_suspension(member_id, math.inf)
    m = store.member_by_token(th)
    assert m is not None and m.suspended_until == math.inf
    assert store.set_suspension(member_id, None)
    m = store.member_by_token(th)
    assert m is not None and m.suspended_until is None
    assert not store.set_suspension("nobody", math.inf)


def test_erase_member_removes_member_and_every_block_naming_them(store: Store) -> None:
    a, th = new_member(store)
    b, _ = new_member(store)
    c, _ = new_member(store)
    store.add_block(a, b)
    store.add_block(c, a)
    store.add_block(b, c)
    store.erase_member(a)
    assert store.member_by_token(th) is None
    assert store.export_member(a) is None
    assert store.blocks_of([a]) == set()
    assert store.blocks_of([b, c]) == {frozenset((b, c))}
    store.erase_member(a)  # erasing twice is harmless


def test_export_member_lists_what_is_kept(store: Store) -> None:
    a, _ = new_member(store)
    b, _ = new_member(store)
    c, _ = new_member(store)
    store.add_block(a, c)
    store.add_block(a, b)
    store.add_block(b, a)  # not a's own block: not in a's export
    out = store.export_member(a)
    assert out is not None
    assert out["member"] == a
    assert out["blocked"] == sorted([b, c])
    assert out["created_day"] == out["seen_day"] == "2024-05-01"
    assert "hash" in str(out["token"])
    assert store.export_member("nobody") is None


# -- prompts ----------------------------------------------------------------------


def test_prompts_seed_active_and_set(store: Store) -> None:
    deck = [Prompt("p1", "Should towns ban cars?"), Prompt("p2", "Wat is thuis?", "nl")]
    store.seed_prompts(deck)
    assert sorted(store.active_prompts(), key=lambda p: p.id) == deck
    # Seeding again keeps what an operator changed.
    store.set_prompt(Prompt("p1", "Should city centres ban cars?"), active=True)
    store.seed_prompts(deck)
    by_id = {p.id: p for p in store.active_prompts()}
    assert by_id["p1"].text == "Should city centres ban cars?"
    assert by_id["p2"].lang == "nl"
    store.set_prompt(Prompt("p2", "Wat is thuis?", "nl"), active=False)
    assert [p.id for p in store.active_prompts()] == ["p1"]
    store.set_prompt(Prompt("p3", "Нова тема", "uk"), active=True)
    assert sorted(p.id for p in store.active_prompts()) == ["p1", "p3"]
    assert {p.id: p for p in store.active_prompts()}["p3"].text == "Нова тема"


# -- moderation tables that differ most between the two databases ----------------


def test_audit_log_is_append_only(store: Store) -> None:
    store.audit("ada", "warn", "report:1", "first", 1.0)
    with pytest.raises(DBAPIError), store.engine.begin() as conn:
        conn.execute(text("UPDATE audit SET note = 'rewritten'"))
    with pytest.raises(DBAPIError), store.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit"))
    assert [e.note for e in store.audit_entries(10, None)] == ["first"]


def test_report_keeps_sealed_bytes(store: Store) -> None:
    from bridgechat.store.moderation import ReportRow

    sealed = bytes(range(256))
    store.add_report(ReportRow(id="r1", reason="abuse", verified=2, created=5.0,
                               key_id="k1", sealed=sealed))
    got = store.report("r1")
    assert got is not None and got.sealed == sealed and got.status == "open"
    assert store.open_report_count() == 1
    assert store.close_report("r1", "dismiss", "ada", 6.0)
    assert not store.close_report("r1", "dismiss", "ada", 7.0)


def test_reports_by_filter_and_author_with_their_suspensions(store: Store) -> None:
    from bridgechat.store.moderation import ReportRow, SuspensionRow

    def add(rid: str, reason: str, prompt: str, created: float, *authors: str) -> None:
        store.add_report_about(ReportRow(id=rid, reason=reason, verified=1, created=created,
                                         key_id="k", sealed=b"\x01", prompt=prompt,
                                         room_started=created - 60), authors)

    add("r1", "spam", "home", 1.0, "m-aa")
    add("r2", "hate", "work", 2.0, "m-aa", "m-bb")
    add("r3", "spam", "work", 3.0, "m-cc")
    assert [r.id for r in store.find_reports(None, "spam", None, 10)] == ["r3", "r1"]
    assert [r.id for r in store.find_reports(None, None, "work", 10)] == ["r3", "r2"]
    assert [r.id for r in store.find_reports("open", "hate", "work", 10)] == ["r2"]
    assert store.find_reports("resolved", None, None, 10) == []
    assert store.authors_of(["r2", "r3", "nope"]) == {"r2": ["m-aa", "m-bb"], "r3": ["m-cc"]}
    assert [r.id for r in store.reports_by(["m-aa"], "r2", 10)] == ["r1"]
    assert [r.id for r in store.reports_by(["m-aa", "m-bb"], "r1", 10)] == ["r2"]
    assert store.reports_by([], "r1", 10) == []
    store.set_room_length("r1", 95.5)
    got = store.report("r1")
    assert got is not None and (got.prompt, got.room_started, got.room_length) == (
        "home", -59.0, 95.5)

    # A suspension is stored with the resolution, in the same transaction.
    held = SuspensionRow(id="s1", author="m-aa", report="r1", by="ada", since=10.0,
                         until=None, key_id="k", sealed=b"\x02")
    short = SuspensionRow(id="s2", author="m-aa", report="r2", by="ada", since=11.0,
                          until=500.0, key_id="k", sealed=b"\x03")
    assert store.close_report("r1", "suspend", "ada", 10.0, None, [held])
    assert store.close_report("r2", "suspend", "ada", 11.0, None, [short])
    assert not store.close_report("r2", "suspend", "ada", 12.0, None, [
        SuspensionRow(id="s3", author="m-aa", report="r2", by="bo", since=12.0, key_id="k",
                      sealed=b"")])
    assert store.suspension("s3") is None
    assert store.suspensions_of(["r1", "r2", "r3"]) == {"r1": ["s1"], "r2": ["s2"]}
    assert [s.id for s in store.active_suspensions(100.0)] == ["s2", "s1"]
    assert store.suspended_until("m-aa", 100.0) == math.inf
    assert store.suspended_until("m-zz", 100.0) is None

    assert store.lift_suspension("s1", "bo", 20.0) == "lifted"
    assert store.lift_suspension("s1", "bo", 21.0) == "ended"
    assert store.lift_suspension("nope", "bo", 21.0) == "unknown"
    assert store.suspended_until("m-aa", 100.0) == 500.0
    assert store.suspended_until("m-aa", 600.0) is None  # over: nothing in force
    assert store.lift_suspension("s2", "bo", 600.0) == "ended"
    lifted = store.suspension("s1")
    assert lifted is not None and (lifted.lifted_at, lifted.lifted_by) == (20.0, "bo")

    # Retention: a purged report takes its authors with it and leaves no dangling link.
    assert store.purge_reports(10.5) == 1
    assert store.report("r1") is None and store.authors_of(["r1"]) == {}
    s1 = store.suspension("s1")
    assert s1 is not None and s1.report is None
    assert store.purge_suspensions(15.0) == 0
    assert store.purge_suspensions(21.0) == 1  # lifted at 20
    assert store.purge_suspensions(0.0, ["s2"]) == 1
    assert store.suspension("s2") is None


def test_existing_members(store: Store) -> None:
    a, _ = new_member(store)
    assert store.existing_members([a, "gone"]) == {a}
    assert store.existing_members([]) == set()


# -- events -----------------------------------------------------------------------


def test_events_and_sign_ups(store: Store) -> None:
    from bridgechat.store.events import Event, Signup
    from bridgechat.store.moderation import AuditEntry

    def event(slug: str, starts: float) -> Event:
        return Event(id=uuid.uuid4().hex[:16], slug=slug, titles={"en": "Día «uno»"},
                     descriptions={}, starts=starts, tz="Europe/Berlin",
                     signup_deadline=starts - 60, length_min=30, prompts=["a", "b"],
                     created=1.0)

    past, soon = event("past-day", 1000.0), event("soon-day", 10_000.0)
    assert store.add_event(past, AuditEntry(at=1.0, moderator="ann", action="event.create",
                                            target="event:past-day"))
    assert store.add_event(soon, None)
    assert not store.add_event(event("soon-day", 5.0), None)  # the slug is taken
    got = store.event_by_slug("past-day")
    assert got is not None and got.titles == {"en": "Día «uno»"} and got.prompts == ["a", "b"]
    assert [e.slug for e in store.events()] == ["past-day", "soon-day"]
    assert [e.slug for e in store.events(ending_after=2800.0)] == ["soon-day"]
    for e, n in ((past, 2), (soon, 3)):
        for i in range(n):
            store.add_signup(Signup(id=f"{e.slug}{i}", event_id=e.id,
                                    token_hash=hash_token(f"{e.slug}{i}"), key_id="k",
                                    sealed=bytes([0, 255, i]), created=1.0, changed=1.0))
    row = store.signup(soon.id, hash_token("soon-day1"))
    assert row is not None and row.sealed == bytes([0, 255, 1])
    assert store.signup(past.id, hash_token("soon-day1")) is None  # another event's token
    assert store.change_signup(row.id, "k2", b"new", 2.0)
    assert store.delete_signup("soon-day2") and not store.delete_signup("soon-day2")
    assert store.signup_count(soon.id) == 2
    # past-day ended at 1000 + 30 min: its sign-ups go once that is over
    assert store.purge_signups(2799.0) == 0
    assert store.purge_signups(2801.0) == 2
    changed = store.update_event(soon.id, {"length_min": 45}, None)
    assert changed is not None and changed.length_min == 45
    assert store.update_event(soon.id, {"cancelled": True}, None) is not None
    assert store.signup_count(soon.id) == 0  # cancelling deletes the sign-ups
    assert store.update_event("nothing", {"length_min": 5}, None) is None
    assert [e.action for e in store.audit_entries(10, None)] == ["event.create"]


def test_records_name_their_event_and_are_asked_for_by_it(store: Store) -> None:
    ours = [store.add_record("p1", "2026-05-01", 2, ("age_band", "area"), "5-15", "town-talk")
            for _ in range(3)]
    store.add_record("p1", "2026-05-01", 2, ("age_band",), "0-5")
    store.add_record("p2", "2026-05-02", 3, (), "0-5", "other-day")
    assert store.add_feedback(ours[0], 4, True)
    got = store.conversations("town-talk")
    assert len(got) == 3 and {c.event for c in got} == {"town-talk"}
    assert sum(c.feedback for c in got) == 1 and sum(c.again for c in got) == 1
    assert [c.event for c in store.conversations()].count(None) == 1
    assert len(store.conversations()) == 5
    assert store.conversations("no-such-day") == []
    with store.engine.connect() as conn:
        indexes = {i["name"] for i in inspect(conn).get_indexes("conversation_record")}
    assert "ix_conversation_record_event" in indexes


# -- migrations -------------------------------------------------------------------


def test_migrations_build_exactly_the_models_schema(store: Store) -> None:
    with store.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        assert ctx.get_current_revision() == head_revision()
        diff = compare_metadata(ctx, metadata)
    assert diff == [], f"the revisions and the models disagree: {diff}"


def test_reopening_an_upgraded_database_changes_nothing(store: Store, db_url: str) -> None:
    member_id, th = new_member(store)
    again = Store(db_url)
    try:
        m = again.member_by_token(th)
        assert m is not None and m.id == member_id
    finally:
        again.close()


def test_downgrade_to_nothing_and_back(db_url: str) -> None:
    engine = open_engine(db_url)
    try:
        Store(db_url).close()
        with engine.begin() as conn:
            command.downgrade(migration_config(conn), "base")
        with engine.connect() as conn:
            assert set(inspect(conn).get_table_names()) <= {"alembic_version"}
        Store(db_url).close()
        with engine.connect() as conn:
            assert set(metadata.tables) <= set(inspect(conn).get_table_names())
    finally:
        engine.dispose()


def test_nodes_starting_together_migrate_once(db_url: str) -> None:
    """Three stores open one empty database at once: the lock lets one migrate."""
    errors: list[BaseException] = []
    stores: list[Store] = []
    lock = threading.Lock()

    def open_one() -> None:
        try:
            s = Store(db_url)
            with lock:
                stores.append(s)
        except BaseException as e:  # reported below, in the test's thread
            errors.append(e)

    threads = [threading.Thread(target=open_one) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    try:
        assert not errors, errors
        assert len(stores) == 3
        new_member(stores[0])
    finally:
        for s in stores:
            s.close()


def test_a_database_made_before_migrations_is_adopted(db_url: str) -> None:
    """0.1.0 made its tables with create_all; opening it stamps it instead of failing."""
    engine = create_engine(engine_url(db_url))
    try:
        # 0.1.0's tables are the baseline revision's; it just kept no alembic_version.
        with engine.begin() as conn:
            command.upgrade(migration_config(conn), BASELINE)
            conn.execute(text("DROP TABLE alembic_version"))
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO member (id, token_hash, created_day, seen_day) "
                              "VALUES ('old', 'h', '2024-01-01', '2024-01-01')"))
    finally:
        engine.dispose()
    s = Store(db_url)
    try:
        m = s.member_by_token("h")
        assert m is not None and m.id == "old"
        with s.engine.connect() as conn:
            assert MigrationContext.configure(conn).get_current_revision() == head_revision()
    finally:
        s.close()


def test_baseline_tables_are_those_of_the_baseline_revision(db_url: str) -> None:
    """base.BASELINE_TABLES (used to adopt old databases) matches revision 0001."""
    engine = open_engine(db_url)
    try:
        with engine.begin() as conn:
            command.upgrade(migration_config(conn), BASELINE)
        with engine.connect() as conn:
            made = set(inspect(conn).get_table_names()) - {"alembic_version"}
        assert made == BASELINE_TABLES
    finally:
        engine.dispose()
