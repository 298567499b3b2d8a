"""The `bridgechat` command line.

Every setting is a flag, a BRIDGECHAT_... environment variable and a key of
the --config file (operate/options.py lists them once). A problem an
operator can fix ends the command with one plain line on standard error and
exit code 2, before anything is created (operate/preflight.py).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import logging
import os
import sys
from collections.abc import Callable
from typing import Any

from aiohttp import web

from bridgechat.bench import BENCHMARKS
from bridgechat.events.cli import add_event_command
from bridgechat.logs import setup_logging
from bridgechat.moderation.cli import add_moderator_command
from bridgechat.operate.config import ConfigError, add_flags, resolve, show
from bridgechat.operate.data import add_data_commands
from bridgechat.operate.options import WHERE
from bridgechat.operate.preflight import Unfit, preflight

ACCESS_LOG = '%r %s %b %Tfs'  # no client address: addresses are never stored


def _serve(args: argparse.Namespace) -> int:
    settings = args.effective.settings
    sock = preflight(settings)
    from bridgechat.web.app import create_app

    host, port = sock.getsockname()[:2]
    shown = "localhost" if host in ("127.0.0.1", "0.0.0.0", "::", "::1") else host
    url = settings.public_url or f"http://{shown}:{port}/"

    def running(_: str) -> None:  # aiohttp calls it once the socket accepts connections
        print(f"Bridgechat is running. Open {url} in a browser.  (data: {settings.data_dir})",
              flush=True)

    web.run_app(create_app(settings), sock=sock, print=running,
                access_log=logging.getLogger("aiohttp.access"), access_log_format=ACCESS_LOG,
                shutdown_timeout=5.0, loop=_event_loop(settings.loop))
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
        raise Unfit("--loop uvloop needs uvloop: pip install uvloop") from None
    loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
    return loop


def _config(args: argparse.Namespace) -> int:
    print(show(args.effective, os.environ))
    return 0


def _doctor(args: argparse.Namespace) -> int:
    from bridgechat.operate.doctor import doctor, report

    text, code = report(doctor(args.effective.settings))
    print(text)
    return code


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

    settings = args.effective.settings
    if settings.database is None:
        settings.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    engine = open_engine(settings.database or sqlite_url(settings.data_dir))
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


def where(p: argparse.ArgumentParser) -> None:
    """The options that say where the data is, for a command that opens the store."""
    add_flags(p, WHERE)
    p.set_defaults(options=WHERE)


def _command(sub: Any, name: str, func: Callable[[argparse.Namespace], int], help: str,
             options: tuple[str, ...] | None = None) -> argparse.ArgumentParser:
    p: argparse.ArgumentParser = sub.add_parser(name, help=help)
    if options is None:
        add_flags(p)
    else:
        add_flags(p, options)
    p.set_defaults(func=func, options=options)
    return p


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="bridgechat", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    _command(sub, "serve", _serve,
             "run a node (embedded default: SQLite, in-process broker)")
    _command(sub, "config", _config,
             "print the effective settings and where each came from (passwords masked)")
    _command(sub, "doctor", _doctor,
             "check the installation and the services, and say what to fix")
    add_moderator_command(sub, where)
    add_event_command(sub)
    add_data_commands(sub, where)
    m = _command(sub, "migrate", _migrate, "bring the database to the newest schema", WHERE)
    m.add_argument("--check", action="store_true",
                   help="change nothing; exit 1 if the schema is behind")
    b = sub.add_parser("bench", help="benchmarks that print figures")
    b.add_argument("what", choices=list(BENCHMARKS))
    b.add_argument("rest", nargs=argparse.REMAINDER)
    b.set_defaults(func=_bench)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if hasattr(args, "options"):
            args.effective = resolve(args, os.environ, args.options)
        setup_logging()
        result: int = args.func(args)
    except (ConfigError, Unfit) as e:
        print(f"bridgechat: {e}", file=sys.stderr)
        return 2
    return result
