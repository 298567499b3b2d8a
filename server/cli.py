"""The `bridgechat` command line."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from aiohttp import web

from server.logs import setup_logging
from server.settings import Settings

ACCESS_LOG = '%r %s %b %Tfs'  # no client address: addresses are never stored


def _serve(args: argparse.Namespace) -> int:
    from server.app import create_app

    settings = Settings(
        host=args.host, port=args.port, data_dir=Path(args.data_dir), database=args.database,
        redis=args.redis, deck=Path(args.deck) if args.deck else None,
        static_dir=Path(args.static_dir) if args.static_dir else None,
        public_url=args.public_url, allowed_origins=tuple(o.rstrip("/").lower()
                                                          for o in args.allow_origin),
        repeat_pair_after=args.repeat_pair_after, grace_period=args.grace_period,
        bridge_wait=args.bridge_wait, max_wait=args.max_wait,
    )
    shown = "localhost" if args.host in ("127.0.0.1", "0.0.0.0", "::") else args.host
    url = args.public_url or f"http://{shown}:{args.port}/"
    print(f"Bridgechat is running. Open {url} in a browser.  (data: {settings.data_dir})",
          flush=True)
    web.run_app(create_app(settings), host=args.host, port=args.port, print=None,
                access_log=logging.getLogger("aiohttp.access"), access_log_format=ACCESS_LOG,
                shutdown_timeout=5.0)
    return 0


def _bench(args: argparse.Namespace) -> int:
    if args.what == "matching":
        from server import bench_matching

        code: int = bench_matching.main(args.rest)
        return code
    print(f"unknown benchmark {args.what!r}", file=sys.stderr)
    return 2


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
    s.set_defaults(func=_serve)

    b = sub.add_parser("bench", help="benchmarks that print figures")
    b.add_argument("what", choices=["matching"])
    b.add_argument("rest", nargs=argparse.REMAINDER)
    b.set_defaults(func=_bench)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    setup_logging()
    result: int = args.func(args)
    return result
