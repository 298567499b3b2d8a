"""/metrics (docs/metrics.md): scraped over real sockets during a real chat.

The server runs in-process (aiohttp's TestServer on a loopback port) with
`Settings(metrics_listen="127.0.0.1:0")`, so the listener takes a free port
of its own; members speak to it with the `websockets` client of wsclient.py.
The exposition is read back with prometheus-client's own parser. The
dashboard (deploy/grafana-dashboard.json) and the alert rules
(deploy/prometheus-alerts.yml) are checked against the names the server
really exports, and by `promtool` (Debian's `prometheus` package).
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import socket
import subprocess
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from bridgechat.core.protocol import Code
from bridgechat.metrics.listener import LISTENER, parse_listen
from bridgechat.metrics.meters import MODES, NodeMetrics
from bridgechat.settings import Settings
from bridgechat.web.app import create_app
from prometheus_client.parser import text_string_to_metric_families
from websockets.asyncio.client import connect
from wsclient import DIVIDE_A, DIVIDE_B, Clients, fresh_lang, fresh_topic

ROOT = Path(__file__).resolve().parent.parent
DASHBOARD = ROOT / "deploy" / "grafana-dashboard.json"
ALERTS = ROOT / "deploy" / "prometheus-alerts.yml"
METRIC_NAME = re.compile(r"\bbridgechat_[a-z0-9_]+\b")
# Every label the server may put on a sample, and the values each may take.
LABEL_VALUES: dict[str, frozenset[str]] = {
    "code": frozenset(c.value for c in Code),
    "mode": MODES | {"other"},
    "divides": frozenset([*map(str, range(10)), "9+"]),
}

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


@dataclass
class Live:
    server: TestServer
    metrics_url: str

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.server.port}/ws"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.port}"


async def start(settings: Settings) -> Live:
    server = TestServer(create_app(settings), host="127.0.0.1")
    await server.start_server()
    listener = server.app[LISTENER]
    return Live(server, f"http://127.0.0.1:{listener.bound_port}/metrics")


@pytest.fixture
async def live(tmp_path: Path) -> AsyncIterator[Live]:
    """A node with metrics on; a burst of 3 chat messages, refilled almost never."""
    srv = await start(Settings(data_dir=tmp_path / "data", metrics_listen="127.0.0.1:0",
                               tick=0.05, send_burst=3, send_rate=0.001))
    yield srv
    await srv.server.close()


async def get(url: str, accept: str | None = None) -> tuple[int, str, str]:
    headers = {"Accept": accept} if accept else {}
    async with aiohttp.ClientSession() as http, http.get(url, headers=headers) as r:
        return r.status, r.headers.get("Content-Type", ""), await r.text()


async def scrape_text(live: Live) -> str:
    status, ctype, body = await get(live.metrics_url)
    assert status == 200, body
    assert ctype.startswith("text/plain"), ctype
    return body


def parse(text: str) -> Samples:
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


async def scrape(live: Live) -> Samples:
    return parse(await scrape_text(live))


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples[(name, frozenset(labels.items()))]


def total(samples: Samples, name: str) -> float:
    return sum(v for (n, _), v in samples.items() if n == name)


def series(samples: Samples, name: str) -> dict[frozenset[tuple[str, str]], float]:
    return {labels: v for (n, labels), v in samples.items() if n == name}


async def until(live: Live, check: Any, wait: float = 5.0) -> Samples:
    """Scrape until `check(samples)` holds (a gauge read after an asynchronous event)."""
    deadline = time.monotonic() + wait
    while True:
        samples = await scrape(live)
        if check(samples):
            return samples
        assert time.monotonic() < deadline, "metrics never reached the expected state"
        await asyncio.sleep(0.05)


# -- a chat, scraped as it goes ---------------------------------------------------------

async def test_counters_move_as_a_chat_goes(live: Live) -> None:
    m = await scrape(live)
    assert value(m, "bridgechat_connections") == 0
    assert value(m, "bridgechat_members_waiting") == 0
    assert value(m, "bridgechat_ready") == 1
    assert total(m, "bridgechat_matches_total") == 0
    assert value(m, "bridgechat_messages_relayed_total") == 0
    # Every error code has its series from the start, at 0: alerts see a rise from 0.
    assert {dict(k)["code"] for k in series(m, "bridgechat_errors_total")} == {
        c.value for c in Code}
    assert total(m, "bridgechat_errors_total") == 0
    assert value(m, "bridgechat_process_open_fds") > 0  # how close to the descriptor limit
    store_calls = value(m, "bridgechat_database_latency_seconds_count")

    async with Clients(live.ws_url) as clients:
        a, b = await clients.member(), await clients.member()
        m = await scrape(live)
        assert value(m, "bridgechat_connections") == 2
        # Each hello is a store call (a new member), timed.
        assert value(m, "bridgechat_database_latency_seconds_count") >= store_calls + 2

        prompt, lang = a.prompt_id(fresh_topic()), fresh_lang()
        await a.join([prompt], [lang], DIVIDE_A)
        m = await scrape(live)
        assert value(m, "bridgechat_members_waiting") == 1
        assert total(m, "bridgechat_matches_total") == 0

        await b.join([prompt], [lang], DIVIDE_B)
        matched = await a.expect("matched")
        await b.expect("matched")
        room = matched["room"]
        m = await scrape(live)
        assert value(m, "bridgechat_members_waiting") == 0
        matches = series(m, "bridgechat_matches_total")
        assert list(matches.values()) == [1], matches
        labels = dict(next(iter(matches)))
        assert labels["mode"] == "bridge" and int(labels["divides"]) >= 1, labels
        assert value(m, "bridgechat_wait_seconds_count") == 2  # one wait per member
        assert 0 <= value(m, "bridgechat_wait_seconds_sum") < 10
        assert value(m, "bridgechat_match_round_seconds_count") >= 1

        ids = []
        for i in range(3):
            ack = await a.say(room, f"message {i}")
            ids.append(ack["id"])
            await b.expect("message", room=room, seq=ack["seq"])
        m = await scrape(live)
        assert value(m, "bridgechat_messages_relayed_total") == 3

        # A resend of a known message is acked again, but not relayed (nor counted) again.
        await a.say(room, "message 0", id_=ids[0])
        # The burst (3) is spent: the next new message is refused for its rate.
        await a.send({"type": "send", "room": room, "id": "one-too-many", "text": "fast"})
        await a.expect_error("rate_limited")
        await a.send_raw("{this is not json")
        await a.expect_error("bad_json")
        m = await scrape(live)
        assert value(m, "bridgechat_messages_relayed_total") == 3
        assert value(m, "bridgechat_rate_limited_total") == 1
        assert value(m, "bridgechat_errors_total", code="rate_limited") == 1
        assert value(m, "bridgechat_errors_total", code="bad_json") == 1
        assert total(m, "bridgechat_errors_total") == 2

        await b.close()
        await until(live, lambda s: value(s, "bridgechat_connections") == 1)
    await until(live, lambda s: value(s, "bridgechat_connections") == 0)
    # The loop's lag is sampled twice a second by a background task.
    m = await until(live, lambda s: value(s, "bridgechat_event_loop_lag_seconds_count") >= 1)
    assert value(m, "bridgechat_event_loop_lag_seconds_sum") < 1.0


async def test_no_label_carries_a_member_token_room_prompt_or_address(live: Live) -> None:
    async with Clients(live.ws_url) as clients:
        a, b = await clients.member(), await clients.member()
        prompt, lang = a.prompt_id(fresh_topic()), fresh_lang()
        queued = [await a.join([prompt], [lang], DIVIDE_A),
                  await b.join([prompt], [lang], DIVIDE_B)]
        matched = [await a.expect("matched"), await b.expect("matched")]
        room = matched[0]["room"]
        text = "a sentence nobody else would write 7f3a"
        await a.say(room, text)
        await b.expect("message", room=room, text=text)
        await a.send({"type": "typing", "room": room})
        await a.send({"type": "send", "room": "no-such-room-9c1e", "id": "x1", "text": "hi"})
        await a.expect_error("unknown_room")
        body = await scrape_text(live)
        ports = {str(m.ws.local_address[1]) for m in (a, b)}

    # Long and unique: found nowhere in the text at all.
    secret: set[str] = {room, text, "127.0.0.1", "no-such-room-9c1e"}
    for member in (a, b):
        secret |= {member.member_id, str(member.token)}
        secret |= {p["text"] for p in member.welcome["prompts"]}
    secret |= {q["ticket"] for q in queued} | {m["prompt"]["text"] for m in matched}
    for s in secret:
        assert s not in body, f"{s!r} appears in the exposition"
    # Short words (a prompt's id, an alias, a port): never a label's value.
    words = ports | {m["you"] for m in matched} | {
        p["id"] for member in (a, b) for p in member.welcome["prompts"]}
    for family in text_string_to_metric_families(body):
        for sample in family.samples:
            for name, val in sample.labels.items():
                if name == "le":  # a histogram's bucket bound
                    float(val)
                    continue
                assert name in LABEL_VALUES, f"unexpected label {name!r} on {sample.name}"
                assert val in LABEL_VALUES[name], f"{sample.name}{{{name}={val!r}}}"
                assert val not in words and val not in secret


# -- the listener: its own port, nothing else on it -----------------------------------

async def test_metrics_are_not_served_on_the_members_port(live: Live) -> None:
    status, _, _ = await get(live.url + "/metrics")
    assert status == 404
    # ... and the metrics port serves nothing of the members'.
    base = live.metrics_url.removesuffix("/metrics")
    for path in ("/", "/ws", "/healthz", "/index.html", "/metrics/x"):
        status, _, _ = await get(base + path)
        assert status == 404, path
    status, _, _ = await get(live.url + "/healthz")
    assert status == 200


async def test_bridgechat_serve_with_the_flag_serves_metrics(make_server: Any) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    srv = make_server("--metrics-listen", f"127.0.0.1:{port}")
    metrics_url = f"http://127.0.0.1:{port}/metrics"
    async with Clients(srv.ws_url) as clients:
        await clients.member()
        status, _, body = await get(metrics_url)
        assert status == 200
        assert value(parse(body), "bridgechat_connections") == 1
    status, _, _ = await get(srv.url + "/metrics")
    assert status == 404


async def test_openmetrics_is_offered_to_a_scraper_that_asks(live: Live) -> None:
    status, ctype, body = await get(live.metrics_url, accept="application/openmetrics-text")
    assert status == 200 and ctype.startswith("application/openmetrics-text"), ctype
    assert body.rstrip().endswith("# EOF")
    assert "bridgechat_connections" in body


async def test_metrics_are_off_by_default(tmp_path: Path) -> None:
    server = TestServer(create_app(Settings(data_dir=tmp_path / "data")), host="127.0.0.1")
    await server.start_server()
    try:
        assert LISTENER not in server.app
        status, _, _ = await get(f"http://127.0.0.1:{server.port}/metrics")
        assert status == 404
    finally:
        await server.close()


async def test_a_metrics_port_in_use_fails_the_start_before_anything_is_created(
        tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        data = tmp_path / "data"
        server = TestServer(create_app(Settings(data_dir=data,
                                                metrics_listen=f"127.0.0.1:{port}")),
                            host="127.0.0.1")
        with pytest.raises(OSError):
            await server.start_server()
        await server.close()
    assert not data.exists()


def test_listen_addresses() -> None:
    assert parse_listen("127.0.0.1:9464") == ("127.0.0.1", 9464)
    assert parse_listen("[::1]:9464") == ("::1", 9464)
    assert parse_listen(":9464") == (None, 9464)
    assert parse_listen("metrics.internal:0") == ("metrics.internal", 0)
    for bad in ("9464", "host:", "host:port", "host:70000", ""):
        with pytest.raises(ValueError):
            parse_listen(bad)


async def test_a_member_dropped_as_too_slow_is_counted(tmp_path: Path) -> None:
    srv = await start(Settings(data_dir=tmp_path / "data", metrics_listen="127.0.0.1:0",
                               tick=0.05, outbox_frames=8, send_rate=1e6, send_burst=1e6,
                               first_day_burst=1e6))
    try:
        lang = fresh_lang()
        sock = socket.socket()  # a reader that buffers almost nothing (test_wire_slow.py)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect(("127.0.0.1", srv.server.port))
        sock.setblocking(False)
        slow = await connect(srv.ws_url, max_queue=1, sock=sock)
        async with Clients(srv.ws_url) as clients:
            fast = await clients.connect()
            await slow.send(json.dumps({"type": "hello", "v": 1, "token": None}))
            await fast.hello()
            prompt = fast.prompt_id(0)
            await slow.send(json.dumps({"type": "join", "prompts": [prompt],
                                        "languages": [lang], "profile": DIVIDE_A}))
            await fast.join([prompt], [lang], DIVIDE_B)
            room = (await fast.expect("matched"))["room"]
            m = await scrape(srv)
            assert value(m, "bridgechat_outbox_evictions_total") == 0
            # `slow` reads nothing now; `fast` sends 6 KB messages until the slow member
            # is dropped (its partner is told it is `away`).
            text, deadline, i = "€" * 2000, time.monotonic() + 30, 0
            while not any(f["type"] == "away" for f in fast.seen):
                assert time.monotonic() < deadline, "the slow reader was never dropped"
                await fast.send({"type": "send", "room": room, "id": str(i), "text": text})
                i += 1
                frame = await fast.recv(ignore=frozenset({"away"}))
                assert frame["type"] == "ack", frame
            m = await until(srv, lambda s: value(s, "bridgechat_connections") == 1)
            assert value(m, "bridgechat_outbox_evictions_total") == 1
            assert value(m, "bridgechat_messages_relayed_total") == i
        slow.transport.abort()
    finally:
        await srv.server.close()


async def test_on_redis_the_ping_is_timed_and_the_shared_pool_counted(
        tmp_path: Path, redis_server: Any) -> None:
    srv = await start(Settings(data_dir=tmp_path / "data", metrics_listen="127.0.0.1:0",
                               redis=redis_server.url, tick=0.05))
    try:
        async with Clients(srv.ws_url) as clients:
            a = await clients.member()
            await a.join([a.prompt_id(fresh_topic())], [fresh_lang()], DIVIDE_A)
            m = await scrape(srv)
            assert value(m, "bridgechat_ready") == 1
            assert value(m, "bridgechat_members_waiting") == 1
            assert value(m, "bridgechat_redis_latency_seconds_count") >= 1
            assert value(m, "bridgechat_redis_latency_seconds_sum") < 1.0
            # Numbered by Redis's script, answered from a future: counted all the same.
            pair = await clients.pair()
            await pair.a.say(pair.room, "over Redis")
            await pair.a.send({"type": "send", "room": "nowhere", "id": "x", "text": "hi"})
            await pair.a.expect_error("unknown_room")
            m = await scrape(srv)
            assert value(m, "bridgechat_messages_relayed_total") == 1
            assert value(m, "bridgechat_errors_total", code="unknown_room") == 1
            assert total(m, "bridgechat_matches_total") == 1
    finally:
        await srv.server.close()


# -- the dashboard and the alert rules --------------------------------------------------

SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_count", "_sum")}


def exported_names() -> set[str]:
    """Every sample name one node's registry exports, read from the registry itself (a
    labelled counter before its first increment included: `bridgechat_matches_total`)."""
    names: set[str] = set()
    for family in NodeMetrics().registry.collect():
        names |= {family.name + s for s in SUFFIXES.get(family.type, ("",))}
        names |= {s.name for s in family.samples}
    return names


def panels(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for p in dashboard.get("panels", []):
        found.append(p)
        found.extend(p.get("panels", []))  # a collapsed row holds its panels
    return found


def test_every_dashboard_query_names_only_exported_metrics() -> None:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    names = exported_names()
    shown: set[str] = set()
    graphs = [p for p in panels(dashboard) if p.get("type") != "row"]
    assert graphs, "the dashboard has no panels"
    for p in graphs:
        exprs = [t["expr"] for t in p.get("targets", []) if t.get("expr")]
        assert exprs, f"panel {p.get('title')!r} queries nothing"
        for expr in exprs:
            used = set(METRIC_NAME.findall(expr))
            assert used, f"panel {p.get('title')!r}: {expr!r} names no bridgechat metric"
            assert used <= names, f"panel {p.get('title')!r}: unknown {used - names}"
            shown |= used
    families = {f.name for f in NodeMetrics().registry.collect()
                if not f.name.startswith("bridgechat_process_")}
    missing = {f for f in families if not any(n.startswith(f) for n in shown)}
    assert not missing, f"metrics on no panel: {sorted(missing)}"


def test_every_alert_names_only_exported_metrics() -> None:
    text = ALERTS.read_text(encoding="utf-8")
    exprs = re.findall(r"^\s*expr:\s*(.+?)(?=^\s*(?:for|labels|annotations|- alert):)", text,
                       re.MULTILINE | re.DOTALL)
    assert len(exprs) >= 4, exprs
    names = exported_names()
    for expr in exprs:
        used = set(METRIC_NAME.findall(expr))
        assert used <= names, f"unknown {used - names} in {expr!r}"
    for needed in ("up", "bridgechat_ready", "bridgechat_event_loop_lag_seconds",
                   "bridgechat_errors_total", "bridgechat_members_waiting",
                   "bridgechat_matches_total"):
        assert re.search(rf"\b{needed}", text), f"no alert on {needed}"


def promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        pytest.skip("promtool is not installed (apt-get install prometheus; .ci/run does)")
    return found


def test_promtool_accepts_the_alert_rules() -> None:
    done = subprocess.run([promtool(), "check", "rules", str(ALERTS)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout, done.stdout


def test_promtool_parses_every_dashboard_query(tmp_path: Path) -> None:
    """Each panel's PromQL, Grafana's variables filled in, as recording rules: promtool
    parses them all."""
    tool = promtool()
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    exprs = [t["expr"].replace("$__rate_interval", "5m").replace("$instance", ".*")
             for p in panels(dashboard) for t in p.get("targets", []) if t.get("expr")]
    rules = {"groups": [{"name": "dashboard", "rules": [
        {"record": f"bridgechat:panel_{i}", "expr": e} for i, e in enumerate(exprs)]}]}
    path = tmp_path / "dashboard-rules.yml"
    path.write_text(json.dumps(rules), encoding="utf-8")  # JSON is YAML
    done = subprocess.run([tool, "check", "rules", str(path)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


async def test_promtool_accepts_the_exposition(live: Live) -> None:
    tool = promtool()
    body = await scrape_text(live)
    done = await asyncio.to_thread(subprocess.run, [tool, "check", "metrics"], input=body,
                                   capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
