"""`bridgechat bench relay` and `bench connections` against a real test server.

Real behaviour, not timing: the load generator pairs its members through
hello, join and matched, sends, gets every message delivered and acked,
and prints its figures with zero errors. No assertion depends on speed.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable

from conftest import ROOT, LiveServer


def bench(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bridgechat", "bench", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout, check=False)


def test_bench_relay_prints_figures_and_no_errors(
        make_server: Callable[..., LiveServer]) -> None:
    # Rate limits lifted as for any load test (the default is 5/s after a burst of 30).
    srv = make_server("--send-rate", "1000", "--send-burst", "1000")
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

