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


# -- markers: `slow` (over ~5 s) and `bench` (the benchmark scripts) -------------------
#
# Set here rather than in each file: by kind (every browser test, the cluster, PostgreSQL)
# and, for the rest, by name. `bash scripts/test -m "not slow"` leaves them all out.

SLOW_FILES = frozenset({"test_cluster.py", "test_fault_restart.py", "test_hostile_stateful.py"})
BENCH_FILES = frozenset({"test_bench_smoke.py"})
SLOW_TESTS = frozenset({
    # real benchmark runs, a few seconds each
    "test_bench_smoke.py::test_bench_relay_prints_figures_and_no_errors",
    "test_bench_smoke.py::test_bench_relay_runs_with_the_bot_barrier_on",
    "test_bench_smoke.py::test_bench_connections_counts_idle_members",
    "test_bench_smoke.py::test_bench_relay_drives_the_bare_baseline",
    "test_bench_smoke.py::test_bench_flood_refuses_the_flooding_address_and_measures_the_others",
    "test_bench_smoke.py::test_bench_soak_prints_rows_then_growth_and_drift",
    # the default 2 s / 10 s matching promises, kept at their real length
    "test_wire_matching.py::test_no_profiles_not_matched_before_2s_but_within_10s",
    "test_wire_matching.py::test_identical_profiles_not_matched_before_2s_but_within_10s",
    "test_wire_matching.py::test_a_single_divide_is_matched_before_the_10s_promise",
    # a guided conversation of 6 s, stage by stage
    "test_wire_guided.py::test_stages_turn_on_time_and_the_room_ends",
    # a conversation of 3 s made 3 s longer, run to its new end
    "test_wire_extend.py::test_both_agree_the_set_length_is_added_once",
    # seconds of real heartbeats, argon2 hashing and idle timeouts
    "test_heartbeat.py::test_talking_member_is_not_pinged_and_silent_one_is_dropped",
    "test_heartbeat.py::test_member_who_answers_pings_stays_connected",
    "test_moderation_cli.py::test_remove_ends_the_accounts_sessions",
    "test_moderation_cli.py::test_add_refuses_weak_passwords_bad_names_and_taken_names",
    "test_moderation_invites.py::test_every_action_appears_once_in_the_audit_log",
    "test_moderation_auth.py::test_an_idle_session_expires_and_its_feed_closes",
    "test_moderation_auth.py::test_guesses_at_a_username_slow_it_down_but_never_lock_it",
    "test_moderation_lockout.py::test_the_owner_signs_in_during_an_attack_from_many_addresses",
})


def _is_slow(item: pytest.Item) -> bool:
    name = f"{item.path.name}::{getattr(item, 'originalname', item.name)}"
    callspec = getattr(item, "callspec", None)
    on_postgres = "postgres" in getattr(item, "fixturenames", ()) or (
        callspec is not None and "postgresql" in callspec.params.values())
    return (item.path.name in SLOW_FILES or name in SLOW_TESTS or on_postgres
            or item.get_closest_marker("browser") is not None)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.name in BENCH_FILES:
            item.add_marker(pytest.mark.bench)
        if _is_slow(item):
            item.add_marker(pytest.mark.slow)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# The test clients all come from 127.0.0.1, which real members never share in these
# numbers: the per-address limits are raised (a test of a limit sets its own flag,
# which comes later on the command line and wins).
TEST_SERVER_LIMITS = ("--connections-per-address", "100000", "--handshakes-per-minute",
                      "1000000", "--new-members-per-hour", "1000000",
                      # joins of every test in a module, on one node: auto never asks for proof
                      "--bot-barrier-per-minute", "1000000")


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
            "--data-dir", str(self.data_dir), *loop, *TEST_SERVER_LIMITS, *self.args,
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
def moderated_srv(tmp_path_factory: pytest.TempPathFactory,
                  broker_flags: list[str]) -> Iterator[LiveServer]:
    """A module's server with admin "ann" and moderator "mo", on the broker under test."""
    from modclient import moderated_server  # modclient imports this module

    server = moderated_server(tmp_path_factory, *broker_flags)
    yield server
    server.stop()


def module_server(tmp_path_factory: pytest.TempPathFactory, name: str,
                  args: list[str]) -> Iterator[LiveServer]:
    """A server for a module-scoped fixture: started, yielded, stopped."""
    base = tmp_path_factory.mktemp(name)
    srv = LiveServer(data_dir=base / "data", log_path=base / "server.log", args=args)
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory,
           broker_flags: list[str]) -> Iterator[LiveServer]:
    """One server shared by a test module (short grace period for reconnection tests)."""
    yield from module_server(tmp_path_factory, "bridgechat", [*broker_flags, "--grace-period", "5"])


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
