"""Flags, BRIDGECHAT_ variables and the --config file: one precedence, the same settings.

Runs `bridgechat config` itself, as an operator would, and compares what it
prints; a wrong key, value or variable stops the command with one line.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

# One value of each kind, none of them a default.
CHOSEN = {
    "host": "0.0.0.0", "port": 9123, "data-dir": "/var/lib/bc", "deck": "my-deck.toml",
    "database": "postgresql://bc:s3cret@db.example/bc", "redis": "redis://:pw@cache:6379/2",
    "public-url": "https://chat.example.org", "metrics-listen": "127.0.0.1:9181",
    "allow-origin": ["https://a.example", "https://b.example"], "loop": "asyncio",
    "bridge-wait": 3.5, "send-rate": 2, "outbox-frames": 100, "max-connections": 900,
    "require-invite": True, "member-retention-days": 90, "key-rotation-hours": 6,
}


def as_flags(values: dict[str, object]) -> list[str]:
    flags: list[str] = []
    for name, value in values.items():
        if value is True:
            flags.append(f"--{name}")
        elif isinstance(value, list):
            for v in value:
                flags += [f"--{name}", str(v)]
        else:
            flags += [f"--{name}", str(value)]
    return flags


def as_env(values: dict[str, object]) -> dict[str, str]:
    def text(v: object) -> str:
        if v is True:
            return "true"
        return ",".join(map(str, v)) if isinstance(v, list) else str(v)
    return {"BRIDGECHAT_" + n.replace("-", "_").upper(): text(v) for n, v in values.items()}


def as_toml(values: dict[str, object]) -> str:
    def text(v: object) -> str:
        if v is True:
            return "true"
        if isinstance(v, list):
            return "[" + ", ".join(f'"{i}"' for i in v) + "]"
        return str(v) if isinstance(v, int | float) else f'"{v}"'
    return "".join(f"{n} = {text(v)}\n" for n, v in values.items())


def config(cwd: Path, *flags: str, env: dict[str, str] | None = None
           ) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("BRIDGECHAT_")}
    return subprocess.run([sys.executable, "-m", "bridgechat", "config", *flags], cwd=cwd,
                          env={**environ, **(env or {})}, capture_output=True, text=True,
                          timeout=60)


def settings_of(out: str) -> dict[str, str]:
    """`name = value` per line, without the source comment."""
    found = {}
    for line in out.splitlines():
        if line.startswith("#"):
            continue
        name, _, rest = line.partition(" = ")
        found[name] = rest.rpartition("  # ")[0]
    return found


def sources_of(out: str) -> dict[str, str]:
    return {line.partition(" = ")[0]: line.rpartition("  # ")[2]
            for line in out.splitlines() if not line.startswith("#")}


def test_flags_environment_and_file_give_the_same_settings(tmp_path: Path) -> None:
    (tmp_path / "bridgechat.toml").write_text(as_toml(CHOSEN))
    by_flag = config(tmp_path, *as_flags(CHOSEN))
    by_env = config(tmp_path, env=as_env(CHOSEN))
    by_file = config(tmp_path, "--config", "bridgechat.toml")
    by_file_env = config(tmp_path, env={"BRIDGECHAT_CONFIG": "bridgechat.toml"})
    for run in (by_flag, by_env, by_file, by_file_env):
        assert run.returncode == 0, run.stderr
    effective = settings_of(by_flag.stdout)
    assert effective == settings_of(by_env.stdout) == settings_of(by_file.stdout)
    assert effective == settings_of(by_file_env.stdout)
    assert effective["port"] == "9123" and effective["send-rate"] == "2.0"
    assert effective["allow-origin"] == '["https://a.example", "https://b.example"]'
    assert effective["require-invite"] == "true"
    assert effective["member-retention-days"] == "90.0"
    assert set(sources_of(by_flag.stdout)[n] for n in CHOSEN) == {"flag"}
    assert set(sources_of(by_env.stdout)[n] for n in CHOSEN) == {"environment"}
    assert set(sources_of(by_file.stdout)[n] for n in CHOSEN) == {"file"}
    # Everything not chosen is the default, the same in all three.
    assert sources_of(by_flag.stdout)["heartbeat"] == "default"


def test_secrets_are_masked(tmp_path: Path) -> None:
    out = config(tmp_path, *as_flags(CHOSEN),
                 env={"BRIDGECHAT_REPORT_KEY": "A" * 43 + "="}).stdout
    assert "s3cret" not in out and ":pw@" not in out and "A" * 43 not in out
    assert 'database = "postgresql://bc:***@db.example/bc"' in out
    assert 'redis = "redis://:***@cache:6379/2"' in out
    assert "BRIDGECHAT_REPORT_KEY: set, hidden" in out


def test_a_flag_wins_over_the_environment_which_wins_over_the_file(tmp_path: Path) -> None:
    (tmp_path / "c.toml").write_text('port = 7001\nsend-rate = 1.5\nheartbeat = 12\n')
    out = config(tmp_path, "--config", "c.toml", "--port", "7003",
                 env={"BRIDGECHAT_PORT": "7002", "BRIDGECHAT_SEND_RATE": "2.5"}).stdout
    values, sources = settings_of(out), sources_of(out)
    assert (values["port"], sources["port"]) == ("7003", "flag")
    assert (values["send-rate"], sources["send-rate"]) == ("2.5", "environment")
    assert (values["heartbeat"], sources["heartbeat"]) == ("12.0", "file")


def test_the_printed_settings_are_a_config_file_that_gives_them_back(tmp_path: Path) -> None:
    first = config(tmp_path, "--port", "7100", "--send-burst", "9", "--allow-origin",
                   "https://x.example").stdout
    (tmp_path / "saved.toml").write_text(first)
    again = config(tmp_path, "--config", "saved.toml").stdout
    assert settings_of(again) == settings_of(first)


@pytest.mark.parametrize(("how", "words"), [
    (("--port", "eighty"), ["--port", "port number"]),
    (("--config", "missing.toml"), ["cannot read the config file", "missing.toml"]),
    (("--config", "typo.toml"), ["typo.toml, line 2", "'prot' is not a setting",
                                 "did you mean 'port'"]),
    (("--config", "wrong.toml"), ["wrong.toml, line 1", "send-rate must be a number above"]),
])
def test_a_wrong_setting_is_one_line_and_exit_2(tmp_path: Path, how: tuple[str, ...],
                                                words: list[str]) -> None:
    (tmp_path / "typo.toml").write_text('host = "0.0.0.0"\nprot = 80\n')
    (tmp_path / "wrong.toml").write_text('send-rate = -1\n')
    run = config(tmp_path, *how)
    assert run.returncode == 2 and run.stdout == ""
    line = run.stderr.strip().splitlines()[-1]  # argparse puts its usage line first
    for word in words:
        assert word in line, run.stderr


def test_a_wrong_environment_variable_names_itself(tmp_path: Path) -> None:
    run = config(tmp_path, env={"BRIDGECHAT_MAX_WAIT": "soon"})
    assert run.returncode == 2 and run.stdout == ""
    assert run.stderr.strip() == ("bridgechat: BRIDGECHAT_MAX_WAIT: must be a number above "
                                  "zero, not 'soon'")


def test_the_store_commands_read_the_same_settings(tmp_path: Path) -> None:
    """`moderator add` finds the data dir from the config file, as `serve` would."""
    (tmp_path / "c.toml").write_text('data-dir = "elsewhere"\n')
    environ = {k: v for k, v in os.environ.items() if not k.startswith("BRIDGECHAT_")}
    run = subprocess.run([sys.executable, "-m", "bridgechat", "moderator", "add", "ana",
                          "--config", "c.toml"], cwd=tmp_path, env=environ,
                         input="a long enough passphrase\n", capture_output=True, text=True,
                         timeout=60)
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "elsewhere" / "bridgechat.db").exists()
    assert not (tmp_path / "bridgechat-data").exists()
