"""The `bridgechat` command line."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import logging
import os
from pathlib import Path

from aiohttp import web

from bridgechat.logs import setup_logging
from bridgechat.moderation.cli import add_moderator_command, add_serve_flags, serve_settings
from bridgechat.settings import Settings

ACCESS_LOG = '%r %s %b %Tfs'  # no client address: addresses are never stored


def _serve(args: argparse.Namespace) -> int:
    from bridgechat.web.app import create_app

    settings = Settings(
        host=args.host, port=args.port, data_dir=Path(args.data_dir), database=args.database,
        redis=args.redis, deck=Path(args.deck) if args.deck else None,
        static_dir=Path(args.static_dir) if args.static_dir else None,
        public_url=args.public_url, allowed_origins=tuple(o.rstrip("/").lower()
                                                          for o in args.allow_origin),
        repeat_pair_after=args.repeat_pair_after, grace_period=args.grace_period,
        bridge_wait=args.bridge_wait, max_wait=args.max_wait,
        send_rate=args.send_rate, send_burst=args.send_burst, outbox_frames=args.outbox_frames,
        heartbeat=args.heartbeat,
        conversation_minutes=args.conversation_minutes, stuck_after=args.stuck_after,
        member_retention=args.member_retention_days * 86400.0,
        report_retention=args.report_retention_days * 86400.0,
        key_rotation=args.key_rotation_hours * 3600.0,
        **serve_settings(args),
    )
    shown = "localhost" if args.host in ("127.0.0.1", "0.0.0.0", "::") else args.host
    url = args.public_url or f"http://{shown}:{args.port}/"
    print(f"Bridgechat is running. Open {url} in a browser.  (data: {settings.data_dir})",
          flush=True)
    web.run_app(create_app(settings), host=args.host, port=args.port, print=None,
                access_log=logging.getLogger("aiohttp.access"), access_log_format=ACCESS_LOG,
                shutdown_timeout=5.0, loop=_event_loop(args.loop))
    return 0


def _event_loop(name: str) -> asyncio.AbstractEventLoop | None:
    """The event loop for `--loop`: uvloop (auto: when installed), else asyncio's own (None)."""
    if name == "asyncio":
        return None
    try:
        uvloop = importlib.import_module("uvloop")
    except ImportError:
        if name == "auto":
            return None
        raise SystemExit("--loop uvloop needs uvloop: pip install uvloop") from None
    loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
    return loop


def _bench(args: argparse.Namespace) -> int:
    from bridgechat.bench import main as bench_main

    return bench_main(args.what, args.rest)


def _migrate(args: argparse.Namespace) -> int:
    """Bring the database to the newest schema (every node also does this when it starts)."""
    from bridgechat.store.base import (
        current_revision,
        head_revision,
        migrate,
        open_engine,
        sqlite_url,
    )

    if args.database is None:
        Path(args.data_dir).mkdir(parents=True, exist_ok=True, mode=0o700)
    engine = open_engine(args.database or sqlite_url(Path(args.data_dir)))
    try:
        before, head = current_revision(engine), head_revision()
        if args.check:
            print(f"schema at {before or 'nothing'}; newest is {head}")
            return 0 if before == head else 1
        after = migrate(engine)
    finally:
        engine.dispose()
    print(f"schema at {after} (was {before or 'nothing'})")
    return 0


def _positive(text: str) -> float:
    """A period: a finite number above zero."""
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number, not {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="bridgechat", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("serve", help="run a node (embedded default: SQLite, in-process broker)")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8080)
    s.add_argument("--data-dir", default="bridgechat-data")
    s.add_argument("--database", default=None, help="SQLAlchemy URL (default: SQLite in data dir)")
    s.add_argument("--redis", default=None, help="redis:// URL for many nodes")
    s.add_argument("--deck", default=None, help="prompt deck TOML file")
    s.add_argument("--static-dir", default=None, help=argparse.SUPPRESS)
    s.add_argument("--public-url", default=None, help="the URL members use, e.g. https://x.org")
    s.add_argument("--allow-origin", action="append", default=[],
                   help="another Origin allowed to connect (repeatable)")
    s.add_argument("--repeat-pair-after", type=float, default=86400.0)
    s.add_argument("--grace-period", type=float, default=60.0,
                   help="seconds a dropped member keeps their seat")
    s.add_argument("--bridge-wait", type=float, default=2.0,
                   help="seconds a pair crossing no divide waits before matching")
    s.add_argument("--max-wait", type=float, default=10.0,
                   help="seconds by which any compatible pair is matched")
    add_serve_flags(s)
    # Retention (docs/privacy.md): the retention job enforces these every 10 minutes.
    s.add_argument("--member-retention-days", type=_positive, default=365.0,
                   help="delete members not seen for this many days")
    s.add_argument("--report-retention-days", type=_positive, default=30.0,
                   help="delete reports this many days after they were resolved")
    s.add_argument("--key-rotation-hours", type=_positive, default=24.0,
                   help="make a new franking key this often")
    s.add_argument("--send-rate", type=float, default=5.0,
                   help="messages per second a member may send, after a burst")
    s.add_argument("--send-burst", type=float, default=30.0)
    s.add_argument("--stuck-after", type=float, default=30.0,
                   help="seconds before a member nobody can meet is told why")
    s.add_argument("--conversation-minutes", type=float, default=20.0,
                   help="length of a guided conversation (0: open-ended)")
    s.add_argument("--outbox-frames", type=int, default=512,
                   help="frames queued for a member before they are dropped as too slow")
    s.add_argument("--heartbeat", type=_positive, default=30.0,
                   help="seconds of silence before a member is pinged; no pong within "
                        "half of that drops them")
    s.add_argument("--loop", choices=("auto", "asyncio", "uvloop"),
                   default=os.environ.get("BRIDGECHAT_LOOP") or "auto",
                   help="event loop (default: env BRIDGECHAT_LOOP, else auto: uvloop "
                        "when installed)")
    s.set_defaults(func=_serve)
    add_moderator_command(sub)

    m = sub.add_parser("migrate", help="bring the database to the newest schema")
    m.add_argument("--data-dir", default="bridgechat-data")
    m.add_argument("--database", default=None, help="SQLAlchemy URL (default: SQLite in data dir)")
    m.add_argument("--check", action="store_true",
                   help="change nothing; exit 1 if the schema is behind")
    m.set_defaults(func=_migrate)

    b = sub.add_parser("bench", help="benchmarks that print figures")
    b.add_argument("what", choices=["matching", "relay", "connections"])
    b.add_argument("rest", nargs=argparse.REMAINDER)
    b.set_defaults(func=_bench)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    setup_logging()
    result: int = args.func(args)
    return result
