"""`bridgechat moderator add|remove|list`, as an operator runs it."""

from __future__ import annotations

import sqlite3

from modclient import PASSWORD, Mod, files_containing, moderator_cli


def stored_hash(data_dir, name: str) -> str | None:
    db = sqlite3.connect(data_dir / "bridgechat.db")
    try:
        row = db.execute("SELECT password_hash FROM moderator WHERE username = ?",
                         (name,)).fetchone()
    finally:
        db.close()
    return None if row is None else str(row[0])


async def test_add_reads_one_line_from_stdin_and_keeps_only_an_argon2id_hash(
        make_server, tmp_path) -> None:
    data = tmp_path / "data"
    done = moderator_cli("add", "Ann", "--role", "admin", "--data-dir", str(data),
                         stdin=PASSWORD + "\nthis second line is not read\n")
    assert done.returncode == 0, done.stderr
    assert "ann" in done.stdout
    # OWASP's minimum for argon2id: m = 19 MiB, t = 2, p = 1.
    assert (stored_hash(data, "ann") or "").startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert files_containing(data, PASSWORD.encode()) == []

    srv = make_server(data_dir=data)
    async with Mod(srv.url) as mod:
        assert (await mod.login("ann", PASSWORD + "\n")).status == 401  # the newline is not in it
        reply = await mod.login("ann", PASSWORD)
        assert reply.status == 200 and reply.body["role"] == "admin"
        [entry] = [e for e in await mod.audit() if e["action"] == "moderator.add"]
        assert entry["moderator"] == "command line" and entry["target"] == "moderator:ann"


def test_add_refuses_weak_passwords_bad_names_and_taken_names(tmp_path) -> None:
    data = str(tmp_path / "data")
    short = moderator_cli("add", "bob", "--data-dir", data, stdin="hunter2\n")
    assert short.returncode == 1 and "at least 15 characters" in short.stderr
    bad = moderator_cli("add", "bob smith!", "--data-dir", data, stdin=PASSWORD + "\n")
    assert bad.returncode == 1 and "username" in bad.stderr.lower()
    assert moderator_cli("add", "bob", "--data-dir", data, stdin=PASSWORD + "\n").returncode == 0
    taken = moderator_cli("add", "BOB", "--data-dir", data, stdin=PASSWORD + "x\n")
    assert taken.returncode == 1 and "already exists" in taken.stderr
    listed = moderator_cli("list", "--data-dir", data)
    assert listed.stdout.splitlines() == ["bob\tmoderator"]


async def test_remove_ends_the_accounts_sessions(make_server, tmp_path) -> None:
    data = tmp_path / "data"
    assert moderator_cli("add", "mo", "--data-dir", str(data),
                         stdin=PASSWORD + "\n").returncode == 0
    srv = make_server("--moderator-idle", "4", data_dir=data)
    async with Mod(srv.url) as mod:
        await mod.login("mo")
        feed = await mod.feed()
        await feed.recv()
        gone = moderator_cli("remove", "mo", "--data-dir", str(data))
        assert gone.returncode == 0, gone.stderr
        assert await feed.closed(wait=5) == 4401
        assert (await mod.get("/api/reports")).status == 401
        assert (await mod.login("mo")).status == 401
    again = moderator_cli("remove", "mo", "--data-dir", str(data))
    assert again.returncode == 1 and "no moderator named mo" in again.stderr
