"""`bridgechat doctor` on real services: what holds says ok, what would hurt says FIX and why."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path
from typing import Any

from conftest import free_port


def doctor(cwd: Path, *flags: str, files: int | None = None,
           env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("BRIDGECHAT_")}

    def lower_limit() -> None:
        if files is not None:
            resource.setrlimit(resource.RLIMIT_NOFILE, (files, files))

    return subprocess.run([sys.executable, "-m", "bridgechat", "doctor", *flags], cwd=cwd,
                          env={**environ, **(env or {})}, capture_output=True, text=True,
                          timeout=60, preexec_fn=lower_limit)


def marks(out: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {"ok": [], "warn": [], "FIX": []}
    for line in out.splitlines():
        mark, _, what = line.partition(" ")
        if mark in found:
            found[mark].append(what.strip())
    return found


def test_a_healthy_cluster_node_has_nothing_to_fix(tmp_path: Path, redis_server: Any,
                                                   postgres: Any) -> None:
    url = postgres.create_database("doctor_ok")
    run = doctor(tmp_path, "--port", "0", "--redis", redis_server.url, "--database", url,
                 env={"BRIDGECHAT_REPORT_KEY": "A" * 43 + "="})
    assert run.returncode == 0, run.stdout
    seen = marks(run.stdout)
    assert seen["FIX"] == [] and seen["warn"] == [], run.stdout
    text = "\n".join(seen["ok"])
    assert "Redis answers" in text and "the database answers" in text
    assert "clock within" in text and "of Redis's" in text
    assert "report key: BRIDGECHAT_REPORT_KEY" in text
    assert "Nothing to fix" in run.stdout
    assert list(tmp_path.iterdir()) == []  # doctor changes nothing


def test_each_problem_is_a_fix_line_and_exit_1(tmp_path: Path) -> None:
    deck = tmp_path.parent / f"{tmp_path.name}.toml"
    deck.write_text("[[prompts]]\nid = 'x'\n")
    run = doctor(tmp_path, "--redis", f"redis://127.0.0.1:{free_port()}/0",
                 "--deck", str(deck), "--max-connections", "5000", files=1024)
    assert run.returncode == 1
    fixes = "\n".join(marks(run.stdout)["FIX"])
    assert "cannot reach Redis" in fixes
    assert f"{deck}, line 1 (prompts[0]): `text` must be a non-empty string" in fixes
    assert "open-file limit is 1024, below --max-connections 5000" in fixes
    assert "LimitNOFILE=5256" in fixes
    # One node making its own report key would leave every other node unable to read reports.
    assert any("each node would make its own" in w for w in marks(run.stdout)["warn"])
    assert "3 thing(s) to fix" in run.stdout
    assert list(tmp_path.iterdir()) == []


def test_a_private_data_dir_and_key_are_ok_and_open_ones_are_warned(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    key = data / "report.key"
    key.write_text("A" * 43 + "=\n")
    key.chmod(0o600)
    run = doctor(tmp_path, "--data-dir", "data", "--port", "0")
    assert run.returncode == 0 and marks(run.stdout)["warn"] == [], run.stdout
    data.chmod(0o755)
    key.chmod(0o644)
    run = doctor(tmp_path, "--data-dir", "data", "--port", "0",
                 env={"BRIDGECHAT_PROT": "80"})
    warned = "\n".join(marks(run.stdout)["warn"])
    assert "chmod 700" in warned and "chmod 600" in warned
    assert "BRIDGECHAT_PROT is set but is not a setting (did you mean BRIDGECHAT_PORT?)" \
        in warned
