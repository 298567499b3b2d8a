"""`bridgechat serve` refuses to start with one plain line, exit code 2, and nothing created.

Each test runs the real command in an empty working directory and checks
the three promises: the code, a single line on standard error that says
what to fix, and no data dir, database or report key left behind.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from conftest import free_port


def serve(cwd: Path, *flags: str, python: str = sys.executable,
          env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("BRIDGECHAT_")}
    return subprocess.run([python, "-m", "bridgechat", "serve", "--data-dir", "data", *flags],
                          cwd=cwd, env={**environ, **(env or {})}, capture_output=True,
                          text=True, timeout=60)


def refused(result: subprocess.CompletedProcess[str], cwd: Path, *words: str) -> str:
    """The one line of a refusal; the working directory is left as it was."""
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert result.stdout == ""  # in particular, never "Bridgechat is running"
    for word in words:
        assert word in lines[0], lines[0]
    assert "Traceback" not in result.stderr
    assert sorted(p.name for p in cwd.iterdir()) == [], "something was created"
    return lines[0]


@pytest.fixture
def venv_without_extras(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A virtual environment with everything this one has but the redis and postgres extras.

    Made of links to this environment's packages (fast, no download), leaving
    out psycopg, redis and hiredis: what an operator has after `pip install bridgechat`.
    """
    import sysconfig

    site = Path(sysconfig.get_paths()["purelib"])
    root = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True)
    target = Path(subprocess.run(
        [str(root / "bin" / "python"), "-c", "import sysconfig; "
         "print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True).stdout.strip())
    left_out = ("psycopg", "redis", "hiredis")
    for entry in site.iterdir():
        if entry.name.lower().startswith(left_out) or (target / entry.name).exists():
            continue
        (target / entry.name).symlink_to(entry)
    python = str(root / "bin" / "python")
    check = subprocess.run([python, "-c", "import bridgechat, aiohttp; import psycopg"],
                           capture_output=True, text=True)
    assert "No module named 'psycopg'" in check.stderr, check.stderr
    return python


def test_postgres_without_its_extra_names_the_install_line(tmp_path: Path,
                                                           venv_without_extras: str) -> None:
    result = serve(tmp_path, "--database", "postgresql://bc:pw@127.0.0.1:5432/bc",
                   python=venv_without_extras)
    refused(result, tmp_path, "pip install 'bridgechat[postgres]'")


def test_redis_without_its_extra_names_the_install_line(tmp_path: Path,
                                                        venv_without_extras: str) -> None:
    result = serve(tmp_path, "--redis", "redis://127.0.0.1:6379/0", python=venv_without_extras)
    refused(result, tmp_path, "pip install 'bridgechat[redis]'")


def test_a_port_in_use(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = serve(tmp_path, "--port", str(port))
    refused(result, tmp_path, f"port {port}", "already in use", "--port")


def test_an_unreachable_redis(tmp_path: Path) -> None:
    result = serve(tmp_path, "--port", "0", "--redis",
                   f"redis://:hunter2@127.0.0.1:{free_port()}/0")
    line = refused(result, tmp_path, "cannot reach Redis")
    assert "hunter2" not in line


def test_an_unreachable_postgresql(tmp_path: Path) -> None:
    result = serve(tmp_path, "--port", "0", "--database",
                   f"postgresql://bc:hunter2@127.0.0.1:{free_port()}/bc")
    line = refused(result, tmp_path, "cannot reach the database", "bc:***@")
    assert "hunter2" not in line


def test_a_data_dir_that_cannot_be_made(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    result = serve(tmp_path, "--port", "0", "--data-dir", str(blocker / "data"))
    blocker.unlink()  # the only thing in the directory, put there by the test
    refused(result, tmp_path, "cannot make the data dir", "is a file")


def test_a_data_dir_without_write_permission() -> None:
    """As an unprivileged user (root writes anywhere, so CI's root drops to nobody)."""
    import tempfile

    with tempfile.TemporaryDirectory() as shared:
        cwd = Path(shared)
        cwd.chmod(0o777)
        locked = cwd.parent / f"{cwd.name}-locked"
        locked.mkdir(mode=0o555)
        try:
            env = {k: v for k, v in os.environ.items() if not k.startswith("BRIDGECHAT_")}
            drop = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
            result = subprocess.run(
                [*(drop if os.geteuid() == 0 else []), sys.executable, "-m", "bridgechat",
                 "serve", "--port", "0", "--data-dir", str(locked / "data")],
                cwd=cwd, env=env, capture_output=True, text=True, timeout=60)
        finally:
            locked.rmdir()
        refused(result, cwd, "not writable", str(locked))


BAD_DECK = """\
[[prompts]]
id = "one"
text = "A fine prompt"

[[prompts]]
id = "two"
text = ""
"""


def test_a_bad_deck_names_its_line_and_reason(tmp_path: Path) -> None:
    decks = tmp_path.parent / f"{tmp_path.name}-decks"
    decks.mkdir()
    (decks / "deck.toml").write_text(BAD_DECK)
    (decks / "broken.toml").write_text('[[prompts]]\nid = "x\n')
    result = serve(tmp_path, "--port", "0", "--deck", str(decks / "deck.toml"))
    refused(result, tmp_path, "deck.toml, line 5", "`text` must be a non-empty string")
    result = serve(tmp_path, "--port", "0", "--deck", str(decks / "broken.toml"))
    refused(result, tmp_path, "broken.toml", "line 2")
    result = serve(tmp_path, "--port", "0", "--deck", str(decks / "missing.toml"))
    refused(result, tmp_path, "cannot read the deck file", "No such file")


def test_a_bad_report_key(tmp_path: Path) -> None:
    result = serve(tmp_path, "--port", "0", env={"BRIDGECHAT_REPORT_KEY": "too-short"})
    refused(result, tmp_path, "BRIDGECHAT_REPORT_KEY", "32 bytes")


def test_running_is_said_only_once_the_socket_listens(tmp_path: Path) -> None:
    port = free_port()
    environ = {k: v for k, v in os.environ.items() if not k.startswith("BRIDGECHAT_")}
    proc = subprocess.Popen([sys.executable, "-m", "bridgechat", "serve", "--port", str(port),
                             "--data-dir", "data"], cwd=tmp_path, env=environ, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert f"http://localhost:{port}/" in line and "running" in line
        # No retry: the line promises the port already answers.
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as r:
            assert r.status == 200
        # The checks refuse what is wrong, not what is right: a clean start makes its data.
        assert (tmp_path / "data" / "bridgechat.db").exists()
        assert (tmp_path / "data" / "report.key").exists()
    finally:
        proc.terminate()
        proc.wait(10)
