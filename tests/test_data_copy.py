"""`bridgechat copy-data`: a populated SQLite store copied into another database, row for row.

The source is filled through the Store API only, the way nodes and the
`moderator` command fill it: members (one suspended indefinitely, one erased),
blocks, prompts, moderators and their sessions, reports sealed with a real
report key (one resolved), invites (used, revoked), the audit log and
conversation records with feedback. Every table of the store must hold rows
before the copy, so a table added later that this file does not fill fails
here first. After the copy every table's rows, all columns, are compared
between the two databases. The PostgreSQL target is a real server (the
session's `postgres` fixture, tests/cluster_util.py); the SQLite-to-SQLite
copy and the refusals need none.
"""

from __future__ import annotations

import argparse
import base64
import itertools
import math
import os
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from bridgechat.core.deck import Prompt
from bridgechat.moderation.passwords import hash_password
from bridgechat.moderation.reports import Sealer, key_id
from bridgechat.operate.data import add_data_commands
from bridgechat.store import Store, hash_token
from bridgechat.store.base import head_revision, metadata, open_engine
from bridgechat.store.moderation import AuditEntry, InviteCode, ReportRow, SuspensionRow
from bridgechat.store.shifts import ShiftNote
from cluster_util import PostgresServer
from modclient import PASSWORD, Mod
from sqlalchemy import inspect, select, text

BATCH = "7"  # small, so every table of a few dozen rows is copied in several batches
AUDITS = 30


def run_copy(*argv: str) -> int:
    """`bridgechat copy-data ARGS`, through the parser that cli.py adds it to."""
    parser = argparse.ArgumentParser(prog="bridgechat")
    add_data_commands(parser.add_subparsers(dest="command", required=True), None)
    args = parser.parse_args(["copy-data", *argv])
    code: int = args.func(args)
    return code


def populate(url: str, key: bytes) -> dict[str, Any]:
    """Fill every table through the Store API; return what the checks look for."""
    today = datetime.now(UTC).date().isoformat()
    now = time.time()
    store = Store(url)
    try:
        members = [uuid.uuid4().hex for _ in range(12)]
        for m in members:
            store.create_member(m, hash_token(f"token-{m}"), today)
        store.set_suspension(members[0], math.inf)
        store.set_suspension(members[1], now + 86400.5)
        for a, b in itertools.pairwise(members):
            store.add_block(a, b)
        store.erase_member(members[-1])  # its row and its blocks are gone before the copy

        store.seed_prompts([Prompt("p1", "Should towns ban cars?"),
                            Prompt("p2", "Wat is thuis?", "nl"),
                            Prompt("p3", "Нова тема — «лапки»", "uk")])
        store.set_prompt(Prompt("p2", "Wat is thuis?", "nl"), active=False)

        hashed = hash_password(PASSWORD)
        assert store.add_moderator("ann", "admin", hashed, now)
        assert store.add_moderator("mo", "moderator", hashed, now)
        for i in range(3):
            store.create_session(hash_token(f"session-{i}"), "ann", now, now + 3600)

        sealer = Sealer(key)
        reports = []
        for i in range(9):
            rid = f"report{i}"
            payload = {"room": f"room{i}", "prompt": "p1", "note": f"note {i} ünïcode",
                       "reporter": members[2], "authors": [members[3]],
                       "evidence": [{"seq": 1, "from": "A", "text": f"said {i}",
                                     "ts": "2026-01-01T00:00:00Z"}]}
            store.add_report_about(ReportRow(id=rid, reason="abuse", verified=1, created=now + i,
                                             key_id=sealer.key_id,
                                             sealed=sealer.seal(rid, payload), prompt="p1",
                                             room_started=now - 60.25),
                                   [sealer.pseudonym(members[3])])
            reports.append(rid)
        assert store.close_report(reports[0], "suspend", "ann", now + 100, None, [SuspensionRow(
            id="s1", author=sealer.pseudonym(members[3]), report=reports[0], by="ann",
            since=now + 100, until=None, key_id=sealer.key_id,
            sealed=sealer.seal("s1", {"member": members[3]}))])

        for i in range(AUDITS):
            store.audit("ann", "report.resolve", f"report:{i}", None if i % 3 else f"n{i}",
                        now + i)

        for i, (max_uses, revoked) in enumerate([(None, False), (2, False), (5, True)]):
            store.add_invite(InviteCode(id=f"inv{i}", code_hash=hash_token(f"code{i}"),
                                        label=f"workshop {i}", max_uses=max_uses, created=now,
                                        created_by="ann", revoked=revoked))
        assert store.use_invite(hash_token("code1"))

        store.add_shift_note(ShiftNote(id="note1", text="Calm night — «p3» paused ✓",
                                       moderator="mo", at=now + 0.125),
                             AuditEntry(at=now + 0.125, moderator="mo", action="shift.note",
                                        target="shift_note:note1"))

        from bridgechat.store.events import Event, Signup
        store.add_event(Event(id="ev1", slug="town-talk", titles={"en": "Town talk",
                                                                  "ar": "حديث المدينة"},
                              descriptions={"en": "One evening"}, starts=now + 86400.5,
                              tz="Europe/Berlin", signup_deadline=now + 86000.25,
                              length_min=30, prompts=["p1", "p3"], invite_hash=hash_token("c"),
                              created=now),
                        None)  # the audit log's entries are counted below
        for i in range(9):
            store.add_signup(Signup(id=f"su{i}", event_id="ev1", token_hash=hash_token(f"s{i}"),
                                    key_id=sealer.key_id,
                                    sealed=sealer.seal(f"signup:su{i}", {"profile": {}}),
                                    created=now + i, changed=now + i))

        records = [store.add_record("p1", today, 2, ("age", "region"), "10-20m")
                   for _ in range(8)]
        store.add_record("p3", today, 3, (), "<5m")
        store.add_record("p3", today, 2, ("age",), "5-15", "town-talk")  # an event's
        assert store.add_feedback(records[0], 4, True)
        assert store.add_feedback(records[0], 2, False)
    finally:
        store.close()
    return {"report": reports[1], "moderator": "ann"}


def table_rows(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows, all columns, in primary-key order; the alembic revision too."""
    engine = open_engine(url)
    try:
        with engine.connect() as conn:
            found = set(inspect(conn).get_table_names())
            assert found == {*metadata.tables, "alembic_version"}, found
            rows = {t.name: [tuple(r) for r in conn.execute(
                select(t).order_by(*t.primary_key.columns))]
                for t in metadata.sorted_tables}
            rows["alembic_version"] = [tuple(r) for r in conn.execute(
                text("SELECT version_num FROM alembic_version"))]
            return rows
    finally:
        engine.dispose()


def new_key(path: Path) -> bytes:
    key = os.urandom(32)
    path.write_text(base64.urlsafe_b64encode(key).decode() + "\n")
    return key


@pytest.fixture
def source(tmp_path: Path) -> tuple[str, bytes, dict[str, Any]]:
    data = tmp_path / "data"
    data.mkdir()
    key = new_key(data / "report.key")
    url = f"sqlite:///{data / 'bridgechat.db'}"
    return url, key, populate(url, key)


def check_copy(src: str, dst: str, capsys: pytest.CaptureFixture[str]) -> None:
    before = table_rows(src)
    empty = [name for name, rows in before.items() if not rows]
    assert not empty, f"populate() left tables empty: {empty}"

    assert run_copy("--from", src, "--to", dst, "--batch", BATCH) == 0
    out = capsys.readouterr().out
    after = table_rows(dst)
    assert after == before
    assert after["alembic_version"] == [(head_revision(),)]
    # Each table's counts are printed, and they are the real ones.
    for t in metadata.sorted_tables:
        n = len(before[t.name])
        assert any(line.split() == [t.name, str(n), str(n)] for line in out.splitlines()), out
    assert "every count matches" in out
    assert table_rows(src) == before  # the source is only read

    # A second copy into the now full target: one plain line, exit 2, nothing changed.
    assert run_copy("--from", src, "--to", dst) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1, err
    assert "already holds rows" in err and "Traceback" not in err
    assert table_rows(dst) == after


def test_copy_into_sqlite_keeps_every_row(source: tuple[str, bytes, dict[str, Any]],
                                          tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    src, _, _ = source
    check_copy(src, f"sqlite:///{tmp_path / 'copy.db'}", capsys)


def test_copy_into_postgres_keeps_every_row_and_moves_the_sequence_on(
        source: tuple[str, bytes, dict[str, Any]], postgres: PostgresServer,
        capsys: pytest.CaptureFixture[str]) -> None:
    src, _, _ = source
    dst = postgres.create_database(f"copy_{uuid.uuid4().hex[:12]}")
    check_copy(src, dst, capsys)

    # The audit id's sequence was moved past the copied ids: the next entry follows them.
    store = Store(dst)
    try:
        store.audit("ann", "after.copy", "x", None, time.time())
        # AUDITS entries were made by populate(), and one more with the shift note.
        assert [e.id for e in store.audit_entries(2, None)] == [AUDITS + 2, AUDITS + 1]
        m = store.moderator("ann")
        assert m is not None and m.role == "admin"
    finally:
        store.close()


async def test_a_node_on_the_copy_knows_the_moderator_and_opens_the_reports(
        source: tuple[str, bytes, dict[str, Any]], postgres: PostgresServer,
        make_server: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src, key, found = source
    dst = postgres.create_database(f"node_{uuid.uuid4().hex[:12]}")
    assert run_copy("--from", str(Path(src.removeprefix("sqlite:///")).parent),
                    "--to", dst) == 0
    out = capsys.readouterr().out
    # The operator is told which key the copied reports need, and where the old one is.
    assert key_id(key) in out and "report.key" in out

    key_file = tmp_path / "moved.key"
    key_file.write_text(base64.urlsafe_b64encode(key).decode())
    node = make_server("--database", dst, "--report-key-file", str(key_file),
                       data_dir=tmp_path / "node")
    async with Mod(node.url) as mod:
        assert (await mod.login(found["moderator"])).status == 200
        detail = await mod.get(f"/api/reports/{found['report']}")
        assert detail.status == 200, detail
        assert detail.body["note"] == "note 1 ünïcode"
        listed = (await mod.get("/api/reports?status=open")).body["reports"]
        assert len(listed) == 8


def test_refusals_are_one_plain_line_and_write_nothing(
        source: tuple[str, bytes, dict[str, Any]], tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    src, _, _ = source
    target = tmp_path / "t.db"
    cases = [
        (["--from", str(tmp_path / "missing.db"), "--to", f"sqlite:///{target}"],
         "names no SQLite file"),
        (["--from", src, "--to", src], "the same database"),
        (["--from", src, "--to", "not a url"], "not a database URL"),
        (["--from", src, "--to", "mysql://u@h/db"], "neither SQLite nor PostgreSQL"),
    ]
    for argv, says in cases:
        assert run_copy(*argv) == 2, argv
        err = capsys.readouterr().err
        assert len(err.strip().splitlines()) == 1 and says in err, (argv, err)
    assert not target.exists()
    assert not (tmp_path / "missing.db").exists()
