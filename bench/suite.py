"""Run every relay benchmark in one go, on this machine, and print the table.

For each event loop (asyncio, uvloop) it starts, measures and stops, one
after another: the bare aiohttp relay, Bridgechat on one node, Bridgechat on
two nodes through Redis, and python-socketio on two nodes through Redis.
Each gets the same client (`bridgechat bench relay`), payload, pairs and
offered rate. Then Bridgechat on one node as fast as delivery allows (its
maximum rate) and again at half that rate, and memory per idle connection
for every server (`bridgechat bench connections`). Redis runs with
`--save '' --appendonly no`; every process started here is stopped here.

    python bench/suite.py [--rate 1000] [--pairs 100] [--duration 10] [--out bench-out]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
# Rate limits lifted for load tests: the default is 5 messages a second after a burst of 30.
LIFT = ["--send-rate", "1000000", "--send-burst", "1000000", "--first-day-burst", "1000000"]
# Command prefixes that pin servers and the load generator to their own CPUs (--pin).
PIN: dict[str, list[str]] = {"server": [], "client": []}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(proc: subprocess.Popen[bytes], port: int, http: bool, log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args!r} exited early:\n{log.read_text(errors='replace')}")
        if http:
            with contextlib.suppress(OSError), urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/healthz", timeout=1):
                return
        else:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                time.sleep(0.3)  # listening; give the app a moment to finish starting
                return
        time.sleep(0.1)
    raise RuntimeError(f"{proc.args!r} not ready in 30 s")


class Procs:
    """Processes started for one measurement; all stopped on exit."""

    def __init__(self, work: Path) -> None:
        self.work = work
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self, name: str, cmd: list[str], port: int, http: bool = False,
              cwd: Path = ROOT, env: dict[str, str] | None = None) -> int:
        log = self.work / f"{name}.log"
        with open(log, "ab") as f:
            proc = subprocess.Popen([*PIN["server"], *cmd], stdout=f, stderr=subprocess.STDOUT,
                                    cwd=cwd, env=env)
        self.procs.append(proc)
        wait_ready(proc, port, http, log)
        return proc.pid

    def stop(self) -> None:
        for proc in reversed(self.procs):
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        self.procs.clear()


def checkout(root: Path) -> tuple[list[str], dict[str, str]]:
    """How to run the server of the checkout at `root`: (python -m ..., environment).

    Since the rename the import package is `bridgechat`, under root/server (a src
    layout); before it, the package was `server` itself, at the root."""
    root = root.resolve()
    if (root / "server" / "bridgechat" / "__init__.py").is_file():
        module, path = "bridgechat", root / "server"
    elif (root / "server" / "__init__.py").is_file():
        module, path = "server", root
    else:
        raise RuntimeError(f"{root}: no server/bridgechat/ nor server/__init__.py: "
                           "not a Bridgechat checkout")
    # Its own directory first on the path, ahead of whatever bridgechat the venv has.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(path), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))])}
    return [PY, "-m", module], env


@contextlib.contextmanager
def system(name: str, loop: str, work: Path, before: Path | None = None
           ) -> Iterator[tuple[list[str], list[int], str]]:
    """Start one system; yield (urls, pids to measure, protocol).

    `bridgechat-1-before` and `bridgechat-2-before` run the server found in
    the `before` checkout instead of this one (for a before/after ratio);
    `bridgechat-1-nochecks` runs this one with a deck that turns the safety
    checks off (no contact details held, no watch list), for their cost."""
    cwd, logs = ROOT, name  # logs: the name the server logs go under, -before kept
    if name.endswith("-before"):
        if before is None:
            raise RuntimeError(f"{name} needs --before DIR")
        name, cwd = name[: -len("-before")], before
    serve, serve_env = checkout(cwd)
    ps = Procs(work)
    data = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=shm()))
    try:
        redis_pid = redis_url = None
        if name in ("bridgechat-2", "socketio-2"):
            rport = free_port()
            redis_pid = ps.start(f"{logs}-{loop}-redis", [
                "redis-server", "--bind", "127.0.0.1", "--port", str(rport), "--save", "",
                "--appendonly", "no", "--dir", str(data)], rport)
            redis_url = f"redis://127.0.0.1:{rport}/0"
        ports = [free_port(), free_port()]
        if name == "bare":
            pids = [ps.start(f"bare-{loop}", [PY, "bench/bare_relay.py", "--port", str(ports[0]),
                                              "--loop", loop], ports[0])]
            ports, proto = ports[:1], "bare"
        elif name == "socketio-2":
            pids = [ps.start(f"socketio-{loop}-{i}", [
                PY, "bench/socketio_relay.py", "--port", str(p), "--redis", str(redis_url),
                "--loop", loop], p) for i, p in enumerate(ports)]
            proto = "socketio"
        else:
            n = 1 if name.startswith("bridgechat-1") else 2
            extra = ["--redis", str(redis_url)] if redis_url else []
            if name.endswith("-nochecks"):
                extra += ["--deck", str(unchecked_deck(data))]
            pids = [ps.start(f"{logs}-{loop}-{i}", [
                *serve, "serve", "--host", "127.0.0.1", "--port", str(p),
                "--data-dir", str(data / "data"), "--loop", loop, *LIFT, *extra], p, http=True,
                cwd=cwd, env=serve_env) for i, p in enumerate(ports[:n])]
            ports, proto = ports[:n], "bridgechat"
        if redis_pid is not None:
            pids.append(redis_pid)
        yield [f"http://127.0.0.1:{p}" for p in ports], pids, proto
    finally:
        ps.stop()
        shutil.rmtree(data, ignore_errors=True)


def unchecked_deck(data: Path) -> Path:
    """The default deck with the safety checks off: contact details pass, no watch list."""
    text = (ROOT / "server/bridgechat/data/deck.toml").read_text()
    text = text[:text.index("[safety.watch]")].replace(
        "hold_contact_details = true", "hold_contact_details = false")
    path = data / "deck-nochecks.toml"
    path.write_text(text)
    return path


# The load generator is always this checkout's `bridgechat bench`, whichever server runs.
CLIENT_ENV = checkout(ROOT)[1]


def shm() -> str | None:
    """Data dirs on tmpfs when there is one: the benchmark is not about disk."""
    return "/dev/shm" if os.path.isdir("/dev/shm") else None


def relay(label: str, urls: list[str], pids: list[int], proto: str, args: argparse.Namespace,
          rate: float, out: Path, pairs: int | None = None, window: int = 1
          ) -> dict[str, Any]:
    path = out / f"{label}.json"
    if args.resume and path.exists():
        done: dict[str, Any] = json.loads(path.read_text())
        return done
    cmd = [PY, "-m", "bridgechat", "bench", "relay", "--protocol", proto, "--pairs",
           str(pairs or args.pairs), "--rate", str(rate), "--duration", str(args.duration),
           "--window", str(window), "--size", str(args.size), "--text", args.text, "--label", label,
           "--client-loop", args.client_loop, "--json", str(path), "--quiet"]
    for u in urls:
        cmd += ["--url", u]
    for p in pids:
        cmd += ["--server-pid", str(p)]
    print(f"$ {' '.join(cmd[1:])}", flush=True)
    ran = subprocess.run([*PIN["client"], *cmd], cwd=ROOT, env=CLIENT_ENV,
                         timeout=args.duration + 180, check=False)
    if not path.exists():
        raise RuntimeError(f"{label}: bench relay failed (exit {ran.returncode})")
    fig: dict[str, Any] = json.loads(path.read_text())
    return fig


def connections(label: str, urls: list[str], pids: list[int], proto: str,
                args: argparse.Namespace, out: Path) -> dict[str, Any]:
    path = out / f"{label}.json"
    if args.resume and path.exists():
        done: dict[str, Any] = json.loads(path.read_text())
        return done
    cmd = [PY, "-m", "bridgechat", "bench", "connections", "--protocol", proto, "--url", urls[0],
           "--server-pid", str(pids[0]), "--counts", args.counts, "--label", label,
           "--json", str(path)]
    print(f"$ {' '.join(cmd[1:])}", flush=True)
    subprocess.run([*PIN["client"], *cmd], cwd=ROOT, env=CLIENT_ENV, timeout=1200, check=False)
    if not path.exists():
        raise RuntimeError(f"{label}: bench connections failed")
    fig: dict[str, Any] = json.loads(path.read_text())
    return fig


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rate", type=float, default=1000.0, help="offered msg/s for every system")
    p.add_argument("--pairs", type=int, default=100)
    p.add_argument("--duration", type=float, default=10.0)
    p.add_argument("--size", type=int, default=100)
    p.add_argument("--text", choices=("pad", "chat"), default="pad",
                   help="what the messages say (bridgechat bench relay --text)")
    p.add_argument("--loops", default="asyncio,uvloop")
    p.add_argument("--systems", default="bare,bridgechat-1,bridgechat-2,socketio-2")
    p.add_argument("--counts", default="1000,5000,10000")
    p.add_argument("--no-connections", action="store_true")
    p.add_argument("--no-max", action="store_true", help="skip the maximum-rate runs")
    p.add_argument("--repeat", type=int, default=3,
                   help="runs per system at --rate, interleaved across systems; the median "
                        "by messages per server CPU-second is reported")
    p.add_argument("--client-loop", choices=("asyncio", "uvloop"), default="uvloop",
                   help="event loop of the load generator (the same for every system)")
    p.add_argument("--before", type=Path, default=None,
                   help="a checkout of the server before a change: add bridgechat-1-before "
                        "(and -2-before) to --systems to measure it in the same run; either "
                        "layout runs (server/bridgechat/, or the `server` package of before "
                        "the rename), and the load generator stays this checkout's")
    p.add_argument("--pin", metavar="SERVER_CPUS:CLIENT_CPUS", default=None,
                   help="run servers (and Redis) on some CPUs and the load generator on the "
                        "others, with taskset, e.g. 0:1; by default they share every CPU")
    p.add_argument("--out", default="bench-out")
    p.add_argument("--resume", action="store_true",
                   help="reuse the figures of runs already in --out instead of running them")
    args = p.parse_args()
    if args.pin:
        server_cpus, client_cpus = args.pin.split(":")
        PIN["server"], PIN["client"] = (["taskset", "-c", server_cpus],
                                        ["taskset", "-c", client_cpus])
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {"args": vars(args), "relay": {}, "connections": {},
                               "runs": {}}
    for loop in args.loops.split(","):
        for r in range(args.repeat):
            for name in args.systems.split(","):
                label = f"{name}-{loop}"
                with system(name, loop, out, args.before) as (urls, pids, proto):
                    fig = relay(f"{label}-{r}", urls, pids, proto, args, args.rate, out)
                results["runs"].setdefault(label, []).append(fig)
        for label, runs in list(results["runs"].items()):
            if label.endswith(loop):
                ranked = sorted(runs, key=lambda f: f["msgs_per_cpu_s"] or 0.0)
                results["relay"][label] = {**ranked[len(ranked) // 2], "label": label,
                                           "range": [ranked[0]["msgs_per_cpu_s"],
                                                     ranked[-1]["msgs_per_cpu_s"]]}
        for name in args.systems.split(","):
            label = f"{name}-{loop}"
            if name == "bridgechat-1" and not args.no_max:
                with system(name, loop, out, args.before) as (urls, pids, proto):
                    top = relay(f"{label}-max", urls, pids, proto, args, 0, out, window=4)
                    results["relay"][f"{label}-max"] = top
                    half = round(top["msgs_per_s"] / 2)
                    results["relay"][f"{label}-half"] = relay(
                        f"{label}-half", urls, pids, proto, args, half, out)
            if not args.no_connections:
                try:
                    with system(name, loop, out, args.before) as (urls, pids, proto):
                        results["connections"][label] = connections(
                            f"{label}-conn", urls, pids, proto, args, out)
                except RuntimeError as exc:  # a row left empty, the rest still measured
                    print(f"{label}: {exc}", file=sys.stderr)
            (out / "suite.json").write_text(json.dumps(results, indent=2, default=str) + "\n")
    print(table(results))


def order(label: str) -> tuple[int, int, str]:
    """Rows by loop, then system as listed, then the max and half runs."""
    systems = ["bare", "bridgechat-1-before", "bridgechat-1-nochecks", "bridgechat-1",
               "bridgechat-2-before",
               "bridgechat-2", "socketio-2"]
    loop = 1 if "uvloop" in label else 0
    rank = next((i for i, n in enumerate(systems) if label.startswith(n + "-")), 9)
    return loop, rank, label


def table(results: dict[str, Any]) -> str:
    rows = ["| run | offered msg/s | delivered msg/s | p50 ms | p95 ms | p99 ms | errors "
            "| server CPU s | msgs per server CPU-s | same, nodes only | KiB per idle conn "
            "(1k / 5k / 10k) |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
    for label, f in sorted(results["relay"].items(), key=lambda kv: order(kv[0])):
        conn = results["connections"].get(label)
        kib = " / ".join(f"{r['kib_per_conn']:.1f}" for r in conn["rows"]) if conn else ""
        nodes = [s for pid, s in f["server"].items()]
        node_cpu = sum(s["cpu_s"] for s in nodes[:2 if f["urls"] == 2 else 1])
        offered = "max" if f["rate"] <= 0 else f"{f['rate']:.0f}"
        per_cpu = f["msgs_per_cpu_s"] or 0.0
        spread = (f" ({f['range'][0]:.0f}–{f['range'][1]:.0f})"
                  if f.get("range") and None not in f["range"] else "")
        rows.append(
            f"| {label} | {offered} | {f['msgs_per_s']:.0f} | {f['p50_ms']:.2f} "
            f"| {f['p95_ms']:.2f} | {f['p99_ms']:.2f} | {f['errors']} "
            f"| {f['server_cpu_s'] or 0:.2f} | {per_cpu:.0f}{spread} "
            f"| {f['delivered'] / node_cpu if node_cpu else 0:.0f} | {kib} |")
    return "\n".join(rows)


if __name__ == "__main__":
    main()
