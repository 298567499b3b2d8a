"""`bridgechat bench relay` and `bench connections` against a real test server.

Real behaviour, not timing: the load generator pairs its members through
hello, join and matched, sends, gets every message delivered and acked,
and prints its figures with zero errors. No assertion depends on speed.
Also: loopback only, one source address per client, a clear message
without the bench extra, and bench/suite.py running either checkout layout.
"""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import pytest
from bridgechat.bench import NEEDS_EXTRA
from bridgechat.bench import main as bench_main
from bridgechat.bench.loopback import NotLoopback, open_ws, source_address
from bridgechat.bench.protocols import ws_url
from conftest import ROOT, LiveServer, free_port
from modclient import PASSWORD, moderated_server
from websockets.asyncio.server import ServerConnection, serve


def bench(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bridgechat", "bench", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout, check=False)


def test_bench_relay_prints_figures_and_no_errors(
        make_server: Callable[..., LiveServer]) -> None:
    # Rate limits lifted as for any load test (the default is 5/s after a burst of 30).
    srv = make_server("--send-rate", "1000", "--send-burst", "1000", "--first-day-burst", "1000")
    assert srv.proc is not None
    done = bench("relay", "--url", srv.url, "--pairs", "3", "--rate", "60", "--duration", "2",
                 "--warmup", "0.5", "--procs", "2", "--server-pid", str(srv.proc.pid))
    out = done.stdout
    assert done.returncode == 0, f"{out}\n{done.stderr}\n{srv.log()[-3000:]}"
    assert "setup: 3 of 3 pairs matched" in done.stderr
    for label in ("p50", "p95", "p99", "msg/s delivered", "ack latency",
                  "messages per server CPU-second", f"pid {srv.proc.pid}:", "RSS"):
        assert label in out, f"{label!r} missing from:\n{out}"
    assert re.search(r"^errors\s+0$", out, re.M), out
    delivered = re.search(r"\((\d+) messages\)", out)
    assert delivered and int(delivered.group(1)) > 0, out


def test_bench_relay_runs_with_the_bot_barrier_on(
        make_server: Callable[..., LiveServer]) -> None:
    """Every join is challenged (docs/protocol.md, "Bot barrier"): the load generator
    solves each challenge and the pairs are matched and chat as without it (here in
    ordinary sentences, `--text chat`, which pass the safety checks)."""
    port = free_port()
    srv = make_server("--send-rate", "1000", "--send-burst", "1000", "--first-day-burst", "1000",
                      "--bot-barrier", "always", "--metrics-listen", f"127.0.0.1:{port}")
    done = bench("relay", "--url", srv.url, "--pairs", "3", "--rate", "30", "--duration", "1",
                 "--warmup", "0.2", "--procs", "1", "--text", "chat")
    assert done.returncode == 0, f"{done.stdout}\n{done.stderr}\n{srv.log()[-3000:]}"
    assert "setup: 3 of 3 pairs matched" in done.stderr
    assert re.search(r"^errors\s+0$", done.stdout, re.M), done.stdout
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
        metrics = r.read().decode()
    assert re.search(r"^bridgechat_challenges_total 6\.0$", metrics, re.M), metrics


def test_bench_connections_counts_idle_members(
        make_server: Callable[..., LiveServer]) -> None:
    srv = make_server()
    assert srv.proc is not None
    done = bench("connections", "--url", srv.url, "--server-pid", str(srv.proc.pid),
                 "--counts", "10,20", "--procs", "2")
    assert done.returncode == 0, f"{done.stdout}\n{done.stderr}"
    rows = re.findall(r"^\s+(\d+)\s+(\d+)\s+(\d+)\s+[\d.]+\s+[-\d.]+\s+[-\d.]+", done.stdout, re.M)
    assert [(int(n), int(held), int(failed)) for n, held, failed in rows] == [
        (10, 10, 0), (20, 20, 0)], done.stdout



def test_bench_soak_prints_rows_then_growth_and_drift(
        make_server: Callable[..., LiveServer]) -> None:
    # Pairs of 2 to 4 s, so that members join and leave several times in 12 s.
    srv = make_server()
    assert srv.proc is not None
    done = bench("soak", "--url", srv.url, "--server-pid", str(srv.proc.pid), "--minutes", "0.2",
                 "--interval", "3", "--pairs", "4", "--every", "0.5", "--life-min", "2",
                 "--life-max", "4")
    out = done.stdout
    assert done.returncode == 0, f"{out}\n{done.stderr}\n{srv.log()[-3000:]}"
    rows = re.findall(r"^\s*([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+(\d+)\s+([\d.]+)\s+([\d.]+)"
                      r"\s+([\d.]+)\s+(\d+)\s+(\d+)$", out, re.M)
    assert len(rows) == 4, out  # one every 3 s of the 12
    assert all(float(r[1]) > 0 and int(r[3]) > 0 for r in rows), out  # RSS, messages
    assert int(rows[-1][7]) > 4, out  # pairs opened: more than the 4 at once
    assert re.search(r"^memory growth after minute [\d.]+: [-+][\d.]+ %", out, re.M), out
    assert re.search(r"^latency drift: p50 [\d.]+ -> [\d.]+ ms, p99 [\d.]+ -> [\d.]+ ms",
                     out, re.M), out
    assert re.search(r"^errors\s+0$", out, re.M), out


@pytest.fixture
def bare_relay(tmp_path: Path) -> Iterator[tuple[str, int]]:
    """bench/bare_relay.py on a free loopback port: (URL, pid); needs no Bridgechat node."""
    port = free_port()
    with open(tmp_path / "bare.log", "ab") as log:
        proc = subprocess.Popen([sys.executable, "bench/bare_relay.py", "--port", str(port)],
                                cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1)
            except urllib.error.HTTPError:
                break  # listening (it has no page at /)
            except OSError:
                time.sleep(0.05)
        assert proc.poll() is None, (tmp_path / "bare.log").read_text()
        yield f"http://127.0.0.1:{port}", proc.pid
    finally:
        proc.terminate()
        proc.wait(10)


def test_bench_relay_drives_the_bare_baseline(bare_relay: tuple[str, int]) -> None:
    url, pid = bare_relay
    done = bench("relay", "--protocol", "bare", "--url", url, "--pairs", "4", "--rate", "0",
                 "--window", "2", "--duration", "1", "--warmup", "0.3", "--procs", "2",
                 "--server-pid", str(pid))
    out = done.stdout
    assert done.returncode == 0, f"{out}\n{done.stderr}"
    assert "setup: 4 of 4 pairs matched" in done.stderr
    assert "as fast as delivered" in out and "ack latency" not in out, out
    assert re.search(r"^errors\s+0$", out, re.M), out


def test_benchmarks_refuse_a_server_off_loopback(capsys: pytest.CaptureFixture[str]) -> None:
    for what, argv in (("relay", ["--url", "http://10.1.2.3:8080"]),
                       ("relay", ["--url", "http://127.0.0.1:9", "--url", "example.org:80"]),
                       ("connections", ["--url", "http://[::1]:8080"])):
        assert bench_main(what, argv) == 2
        assert "loopback" in capsys.readouterr().err


def test_loopback_urls_and_source_addresses() -> None:
    assert ws_url("localhost:8080", "bridgechat") == "ws://127.0.0.1:8080/ws"
    assert ws_url("http://127.3.2.1:80/", "socketio") == (
        "ws://127.3.2.1:80/socket.io/?EIO=4&transport=websocket")
    with pytest.raises(NotLoopback):
        ws_url("https://bridgechat.example/", "bridgechat")
    assert [source_address(n) for n in (0, 1, 253, 254, 254 * 256, 254 * 256 * 256)] == [
        "127.0.0.1", "127.0.0.2", "127.0.0.254", "127.0.1.1", "127.1.0.1", "127.0.0.1"]
    addrs = {source_address(n) for n in range(100_000)}
    assert len(addrs) == 100_000
    assert not any(a.endswith((".0", ".255")) for a in addrs)


async def test_each_client_connects_from_its_own_loopback_address() -> None:
    seen: list[str] = []

    async def handler(ws: ServerConnection) -> None:
        seen.append(ws.remote_address[0])
        await ws.wait_closed()

    async with serve(handler, "127.0.0.1", 0) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        clients = [await open_ws(f"ws://127.0.0.1:{port}/ws", n, open_timeout=5)
                   for n in (0, 1, 300, 70_000)]
        for ws in clients:
            await ws.close()
    assert seen == [source_address(n) for n in (0, 1, 300, 70_000)]
    assert len(set(seen)) == 4


def test_without_the_bench_extra_it_says_what_to_install() -> None:
    # websockets made unimportable, as when `bridgechat[bench]` is not installed.
    code = ("import sys; sys.modules['websockets'] = None\n"
            "from bridgechat.bench import main\n"
            "sys.exit(main(sys.argv[1], ['--help']))")
    for what in ("relay", "connections"):
        done = subprocess.run([sys.executable, "-c", code, what], cwd=ROOT, capture_output=True,
                              text=True, timeout=60, check=False)
        assert done.returncode == 2, done.stderr
        assert done.stderr.strip() == NEEDS_EXTRA
        assert "Traceback" not in done.stderr


def _suite() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_suite", ROOT / "bench" / "suite.py")
    assert spec is not None and spec.loader is not None
    suite = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(suite)
    return suite


def test_suite_runs_a_before_checkout_of_either_layout(tmp_path: Path) -> None:
    suite = _suite()
    new, old = tmp_path / "new", tmp_path / "old"
    (new / "server" / "bridgechat").mkdir(parents=True)
    (new / "server" / "bridgechat" / "__init__.py").touch()
    (old / "server").mkdir(parents=True)
    (old / "server" / "__init__.py").touch()
    cmd, env = suite.checkout(new)
    assert cmd[1:] == ["-m", "bridgechat"]
    assert env["PYTHONPATH"].split(":")[0] == str(new / "server")
    cmd, env = suite.checkout(old)
    assert cmd[1:] == ["-m", "server"]
    assert env["PYTHONPATH"].split(":")[0] == str(old)
    with pytest.raises(RuntimeError):
        suite.checkout(tmp_path)
    # The load generator is always this checkout's.
    assert suite.CLIENT_ENV["PYTHONPATH"].split(":")[0] == str(ROOT / "server")


def test_bench_flood_refuses_the_flooding_address_and_measures_the_others() -> None:
    """`bridgechat bench flood`, briefly: the flooder is refused past its limit, while
    the chatting pairs' messages keep arriving (the figures themselves are for a person)."""
    out = subprocess.run(
        [sys.executable, "-m", "bridgechat", "bench", "flood", "--pairs", "2", "--seconds",
         "4", "--flood", "120", "--connections-per-address", "20", "--loop", "asyncio",
         "--json"], capture_output=True, text=True, timeout=120, check=True)
    figures = json.loads(out.stdout.strip().splitlines()[-1])
    flood, quiet = figures["flood"], figures["quiet"]
    # Held open (never saying hello) up to the limit; every later try refused before the
    # upgrade, none failing otherwise.
    assert flood["admitted"] == 20 and flood["failed"] == 0
    assert 0 < flood["refused_429"] <= 100
    assert quiet["messages"] > 0 and flood["messages"] > 0


def test_bench_matching_batch_prints_score_bound_and_fcfs() -> None:
    """`bench matching --batch`: one run over a pool present at once, against its bound and
    first come, first served on the same pool."""
    done = bench("matching", "--batch", "2000", "--full-bound-up-to", "0", timeout=300)
    out = done.stdout
    assert done.returncode == 0, f"{out}\n{done.stderr}"
    assert "upper bound" in out and "HiGHS" in out
    batch = re.search(r"^\| batch \| 2,000 \| [\d.]+ \| [\d.]+ \| [\d,]+ \| [\d.]+% \| [\d,]+ "
                      r"\| ([\d.]+)% \| ([\d.]+)% \|$", out, re.M)
    fcfs = re.search(r"^\| first come, first served \| 2,000 .* \| ([\d.]+)% \|$", out, re.M)
    assert batch and fcfs, out
    assert float(batch.group(1)) <= 100.0
    assert float(batch.group(2)) > float(fcfs.group(1)), out


def test_bench_day_signs_up_waits_in_the_lobby_and_chats(
        tmp_path_factory: pytest.TempPathFactory) -> None:
    """`bench day` end to end on one node: it announces an event as admin "ann", signs up
    its members, waits in the lobby, and at the start every one is matched (or told why)
    within 10 s; each room chats, nothing is lost, and the figures are printed."""
    srv = moderated_server(tmp_path_factory)
    try:
        password = tmp_path_factory.mktemp("day") / "password"
        password.write_text(PASSWORD + "\n")
        assert srv.proc is not None
        done = bench("day", "--url", srv.url, "--members", "24", "--admin", "ann",
                     "--password-file", str(password), "--starts-in", "8",
                     "--chat-seconds", "3", "--message-every", "1", "--procs", "2",
                     "--json", str(password.with_name("day.json")), timeout=120)
        out = done.stdout
        assert done.returncode == 0, f"{out}\n{done.stderr}\n{srv.log()[-3000:]}"
        fig = json.loads(password.with_name("day.json").read_text())
        assert fig["present"] == 24 and fig["matched"] == 24, out
        assert fig["last_room_s"] <= 10.0 and fig["rooms"] == 12, out
        assert fig["messages"] >= 24 * 2 and fig["lost"] == 0 and fig["errors"] == 0, out
        assert 0.0 <= fig["crossing2_share"] <= 1.0
        for label in ("in the lobby", "last room", "crossing two divides", "latency p50",
                      f"{srv.url.removesuffix('/')}: CPU"):
            assert label in out, f"{label!r} missing from:\n{out}"
    finally:
        srv.stop()
