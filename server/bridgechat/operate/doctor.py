"""`bridgechat doctor`: every check on the installation, each with what to do about it.

It changes nothing: it reads the effective settings (the same as `serve`
would use), asks the services for the time, and prints one line per check:
``ok``, ``warn`` (works, but will hurt) or ``FIX`` (serve would refuse to
start, or members would notice). The exit code is 1 when any line says FIX.
"""

from __future__ import annotations

import importlib.util
import os
import platform
import resource
import stat
from collections.abc import Callable, Iterator, Mapping
from importlib import metadata

from bridgechat.moderation.reports import KEY_ENV, KEY_FILE
from bridgechat.operate.config import masked, unknown_variables
from bridgechat.operate.preflight import (
    Unfit,
    bad_deck,
    bad_metrics_listen,
    bad_report_key,
    bind,
    database_clock,
    missing_extra,
    redis_clock,
    unwritable_data_dir,
    uses_data_dir,
)
from bridgechat.settings import Settings

Line = tuple[str, str]  # (ok | warn | FIX, what)
# Nodes that disagree on the time disagree on waits, expiries and the report window.
CLOCK_SKEW = 1.0
# Descriptors a node holds besides members' sockets: store, broker, logs, health checks.
SPARE_FILES = 256


def installed(dist: str) -> bool:
    return importlib.util.find_spec(dist) is not None


def check_install(settings: Settings, environ: Mapping[str, str]) -> Iterator[Line]:
    version = metadata.version("bridgechat")
    yield "ok", f"bridgechat {version} on Python {platform.python_version()}"
    trouble = missing_extra(settings)
    if trouble:
        yield "FIX", trouble
    extras = [e for e, mod in (("redis", "redis"), ("postgres", "psycopg")) if installed(mod)]
    yield "ok", f"extras installed: {', '.join(extras) or 'none (one node, SQLite)'}"
    if settings.loop == "uvloop" and not installed("uvloop"):
        yield "FIX", "--loop uvloop, but uvloop is not installed: pip install uvloop"
    for line in unknown_variables(environ):
        yield "warn", line


def check_files(settings: Settings, environ: Mapping[str, str]) -> Iterator[Line]:
    trouble = bad_deck(settings)
    yield ("FIX", trouble) if trouble else ("ok", f"deck: {settings.deck or 'the default'}")
    if uses_data_dir(settings, environ):
        trouble = unwritable_data_dir(settings, environ)
        path = settings.data_dir
        if trouble:
            yield "FIX", trouble
        elif not path.exists():
            yield "ok", f"data dir {path} will be made at first start (mode 700)"
        elif path.stat().st_mode & 0o077:
            yield "warn", (f"data dir {path} can be read by other users: chmod 700 {path}")
        else:
            yield "ok", f"data dir {path} is writable and private"
    yield from check_report_key(settings, environ)


def check_report_key(settings: Settings, environ: Mapping[str, str]) -> Iterator[Line]:
    trouble = bad_report_key(settings, environ)
    if trouble:
        yield "FIX", trouble
        return
    if settings.report_key_file is not None:
        where, path = f"file {settings.report_key_file}", settings.report_key_file
    elif environ.get(KEY_ENV):
        where, path = KEY_ENV, None
    else:
        path = settings.data_dir / KEY_FILE
        if not path.exists():
            where, path = "none yet", None
        else:
            where = f"file {path}"
    if where == "none yet":
        many = " (each node would make its own: give every node the same key with " \
               f"{KEY_ENV} or --report-key-file)" if settings.redis else ""
        yield ("warn" if settings.redis else "ok"), \
            f"report key: made at first start in the data dir; back it up{many}"
        return
    yield "ok", f"report key: {where}; keep a copy safe, reports cannot be read without it"
    if path is not None and path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        yield "warn", f"the report key file {path} can be read by other users: chmod 600 {path}"


def check_services(settings: Settings) -> Iterator[Line]:
    services: list[tuple[str, str, Callable[[str], float]]] = []
    if settings.redis:
        services.append(("Redis", settings.redis, redis_clock))
    if settings.database:
        services.append(("the database", settings.database, database_clock))
    compared = False
    for name, url, clock in services:
        try:
            skew = clock(url)
        except Unfit as e:
            yield "FIX", str(e)
            continue
        except ImportError:
            continue  # already reported as a missing extra
        yield "ok", f"{name} answers at {masked(url)}"
        if url.startswith("sqlite"):
            continue
        compared = True
        if abs(skew) > CLOCK_SKEW:
            yield "FIX", (f"this machine's clock is {skew:+.1f} s off {name}'s: turn on time "
                          "sync (systemd-timesyncd, chrony) on every node and server")
        else:
            yield "ok", f"clock within {abs(skew):.2f} s of {name}'s"
    if not compared:
        yield "ok", "clock: nothing to compare with on one node; keep time sync on"
    if settings.database is None:
        yield "ok", "database: SQLite in the data dir (one node)"


def check_limits(settings: Settings) -> Iterator[Line]:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = settings.max_connections + SPARE_FILES
    if soft != resource.RLIM_INFINITY and soft < need:
        yield "FIX", (f"the open-file limit is {soft}, below --max-connections "
                      f"{settings.max_connections} + {SPARE_FILES} spare: raise it "
                      f"(LimitNOFILE={need} in the systemd unit, ulimit -n {need}; hard "
                      f"limit {hard}) or lower --max-connections")
    else:
        yield "ok", (f"open-file limit {soft} covers --max-connections "
                     f"{settings.max_connections}")
    try:
        bind(settings.host, settings.port).close()
        yield "ok", f"port {settings.port} on {settings.host} is free"
    except Unfit as e:
        yield "warn", f"{e} (fine if this is the node you are checking)"
    trouble = bad_metrics_listen(settings)
    if trouble:
        yield "FIX", trouble
    elif settings.metrics_listen:
        yield "ok", f"metrics for Prometheus on {settings.metrics_listen}"
    else:
        yield "ok", "metrics are off (--metrics-listen HOST:PORT turns them on)"


def doctor(settings: Settings, environ: Mapping[str, str] | None = None) -> list[Line]:
    env = os.environ if environ is None else environ
    return [*check_install(settings, env), *check_files(settings, env),
            *check_services(settings), *check_limits(settings)]


def report(lines: list[Line]) -> tuple[str, int]:
    text = "\n".join(f"{mark:<5} {what}" for mark, what in lines)
    fixes = sum(1 for mark, _ in lines if mark == "FIX")
    summary = (f"{fixes} thing(s) to fix before serving." if fixes
               else "Nothing to fix: `bridgechat serve` with these settings should start.")
    return f"{text}\n{summary}", 1 if fixes else 0
