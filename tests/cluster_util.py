"""Throwaway PostgreSQL and Redis servers for tests, from Debian's packages.

Each runs on a free loopback port with its files in a temporary directory,
and `stop()` ends the process and removes the directory. As root, PostgreSQL
runs as the `postgres` user (initdb refuses root), so its directory sits in
/tmp, owned by that user, rather than under pytest's root-only tmp dirs.
Every wait is bounded.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

PG_USER = "bridgechat"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def free_port_run(n: int) -> int:
    """The first of n consecutive free ports (deploy/local-cluster.sh numbers its nodes so)."""
    for _ in range(100):
        first = free_port()
        try:
            with contextlib.ExitStack() as stack:
                for i in range(1, n):
                    s = stack.enter_context(socket.socket())
                    s.bind(("127.0.0.1", first + i))
            return first
        except OSError:
            continue
    raise RuntimeError(f"no {n} consecutive free ports in 100 tries")


def pg_bindir() -> Path | None:
    """The newest PostgreSQL server's bin dir from Debian's packages, if any."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(Path(p).parent.parent.name))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def redis_binary() -> str | None:
    return shutil.which("redis-server")


def _wait_port(port: int, seconds: float, what: str, alive: subprocess.Popen[bytes] | None,
               log: Path) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if alive is not None and alive.poll() is not None:
            raise RuntimeError(f"{what} exited early:\n{log.read_text(errors='replace')}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.05)
    raise RuntimeError(f"{what} not listening on {port} in {seconds} s:\n"
                       f"{log.read_text(errors='replace') if log.exists() else ''}")


class PostgresServer:
    """initdb + pg_ctl start on 127.0.0.1:port; a superuser `bridgechat`, trust auth."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="bridgechat-pg-"))
        self.data = self.dir / "data"
        self.log = self.dir / "postgres.log"
        self._as: list[str] = []
        if os.geteuid() == 0:
            pw = pwd.getpwnam("postgres")
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
            self._as = ["runuser", "-u", "postgres", "--"]

    def _run(self, *cmd: str, timeout: float = 60) -> None:
        done = subprocess.run([*self._as, *cmd], capture_output=True, timeout=timeout,
                              cwd=self.dir, check=False)
        if done.returncode != 0:
            log = self.log.read_text(errors="replace") if self.log.exists() else ""
            raise RuntimeError(f"{cmd[0]} failed ({done.returncode}):\n"
                               f"{done.stdout.decode(errors='replace')}"
                               f"{done.stderr.decode(errors='replace')}{log}")

    def start(self) -> PostgresServer:
        self._run(str(self.bindir / "initdb"), "-D", str(self.data), "-U", PG_USER,
                  "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync")
        # fsync off: a test database need not survive a power cut, and it is much faster.
        opts = (f"-c listen_addresses=127.0.0.1 -c port={self.port} "
                f"-c unix_socket_directories={self.dir} -c fsync=off "
                "-c synchronous_commit=off -c full_page_writes=off")
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-l", str(self.log),
                  "-o", opts, "-w", "-t", "30", "start", timeout=40)
        _wait_port(self.port, 10, "PostgreSQL", None, self.log)
        return self

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{PG_USER}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """A new empty database; returns its URL."""
        import psycopg

        with psycopg.connect(self.url(), autocommit=True, connect_timeout=10) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        pidfile = self.data / "postmaster.pid"
        try:
            if pidfile.exists():
                self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate",
                          "-w", "-t", "20", "stop", timeout=30)
        except (RuntimeError, subprocess.TimeoutExpired):
            # A loaded machine can outlast pg_ctl's wait: end the postmaster outright.
            with contextlib.suppress(OSError, ValueError, IndexError):
                os.kill(int(pidfile.read_text().split()[0]), signal.SIGKILL)
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)


class RedisServer:
    """redis-server on 127.0.0.1:port with persistence off, as the cluster runs it."""

    def __init__(self, binary: str, workdir: Path, port: int | None = None) -> None:
        self.binary = binary
        self.dir = workdir
        self.port = port or free_port()
        self.log = workdir / "redis.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        self.dir.mkdir(parents=True, exist_ok=True)
        log = open(self.log, "ab")  # noqa: SIM115 - handed to the child
        self.proc = subprocess.Popen(
            [self.binary, "--bind", "127.0.0.1", "--port", str(self.port), "--save", "",
             "--appendonly", "no", "--dir", str(self.dir), "--protected-mode", "yes"],
            stdout=log, stderr=subprocess.STDOUT, cwd=self.dir)
        log.close()
        _wait_port(self.port, 10, "redis-server", self.proc, self.log)
        return self

    def kill(self) -> None:
        """SIGKILL, like a crash: with persistence off, everything in it is gone."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


def http_status(url: str, timeout: float = 2.0) -> int | None:
    """The status of a GET, or None when nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return int(r.status)
    except urllib.error.HTTPError as e:
        return int(e.code)
    except OSError:
        return None


def wait_status(url: str, want: int, seconds: float) -> list[int | None]:
    """Poll until GET url answers `want`; return every status seen. Fails after `seconds`."""
    seen: list[int | None] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        status = http_status(url)
        if not seen or seen[-1] != status:
            seen.append(status)
        if status == want:
            return seen
        time.sleep(0.1)
    raise AssertionError(f"{url} did not answer {want} within {seconds} s; saw {seen}")
