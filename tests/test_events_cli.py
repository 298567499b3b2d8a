"""`bridgechat event create|edit|cancel|list`, run as an operator runs it."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bridgechat.store import Store, sqlite_url
from conftest import ROOT


def event(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bridgechat", "event", *args, "--data-dir",
                           str(data)], capture_output=True, text=True, cwd=ROOT, timeout=60,
                          check=False)


def said(done: subprocess.CompletedProcess[str]) -> str:
    """The last line on standard error (the first run also logs its migration)."""
    return (done.stderr.strip().splitlines() or [""])[-1]


def later(days: int) -> str:
    return (datetime.now(ZoneInfo("Europe/Berlin")) + timedelta(days=days)).strftime(
        "%Y-%m-%dT%H:%M")


def test_create_edit_cancel_list_each_audited(tmp_path: Path) -> None:
    data = tmp_path / "data"
    starts_at = later(5)  # once: the minute may turn between creating and listing
    made = event(data, "create", "--slug", "town-talk", "--title", "en=Town talk",
                 "--title", "de=Stadtgespräch", "--starts", starts_at, "--tz", "Europe/Berlin",
                 "--signup-deadline", later(4), "--length-min", "40", "--prompt", "neighbours",
                 "--prompt", "home", "--mode", "bridge", "--group", "3",
                 "--invite-code", "library-2026")
    assert made.returncode == 0, made.stderr
    assert "/e/town-talk" in made.stdout
    listed = event(data, "list")
    assert listed.returncode == 0
    slug, starts, tz, state, signups, title = listed.stdout.strip().split("\t")
    assert (slug, tz, state, signups, title) == ("town-talk", "Europe/Berlin", "open",
                                                 "0 sign-ups", "Town talk")
    assert starts.startswith(starts_at) and starts.endswith(("+01:00", "+02:00"))

    changed = event(data, "edit", "town-talk", "--length-min", "25", "--invite-code", "")
    assert changed.returncode == 0, changed.stderr
    store = Store(sqlite_url(data))
    try:
        row = store.event_by_slug("town-talk")
        assert row is not None and row.length_min == 25 and row.invite_hash is None
        assert row.group == 3 and row.titles == {"en": "Town talk", "de": "Stadtgespräch"}
    finally:
        store.close()
    cancelled = event(data, "cancel", "town-talk")
    assert cancelled.returncode == 0 and "cancelled" in event(data, "list").stdout
    again = event(data, "edit", "town-talk", "--length-min", "30")
    assert again.returncode == 1 and said(again).startswith("event_cancelled:")

    store = Store(sqlite_url(data))
    try:
        actions = [(e.moderator, e.action, e.target) for e in store.audit_entries(10, None)]
    finally:
        store.close()
    assert sorted(actions) == [("command line", f"event.{a}", "event:town-talk")
                               for a in ("cancel", "create", "edit")]


def test_bad_input_is_refused_with_a_code_and_plain_words(tmp_path: Path) -> None:
    data = tmp_path / "data"
    base = ["create", "--title", "en=Day", "--starts", later(3), "--tz", "Europe/Berlin",
            "--prompt", "home"]
    cases = [
        (["--title", "Day without a language"], "bad_title"),
        (["--tz", "Moon/Base"], "bad_timezone"),
        (["--prompt", "no-such-prompt"], "unknown_prompt"),
        (["--signup-deadline", later(4)], "times_out_of_order"),
        (["--starts", "2020-01-01T10:00"], "in_the_past"),
    ]
    for extra, code in cases:
        done = event(data, *base, *extra)
        assert done.returncode == 1 and said(done).startswith(f"{code}: "), (extra, done.stderr)
    assert said(event(data, "edit", "nothing-here", "--length-min", "30")).startswith(
        "unknown_event:")
    assert event(data, "list").stdout == ""
