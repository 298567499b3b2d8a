"""What must hold before a node creates anything: each check says what to fix in one line.

`bridgechat serve` runs them in order and stops at the first that fails
(exit code 2, nothing written); `bridgechat doctor` runs every one and
prints them all. Each check returns None when all is well, else the line.
The members' socket is bound here too, so "running" is only said once it
listens, and a port in use is found before the data dir or a key is made.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import socket
import tempfile
import time
from collections.abc import Mapping

from bridgechat.core.deck import DeckError
from bridgechat.deck_file import load_deck
from bridgechat.moderation.reports import KEY_ENV, KEY_FILE, ReportKeyError, decode_key
from bridgechat.operate.config import masked
from bridgechat.settings import Settings


class Unfit(Exception):
    """A node cannot start as configured; str() is the one line that says why."""


def needs(settings: Settings) -> list[tuple[str, str, str]]:
    """(what asks for it, module, extra) for each optional part the settings use."""
    wanted = []
    if settings.database and settings.database.split(":", 1)[0].startswith("postgres"):
        wanted.append(("--database postgresql://...", "psycopg", "postgres"))
    if settings.redis:
        wanted += [("--redis", "redis", "redis"), ("--redis", "hiredis", "redis")]
    return wanted


def missing_extra(settings: Settings) -> str | None:
    for what, module, extra in needs(settings):
        if importlib.util.find_spec(module) is None:
            return (f"{what} needs the {extra!r} extra, which is not installed: "
                    f"pip install 'bridgechat[{extra}]'")
    return None


def bad_deck(settings: Settings) -> str | None:
    try:
        load_deck(settings.deck)
    except DeckError as e:
        return f"the deck cannot be used: {e}"
    except OSError as e:
        return f"cannot read the deck file {settings.deck}: {e.strerror}"
    return None


def uses_data_dir(settings: Settings, environ: Mapping[str, str]) -> bool:
    """SQLite lives there, and so does the report key when none is given otherwise."""
    return (settings.database is None or
            (settings.report_key_file is None and not environ.get(KEY_ENV)))


def unwritable_data_dir(settings: Settings, environ: Mapping[str, str]) -> str | None:
    if not uses_data_dir(settings, environ):
        return None
    path = settings.data_dir
    existing = path
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        return f"cannot make the data dir {path}: {existing} is a file, not a directory"
    try:
        # A real write, not os.access: root passes access() on a read-only mount.
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as e:
        made = "use" if existing == path else "make"
        return (f"cannot {made} the data dir {path}: {existing} is not writable "
                f"({e.strerror}); choose another with --data-dir")
    return None


def bad_report_key(settings: Settings, environ: Mapping[str, str]) -> str | None:
    try:
        if settings.report_key_file is not None:
            decode_key(settings.report_key_file.read_text(), str(settings.report_key_file))
        elif environ.get(KEY_ENV):
            decode_key(environ[KEY_ENV], KEY_ENV)
        elif (settings.data_dir / KEY_FILE).exists():
            path = settings.data_dir / KEY_FILE
            decode_key(path.read_text(), str(path))
    except ReportKeyError as e:
        return str(e)
    except OSError as e:
        return f"cannot read the report key file {settings.report_key_file}: {e.strerror}"
    return None


def bad_metrics_listen(settings: Settings) -> str | None:
    if settings.metrics_listen is None:
        return None
    host, _, port = settings.metrics_listen.rpartition(":")
    if int(port) == settings.port and settings.port != 0:
        return ("--metrics-listen must not use the members' port: metrics are for your "
                "monitoring only")
    try:
        bind(host.strip("[]"), int(port)).close()
    except Unfit as e:
        return f"--metrics-listen: {e}"
    return None


def bind(host: str, port: int) -> socket.socket:
    """A listening socket, as aiohttp would make it; Unfit says why there is none."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
    except socket.gaierror as e:
        raise Unfit(f"cannot listen on {host!r}: {e.strerror}") from None
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6 and host in ("::", ""):
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        sock.bind(address)
        sock.listen(1024)
    except OSError as e:
        sock.close()
        if e.errno in (98, 48):  # EADDRINUSE on Linux, on the BSDs
            raise Unfit(f"port {port} on {host} is already in use (is another bridgechat "
                        f"running?); choose another with --port") from None
        raise Unfit(f"cannot listen on {host} port {port}: {e.strerror}") from None
    sock.setblocking(False)
    return sock


def redis_clock(url: str, timeout: float = 5.0) -> float:
    """Seconds Redis's clock is ahead of ours; Unfit when it cannot be reached."""
    from bridgechat.broker.redis_url import RedisUrlError, parse_redis_url

    try:
        target = parse_redis_url(url)
    except RedisUrlError as e:
        raise Unfit(f"--redis {masked(url)}: {e}") from None

    async def ask() -> float:
        from redis.asyncio import Redis
        from redis.exceptions import RedisError

        client = Redis(**target.redis_py_kwargs(), socket_connect_timeout=timeout,
                       socket_timeout=timeout)
        try:
            before = asyncio.get_running_loop().time()
            wall = time.time()
            seconds, micros = await client.time()
            half = (asyncio.get_running_loop().time() - before) / 2
        except (RedisError, OSError) as e:
            raise Unfit(f"cannot reach Redis at {target.where}: {e}") from None
        finally:
            await client.aclose()
        return seconds + micros / 1e6 - (wall + half)

    return asyncio.run(ask())


def database_clock(url: str) -> float:
    from bridgechat.store.probe import Unreachable, clock_offset

    try:
        return clock_offset(url)
    except Unreachable as e:
        raise Unfit(f"cannot reach the database at {masked(url)}: {e}") from None


def preflight(settings: Settings, environ: Mapping[str, str] | None = None) -> socket.socket:
    """Every check `serve` needs, in order; the members' socket if all hold, else Unfit."""
    env = os.environ if environ is None else environ
    for trouble in (missing_extra(settings), bad_deck(settings),
                    unwritable_data_dir(settings, env), bad_report_key(settings, env),
                    bad_metrics_listen(settings)):
        if trouble:
            raise Unfit(trouble)
    sock = bind(settings.host, settings.port)
    try:
        if settings.redis:
            redis_clock(settings.redis)
        if settings.database:
            database_clock(settings.database)
    except Unfit:
        sock.close()
        raise
    return sock
