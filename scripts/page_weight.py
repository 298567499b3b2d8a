#!/usr/bin/env python3
"""Measure the member page's weight and time to interactive on a slow connection.

Definitions (also in client_web/README.md):

- Weight: bytes transferred, encoded, for every HTTP resource the member page
  loads on a visit with an empty cache: the sum of Chromium's
  `Network.loadingFinished.encodedDataLength` (response headers plus the body
  as sent, gzip where the server compresses it; Chromium always offers
  `Accept-Encoding: gzip`). The WebSocket is not a page resource and is not
  counted.
- Time to interactive: from navigation start (`performance.timeOrigin`) to the
  moment the page has said `hello`, got `welcome`, rendered the prompts and
  shown the "Find a partner" button enabled. (The modules for the conversation,
  the rules page and the alerts load after that, in the background; they count
  for the weight, not for this time.) The page marks that moment with
  `performance.mark('bc:interactive')`; the script waits for it, checks that
  the button is visible and enabled, and reports the mark's time.
- Throttling (Chrome DevTools Protocol): `Network.emulateNetworkConditions`
  with 400 kbit/s down and up and 400 ms latency, and
  `Emulation.setCPUThrottlingRate` 4. `--no-throttle` measures without them.

Each run uses a fresh browser context (empty cache, no stored token: a first
visit, except that the one-time rules page is marked as read so the start
form shows). The figures printed are each run's and the median.

Usage: python scripts/page_weight.py [--url URL] [--runs N] [--no-throttle] [--json]
Without --url it starts `python -m bridgechat serve` on a free loopback port with a
temporary data directory, and stops it at the end.
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
KBIT = 400
LATENCY_MS = 400
CPU_SLOWDOWN = 4
BUDGET_BYTES = 60 * 1024
BUDGET_TTI_MS = 3000

READY_JS = """() => {
  const mark = performance.getEntriesByName('bc:interactive')[0];
  const b = document.getElementById('join-btn');
  if (!mark || !b || b.disabled || b.getAttribute('aria-disabled') === 'true' || !b.checkVisibility()) return null;
  return mark.startTime;
}"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(data_dir: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "bridgechat", "serve", "--host", "127.0.0.1", "--port", str(port),
         "--data-dir", str(data_dir)],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=1):
                return proc, url
        except OSError:
            if proc.poll() is not None:
                break
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("the server did not start")


def measure_once(browser: Any, url: str, throttle: bool) -> dict[str, Any]:
    ctx = browser.new_context(viewport={"width": 360, "height": 740}, locale="en-GB")
    ctx.add_init_script("localStorage.setItem('bc.rules', '1')")
    page = ctx.new_page()
    cdp = ctx.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    if throttle:
        rate = KBIT * 1000 / 8  # bytes per second
        cdp.send("Network.emulateNetworkConditions", {
            "offline": False, "latency": LATENCY_MS,
            "downloadThroughput": rate, "uploadThroughput": rate})
        cdp.send("Emulation.setCPUThrottlingRate", {"rate": CPU_SLOWDOWN})
    sizes: dict[str, float] = {}
    urls: dict[str, str] = {}
    encodings: dict[str, str] = {}
    pending: set[str] = set()
    last = [time.monotonic()]

    def on_request(e: dict[str, Any]) -> None:
        if e.get("type") != "WebSocket" and not e["request"]["url"].startswith("ws"):
            pending.add(e["requestId"])
            last[0] = time.monotonic()

    def on_response(e: dict[str, Any]) -> None:
        if e.get("type") == "WebSocket":
            return
        urls[e["requestId"]] = e["response"]["url"]
        headers = {k.lower(): v for k, v in e["response"].get("headers", {}).items()}
        encodings[e["requestId"]] = headers.get("content-encoding", "")

    def on_finished(e: dict[str, Any]) -> None:
        if e["requestId"] in urls:
            sizes[e["requestId"]] = e["encodedDataLength"]
        pending.discard(e["requestId"])
        last[0] = time.monotonic()

    cdp.on("Network.requestWillBeSent", on_request)
    cdp.on("Network.responseReceived", on_response)
    cdp.on("Network.loadingFinished", on_finished)
    cdp.on("Network.loadingFailed", on_finished)
    page.goto(url + "/", wait_until="commit")
    page.wait_for_function(READY_JS, timeout=60_000, polling=50)
    tti = float(page.evaluate(READY_JS))
    # The rest of the page (modules loaded after `welcome`) counts for the weight:
    # wait until nothing has been in flight for 2 s.
    page.wait_for_load_state("load")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and (pending or time.monotonic() - last[0] < 2.0):
        page.wait_for_timeout(100)
    files = {urls[r].removeprefix(url): int(n) for r, n in sizes.items()}
    gz = {urls[r].removeprefix(url): encodings.get(r, "") for r in sizes}
    ctx.close()
    return {"tti_ms": round(tti), "bytes": sum(files.values()), "requests": len(files),
            "files": files, "encoding": gz}


def measure(url: str, runs: int = 3, throttle: bool = True,
            browser: Any = None) -> dict[str, Any]:
    """The figures for `runs` visits; in `browser` if given, else in a Chromium of its own."""
    if browser is not None:
        results = [measure_once(browser, url, throttle) for _ in range(runs)]
    else:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as p:
            own = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                results = [measure_once(own, url, throttle) for _ in range(runs)]
            finally:
                own.close()
    return {
        "throttle": {"kbit_s": KBIT, "latency_ms": LATENCY_MS, "cpu_slowdown": CPU_SLOWDOWN}
        if throttle else None,
        "runs": results,
        "tti_ms": statistics.median(r["tti_ms"] for r in results),
        "bytes": statistics.median(r["bytes"] for r in results),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--url", help="a running server (default: start one)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--no-throttle", action="store_true")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = ap.parse_args()
    proc = None
    with tempfile.TemporaryDirectory() as tmp:
        url = args.url
        if url is None:
            proc, url = start_server(Path(tmp) / "data")
        try:
            r = measure(url.rstrip("/"), args.runs, not args.no_throttle)
        finally:
            if proc is not None:
                proc.terminate()
                proc.wait(10)
    if args.json:
        print(json.dumps(r, indent=2))
        return 0
    first = r["runs"][0]
    print(f"member page at {url}")
    if r["throttle"]:
        print(f"throttled: {KBIT} kbit/s down and up, {LATENCY_MS} ms latency, CPU {CPU_SLOWDOWN}x slower")
    else:
        print("not throttled")
    print(f"{'resource':<22}{'bytes':>8}  encoding")
    for name, n in sorted(first["files"].items(), key=lambda kv: -kv[1]):
        print(f"{name or '/':<22}{n:>8}  {first['encoding'][name] or '-'}")
    for i, run in enumerate(r["runs"], 1):
        print(f"run {i}: {run['bytes']} bytes in {run['requests']} requests, "
              f"time to interactive {run['tti_ms']} ms")
    print(f"weight: {r['bytes'] / 1024:.1f} KiB transferred (budget {BUDGET_BYTES // 1024} KiB)")
    print(f"time to interactive: {r['tti_ms'] / 1000:.2f} s (median; budget {BUDGET_TTI_MS / 1000:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
