"""Fixtures that run the real server as a separate process.

Integration tests talk to it over real sockets with the `websockets`
library, so they share no code with the server beyond its wire contract.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from wsclient import Clients

ROOT = Path(__file__).resolve().parent.parent
# BRIDGECHAT_TEST_BROKER=redis runs every wire test against nodes on a real
# redis-server, so one contract suite covers both brokers end to end.
TEST_BROKER = os.environ.get("BRIDGECHAT_TEST_BROKER", "memory")
# BRIDGECHAT_TEST_LOOP=uvloop runs every test server on uvloop (`--loop uvloop`);
# the default is asyncio's own loop. A test that names its loop keeps it.
TEST_LOOP = os.environ.get("BRIDGECHAT_TEST_LOOP", "asyncio")
if TEST_LOOP not in ("asyncio", "uvloop"):
    raise RuntimeError(f"BRIDGECHAT_TEST_LOOP must be asyncio or uvloop, not {TEST_LOOP!r}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LiveServer:
    """A `bridgechat serve` process on a free loopback port."""

    data_dir: Path
    log_path: Path
    args: list[str] = field(default_factory=list)
    port: int = 0
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    @property
    def origin(self) -> str:
        return self.url

    def start(self) -> LiveServer:
        self.port = self.port or free_port()
        loop = [] if "--loop" in self.args else ["--loop", TEST_LOOP]
        cmd = [
            sys.executable, "-m", "bridgechat", "serve",
            "--host", "127.0.0.1", "--port", str(self.port),
            "--data-dir", str(self.data_dir), *loop, *self.args,
        ]
        log = open(self.log_path, "ab")  # noqa: SIM115 - handed to the child
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT, env=env)
        log.close()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited early:\n{self.log()}")
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=1) as r:
                    if r.status == 200:
                        return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"server not ready in 20 s:\n{self.log()}")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


@pytest.fixture(scope="session")
def broker_flags(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[str]]:
    """Flags that put test servers on the broker chosen by BRIDGECHAT_TEST_BROKER."""
    if TEST_BROKER != "redis":
        yield []
        return
    from cluster_util import RedisServer, redis_binary

    binary = redis_binary()
    if binary is None:
        pytest.fail("BRIDGECHAT_TEST_BROKER=redis but redis-server is not installed")
    srv = RedisServer(binary, tmp_path_factory.mktemp("redis-shared")).start()
    try:
        yield ["--redis", srv.url]
    finally:
        srv.stop()


@pytest.fixture
def make_server(tmp_path_factory: pytest.TempPathFactory,
                broker_flags: list[str]) -> Iterator[Callable[..., LiveServer]]:
    """Start servers with extra command-line flags; all are stopped after the test."""
    started: list[LiveServer] = []

    def make(*args: str, data_dir: Path | None = None) -> LiveServer:
        base = tmp_path_factory.mktemp("bridgechat")
        flags = list(args) if "--redis" in args else [*broker_flags, *args]
        srv = LiveServer(data_dir=data_dir or base / "data", log_path=base / "server.log",
                         args=flags)
        started.append(srv)
        return srv.start()

    yield make
    for srv in started:
        srv.stop()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory,
           broker_flags: list[str]) -> Iterator[LiveServer]:
    """One server shared by a test module (short grace period for reconnection tests)."""
    base = tmp_path_factory.mktemp("bridgechat")
    srv = LiveServer(data_dir=base / "data", log_path=base / "server.log",
                     args=[*broker_flags, "--grace-period", "5"])
    srv.start()
    yield srv
    srv.stop()


# -- many nodes: throwaway PostgreSQL and Redis (tests/cluster_util.py) ---------


@pytest.fixture(scope="session")
def postgres() -> Iterator[object]:
    """One PostgreSQL server for the test session; tests make their own databases in it."""
    from cluster_util import PostgresServer, pg_bindir

    bindir = pg_bindir()
    if bindir is None:
        pytest.skip("PostgreSQL server binaries not installed (apt-get install postgresql)")
    pg = PostgresServer(bindir)
    try:
        pg.start()
        yield pg
    finally:
        pg.stop()


@pytest.fixture
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """A redis-server with persistence off on a free port, stopped after the test."""
    from cluster_util import RedisServer, redis_binary

    binary = redis_binary()
    if binary is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    srv = RedisServer(binary, tmp_path_factory.mktemp("redis"))
    try:
        yield srv.start()
    finally:
        srv.stop()


@pytest.fixture
async def clients(server: LiveServer) -> AsyncIterator[Clients]:
    """Members on the test server (the `websockets` client), closed after the test."""
    async with Clients(server.ws_url) as c:
        yield c
