"""`bench relay`'s figures: the workers' tallies merged with the server's /proc readings.

The printed lines and the --json keys are what bench/suite.py and
tests/test_bench_smoke.py read: change them only together.
"""

from __future__ import annotations

import argparse
import array
import json
import os
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bridgechat.bench.process_stats import ProcSample


def percentile(sorted_xs: Sequence[float], q: float) -> float:
    if not sorted_xs:
        return float("nan")
    return sorted_xs[min(len(sorted_xs) - 1, max(0, round(q * len(sorted_xs) + 0.5) - 1))]


def summarise(args: argparse.Namespace, results: dict[int, dict[str, Any]], pids: list[int],
              before: dict[int, ProcSample | None], after: dict[int, ProcSample | None],
              elapsed: float, machine_busy: float) -> dict[str, Any]:
    """Merge the workers' figures with the server's /proc readings; print them."""
    lat: array.array[float] = array.array("d")
    ack_lat: array.array[float] = array.array("d")
    errors: Counter[str] = Counter()
    tot: Counter[str] = Counter()
    for r in results.values():
        lat.frombytes(r["lat"])
        ack_lat.frombytes(r["ack_lat"])
        errors.update(r["errors"])
        for k in ("sent", "recv", "sent_in", "recv_in", "acks", "members"):
            tot[k] += r[k]
    lats, acks = sorted(lat), sorted(ack_lat)
    server: dict[str, dict[str, float]] = {}
    cpu = 0.0
    for pid in pids:
        a, b = before.get(pid), after.get(pid)
        if a is not None and b is not None:
            server[str(pid)] = {"cpu_s": b.cpu - a.cpu, "rss_mib": b.rss / 2**20,
                                "hwm_mib": b.hwm / 2**20}
            cpu += b.cpu - a.cpu
    client_cpu = sum((b.cpu - a.cpu) for pid, (a, b) in
                     ((p, (before.get(p), after.get(p))) for p in before if p not in pids)
                     if a is not None and b is not None)
    ms = 1000.0
    fig: dict[str, Any] = {
        "label": args.label or args.protocol, "protocol": args.protocol, "urls": len(args.url),
        "pairs": tot["members"] // 2, "rate": args.rate, "duration": args.duration,
        "size": args.size, "procs": len(results),
        "delivered": tot["recv_in"], "msgs_per_s": tot["recv_in"] / args.duration,
        "p50_ms": percentile(lats, 0.50) * ms, "p95_ms": percentile(lats, 0.95) * ms,
        "p99_ms": percentile(lats, 0.99) * ms, "max_ms": (lats[-1] * ms) if lats else 0.0,
        "ack_p50_ms": percentile(acks, 0.50) * ms, "ack_p99_ms": percentile(acks, 0.99) * ms,
        "errors": sum(errors.values()), "error_kinds": dict(errors),
        "server": server, "server_cpu_s": cpu if server else None,
        "msgs_per_cpu_s": (tot["recv_in"] / cpu) if server and cpu > 0 else None,
        "client_cpu_s": client_cpu, "machine_busy": machine_busy, "elapsed_s": elapsed,
        "others_cpu_s": max(0.0, machine_busy * (os.cpu_count() or 1) * elapsed
                            - cpu - client_cpu),
        "max_lag_s": max((r["max_lag"] for r in results.values()), default=0.0),
    }
    print_figures(fig)
    if args.json:
        Path(args.json).write_text(json.dumps(fig, indent=2) + "\n")
    return fig


def print_figures(f: dict[str, Any]) -> None:
    rate = "as fast as delivered" if f["rate"] <= 0 else f"{f['rate']:.0f} msg/s offered"
    print(f"bench relay: {f['label']} ({f['protocol']}, {f['urls']} node(s)), {f['pairs']} pairs,"
          f" {rate}, {f['duration']:.0f} s measured, {f['size']} chars, {f['procs']} client procs")
    print(f"throughput   {f['msgs_per_s']:.0f} msg/s delivered ({f['delivered']} messages)")
    print(f"latency      p50 {f['p50_ms']:.2f} ms  p95 {f['p95_ms']:.2f} ms  "
          f"p99 {f['p99_ms']:.2f} ms  max {f['max_ms']:.1f} ms")
    if f["protocol"] != "bare":
        print(f"ack latency  p50 {f['ack_p50_ms']:.2f} ms  p99 {f['ack_p99_ms']:.2f} ms")
    kinds = ", ".join(f"{k}: {v}" for k, v in sorted(f["error_kinds"].items()))
    print(f"errors       {f['errors']}" + (f" ({kinds})" if kinds else ""))
    if f["server"]:
        for pid, s in f["server"].items():
            print(f"server       pid {pid}: {s['cpu_s']:.2f} CPU s "
                  f"({100 * s['cpu_s'] / max(1e-9, f['elapsed_s']):.0f}% of a core), "
                  f"RSS {s['rss_mib']:.1f} MiB (peak {s['hwm_mib']:.1f})")
        per_cpu = "n/a" if f["msgs_per_cpu_s"] is None else f"{f['msgs_per_cpu_s']:.0f}"
        print(f"efficiency   {per_cpu} messages per server CPU-second "
              f"({f['server_cpu_s']:.2f} CPU s in {f['elapsed_s']:.1f} s)")
    else:
        print("server       CPU and memory: n/a (pass --server-pid, or run where /proc "
              "shows the listening process)")
    print(f"client       {f['client_cpu_s']:.2f} CPU s; machine busy "
          f"{100 * f['machine_busy']:.0f}% (other processes {f['others_cpu_s']:.2f} CPU s); "
          f"sender lag at most {1000 * f['max_lag_s']:.0f} ms")
