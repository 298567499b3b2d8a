"""A Redis URL, read in one place for both kinds of connection a node opens.

redis-py's pool (every call but the hot path) and the lean connections of
resp.py (a chat message's script, publishing, hearing what is published)
are both built from the `RedisTarget` that `parse_redis_url` returns, so
they reach the same server, as the same user, in the same database, over
the same TLS settings. Accepted:

    redis://[[user]:password@]host[:port][/db][?option=value&...]
    rediss://...            the same over TLS
    unix://[[user]:password@]/path/to/socket[?db=N]

Options (query parameters):

| option | meaning |
| --- | --- |
| db | the database number (else the path of a redis:// URL: /N) |
| ssl_ca_certs | a file of CA certificates to verify the server with (rediss only) |
| ssl_ca_path | a directory of CA certificates (rediss only) |
| ssl_cert_reqs | required (the default), optional or none: whether to verify the server |
| ssl_check_hostname | true (the default) or false: whether the certificate must name the host |
| ssl_certfile, ssl_keyfile | a client certificate and its key, for servers that ask for one |

Anything else is refused by name, at once: redis-py would take an unknown
option and pass it on where the lean connections could not follow.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from redis.asyncio.connection import SSLConnection, UnixDomainSocketConnection

CERT_REQS = {"none": ssl.CERT_NONE, "optional": ssl.CERT_OPTIONAL,
             "required": ssl.CERT_REQUIRED}
TLS_OPTIONS = ("ssl_ca_certs", "ssl_ca_path", "ssl_cert_reqs", "ssl_check_hostname",
               "ssl_certfile", "ssl_keyfile")
OPTIONS = ("db", *TLS_OPTIONS)
_TRUE = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}


class RedisUrlError(ValueError):
    """A Redis URL this node cannot honour on every connection it opens."""


@dataclass(frozen=True, slots=True)
class TlsOptions:
    ca_certs: str | None = None
    ca_path: str | None = None
    cert_reqs: str = "required"
    check_hostname: bool = True
    certfile: str | None = None
    keyfile: str | None = None


@dataclass(frozen=True, slots=True)
class RedisTarget:
    """Where Redis is and how to sign in; `context` is the TLS set-up, None without TLS."""

    host: str = "localhost"
    port: int = 6379
    path: str | None = None  # a unix socket instead of host and port
    db: int = 0
    username: str | None = None
    password: str | None = None
    tls: TlsOptions | None = None
    context: ssl.SSLContext | None = field(default=None, compare=False, repr=False)

    @property
    def where(self) -> str:
        """The server, for messages: never the password."""
        if self.path is not None:
            return f"unix://{self.path} (db {self.db})"
        scheme = "rediss" if self.tls is not None else "redis"
        user = f" as user {self.username!r}" if self.username else ""
        return f"{scheme}://{self.host}:{self.port}/{self.db}{user}"

    def redis_py_kwargs(self) -> dict[str, Any]:
        """The same target, as redis-py's connection pool takes it."""
        kw: dict[str, Any] = {"db": self.db, "username": self.username,
                              "password": self.password}
        if self.path is not None:
            return {**kw, "connection_class": UnixDomainSocketConnection, "path": self.path}
        kw.update(host=self.host, port=self.port)
        if self.tls is not None:
            t = self.tls
            kw.update(connection_class=SSLConnection, ssl_ca_certs=t.ca_certs,
                      ssl_ca_path=t.ca_path, ssl_cert_reqs=t.cert_reqs,
                      ssl_check_hostname=t.check_hostname, ssl_certfile=t.certfile,
                      ssl_keyfile=t.keyfile)
        return kw


def parse_redis_url(url: str) -> RedisTarget:
    """Read a Redis URL; RedisUrlError names whatever in it cannot be honoured."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise RedisUrlError(f"redis URL is not valid: {exc}") from exc
    if parts.scheme not in ("redis", "rediss", "unix"):
        raise RedisUrlError(f"redis URL scheme {parts.scheme!r} is not supported "
                            "(redis://, rediss:// or unix://)")
    query = _options(parts.query)
    tls = parts.scheme == "rediss"
    for name in query:
        if name in TLS_OPTIONS and not tls:
            raise RedisUrlError(f"redis URL option {name!r} needs a rediss:// URL")
    username = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password else None
    if username and not password:
        raise RedisUrlError("redis URL names a user but gives no password")
    db = _db(parts.path if parts.scheme != "unix" else "", query.get("db"))
    if parts.scheme == "unix":
        if not parts.path:
            raise RedisUrlError("redis URL unix:// needs the socket's path")
        return RedisTarget(path=unquote(parts.path), db=db, username=username,
                           password=password)
    options = _tls(query) if tls else None
    return RedisTarget(host=unquote(parts.hostname) if parts.hostname else "localhost",
                       port=port or 6379, db=db, username=username, password=password,
                       tls=options, context=_context(options) if options else None)


def _options(query: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in parse_qsl(query, keep_blank_values=True):
        if name not in OPTIONS:
            raise RedisUrlError(f"redis URL option {name!r} is not supported "
                                f"(supported: {', '.join(OPTIONS)})")
        if name in out:
            raise RedisUrlError(f"redis URL option {name!r} is given twice")
        if not value:
            raise RedisUrlError(f"redis URL option {name!r} has no value")
        out[name] = value
    return out


def _db(path: str, option: str | None) -> int:
    """The database number: the `db` option, else the path (/N), as redis-py reads it."""
    for what, raw in (("option 'db'", option), (f"path {path!r}", unquote(path).strip("/"))):
        if raw:
            if not raw.isdigit():
                raise RedisUrlError(f"redis URL {what} is not a database number")
            return int(raw)
    return 0


def _tls(query: dict[str, str]) -> TlsOptions:
    reqs = query.get("ssl_cert_reqs", "required").lower()
    if reqs not in CERT_REQS:
        raise RedisUrlError(f"redis URL option 'ssl_cert_reqs' must be one of "
                            f"{', '.join(CERT_REQS)}, not {reqs!r}")
    check = query.get("ssl_check_hostname", "true").lower()
    if check not in _TRUE:
        raise RedisUrlError("redis URL option 'ssl_check_hostname' must be true or false")
    if "ssl_keyfile" in query and "ssl_certfile" not in query:
        raise RedisUrlError("redis URL option 'ssl_keyfile' needs 'ssl_certfile' too")
    return TlsOptions(ca_certs=query.get("ssl_ca_certs"), ca_path=query.get("ssl_ca_path"),
                      cert_reqs=reqs, check_hostname=_TRUE[check],
                      certfile=query.get("ssl_certfile"), keyfile=query.get("ssl_keyfile"))


def _context(t: TlsOptions) -> ssl.SSLContext:
    """The lean connections' TLS, set up as redis-py sets up its own from the same options."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = t.check_hostname and t.cert_reqs != "none"
    ctx.verify_mode = CERT_REQS[t.cert_reqs]
    if t.certfile:
        try:
            ctx.load_cert_chain(t.certfile, t.keyfile)
        except (OSError, ssl.SSLError) as exc:
            raise RedisUrlError(f"redis URL options 'ssl_certfile'/'ssl_keyfile': cannot load "
                                f"the client certificate: {exc}") from exc
    if t.ca_certs or t.ca_path:
        try:
            ctx.load_verify_locations(cafile=t.ca_certs, capath=t.ca_path)
        except (OSError, ssl.SSLError) as exc:
            raise RedisUrlError(f"redis URL options 'ssl_ca_certs'/'ssl_ca_path': cannot load "
                                f"the CA certificates: {exc}") from exc
    return ctx
